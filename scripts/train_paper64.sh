#!/usr/bin/env bash
# Trains the paper's Table 1 model rows at 64×64 on the real CelebA subset (../shared/celeba or
# $CELEBA_DIR), 10 epochs each, one after another; a rerun resumes each from its newest checkpoint.
# Logs: $LOGS/PRESET.log; runs: $RUNS/PRESET (epoch-1/ kept). TRAIN_ARGS adds `vii train` flags
# (train_guided64.sh passes --attribute-guidance λ this way); RUN_SUFFIX is appended to each run's name.
set -euo pipefail
cd "$(dirname "$0")/.."
EPOCHS=${EPOCHS:-10}
PRESETS=${PRESETS:-"vae-partial vae-complete attr1-decoder complete-attr40 attr1-both attr1-encoder oneshot-unmasked-recon oneshot-attr40"}
RUNS=${RUNS:-results/runs/paper64}
LOGS=${LOGS:-results/logs/paper64}
TAG=${TAG:-train_paper64}
mkdir -p "$LOGS"
for p in $PRESETS; do
  echo "[$TAG] $(date -u +%FT%TZ) $p ${TRAIN_ARGS:-}"
  # shellcheck disable=SC2086 # TRAIN_ARGS is a list of flags
  npx tsx src/cli/main.ts train --preset "$p" --size 64 --epochs "$EPOCHS" --feature-net none --seed 0 ${TRAIN_ARGS:-} \
    --run "$RUNS/$p${RUN_SUFFIX:-}" 2>&1 | stdbuf -oL tr "\r" "\n" | grep --line-buffered -v "^\s*$" | awk "NR % 20 == 1 || !/ms\\/step/ { print; fflush() }" >> "$LOGS/$p${RUN_SUFFIX:-}.log"
done
echo "[$TAG] $(date -u +%FT%TZ) done"
