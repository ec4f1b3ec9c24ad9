#!/usr/bin/env bash
# The decoder-attribute models at 64×64 with the attribute-guidance term (λ per model below), 10
# epochs on the real CelebA subset, as train_paper64.sh; then the control sweep of each.
# Logs: results/logs/guided64/; runs: results/runs/guided64/PRESET.
set -euo pipefail
cd "$(dirname "$0")/.."
EPOCHS=${EPOCHS:-10}
# PRESET=λ_a:ATTRIBUTES (the attributes swept: those of the five the model has)
MODELS=${MODELS:-"attr1-decoder=40:Smiling complete-attr40=4:Smiling,Male,Eyeglasses,Blond_Hair,Young"}
mkdir -p results/logs/guided64
for spec in $MODELS; do
  p=${spec%%=*}; rest=${spec#*=}; lambda=${rest%%:*}; attrs=${rest#*:}
  echo "[train_guided64] $(date -u +%FT%TZ) $p λ_a=$lambda"
  npx tsx src/cli/main.ts train --preset "$p" --size 64 --epochs "$EPOCHS" --feature-net none --seed 0 --attribute-guidance "$lambda" \
    --run "results/runs/guided64/$p" 2>&1 | stdbuf -oL tr "\r" "\n" | grep --line-buffered -v "^\s*$" | awk "NR % 20 == 1 || !/ms\\/step/ { print; fflush() }" >> "results/logs/guided64/$p.log"
  npx tsx src/cli/main.ts sweep --checkpoint "results/runs/guided64/$p" --attributes "$attrs" --samples 100 --seed 0 \
    --out "results/runs/guided64/$p-sweep" > "results/logs/guided64/sweep-$p.log" 2>&1 || echo "sweep of $p failed (see its log)"
  cp "results/runs/guided64/$p-sweep/control.json" "results/logs/guided64/sweep-$p.control.json" || true
done
echo "[train_guided64] $(date -u +%FT%TZ) done"
