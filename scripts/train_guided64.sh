#!/usr/bin/env bash
# The decoder-attribute models at 64×64 with the attribute-guidance term (λ per model below),
# trained by train_paper64.sh; then the control sweep of each.
# Logs: results/logs/guided64/; runs: results/runs/guided64/PRESET.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=results/runs/guided64
LOGS=results/logs/guided64
# PRESET=λ_a:ATTRIBUTES (the attributes swept: those of the five the model has)
MODELS=${MODELS:-"attr1-decoder=40:Smiling complete-attr40=4:Smiling,Male,Eyeglasses,Blond_Hair,Young"}
for spec in $MODELS; do
  p=${spec%%=*}; rest=${spec#*=}; lambda=${rest%%:*}; attrs=${rest#*:}
  PRESETS=$p RUNS=$RUNS LOGS=$LOGS TAG=train_guided64 TRAIN_ARGS="--attribute-guidance $lambda" scripts/train_paper64.sh
  npx tsx src/cli/main.ts sweep --checkpoint "$RUNS/$p" --attributes "$attrs" --samples 100 --seed 0 \
    --out "$RUNS/$p-sweep" > "$LOGS/sweep-$p.log" 2>&1 || echo "sweep of $p failed (see its log)"
  cp "$RUNS/$p-sweep/control.json" "$LOGS/sweep-$p.control.json" || true
done
