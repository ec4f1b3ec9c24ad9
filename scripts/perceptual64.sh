#!/usr/bin/env bash
# The perceptual-term experiment at 64×64 (10 epochs, seed 0, the 7,200 training faces), resumable:
#   1. the λ = 0 twins (scripts/train_paper64.sh's command: results/runs/paper64/PRESET);
#   2. the λ_l sweep: 200-step fine-tunes of the vae-partial twin (scripts/lambda_sweep64.ts),
#      which picks λ_l by rule (results/logs/perceptual64/chosen-lambda.json);
#   3. each preset trained from scratch with the chosen term (results/runs/perceptual64/PRESET-perc);
#   4. Table 1 of twins and perceptual models, and side-by-side figures (scripts/perceptual64_results.ts).
# PRESETS: the presets of steps 1 and 3 (default: the two no-attribute rows).
set -euo pipefail
cd "$(dirname "$0")/.."
PRESETS=${PRESETS:-"vae-partial vae-complete"}
LOGS=results/logs/perceptual64
mkdir -p "$LOGS"
log() { echo "[perceptual64] $(date -u +%FT%TZ) $*"; }
filter() { stdbuf -oL tr "\r" "\n" | grep --line-buffered -v "^\s*$" | awk "NR % 20 == 1 || !/ms\\/step/ { print; fflush() }"; }
log "twin vae-partial"; PRESETS=vae-partial scripts/train_paper64.sh
log "sweep"; npx tsx scripts/lambda_sweep64.ts results/runs/paper64/vae-partial 200 300 2>&1 | filter >> "$LOGS/lambda-sweep.log"
FLAG=$(node -e "console.log(require('./$LOGS/chosen-lambda.json').flag)")
log "chosen --lambda $FLAG"
for p in $PRESETS; do
  log "twin $p"; PRESETS=$p scripts/train_paper64.sh
  log "perceptual $p"
  npx tsx src/cli/main.ts train --preset "$p" --size 64 --epochs 10 --feature-net mobilenetv2 --lambda "$FLAG" --seed 0 \
    --run "results/runs/perceptual64/$p-perc" 2>&1 | filter >> "$LOGS/$p-perc.log"
done
log "results"; npx tsx scripts/perceptual64_results.ts $PRESETS 2>&1 | filter >> "$LOGS/results.log"
log done
