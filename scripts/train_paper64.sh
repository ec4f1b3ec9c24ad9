#!/usr/bin/env bash
# Trains the paper's Table 1 model rows at 64×64 on the real CelebA subset (../shared/celeba or
# $CELEBA_DIR), 10 epochs each, one after another; a rerun resumes each from its newest checkpoint.
# Logs: results/logs/paper64/PRESET.log; runs: results/runs/paper64/PRESET (epoch-1/ kept).
set -euo pipefail
cd "$(dirname "$0")/.."
EPOCHS=${EPOCHS:-10}
PRESETS=${PRESETS:-"vae-partial vae-complete attr1-decoder complete-attr40 attr1-both attr1-encoder oneshot-unmasked-recon oneshot-attr40"}
mkdir -p results/logs/paper64
for p in $PRESETS; do
  echo "[train_paper64] $(date -u +%FT%TZ) $p"
  npx tsx src/cli/main.ts train --preset "$p" --size 64 --epochs "$EPOCHS" --feature-net none --seed 0 \
    --run "results/runs/paper64/$p" 2>&1 | stdbuf -oL tr "\r" "\n" | grep --line-buffered -v "^\s*$" | awk "NR % 20 == 1 || !/ms\\/step/ { print; fflush() }" >> "results/logs/paper64/$p.log"
done
echo "[train_paper64] $(date -u +%FT%TZ) done"
