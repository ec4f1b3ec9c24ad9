#!/usr/bin/env bash
# The decoder-attribute models at 64×64 with the attribute-guidance term (λ per model below),
# trained by train_paper64.sh; then the control sweep of each.
# Logs: results/logs/guided64/; runs: results/runs/guided64/PRESET-gλ (one folder per preset and λ_a).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=results/runs/guided64
LOGS=results/logs/guided64
# PRESET=λ_a:ATTRIBUTES (the attributes swept: those of the five the model has); λ_a with a b: balanced guide
MODELS=${MODELS:-"attr1-decoder=40:Smiling attr1-both=40:Smiling complete-attr40=4:Smiling,Male,Eyeglasses,Blond_Hair,Young complete-attr40=30:Smiling,Male,Eyeglasses,Blond_Hair,Young complete-attr40=10b:Smiling,Male,Eyeglasses,Blond_Hair,Young"}
for spec in $MODELS; do
  p=${spec%%=*}; rest=${spec#*=}; lambda=${rest%%:*}; attrs=${rest#*:}
  run=$p-g$lambda
  # λ ending in b (e.g. 10b): the class-balanced guide
  args="--attribute-guidance ${lambda%b}"; [[ $lambda == *b ]] && args="$args --attribute-guide balanced"
  PRESETS=$p RUN_SUFFIX=-g$lambda RUNS=$RUNS LOGS=$LOGS TAG=train_guided64 TRAIN_ARGS="$args" scripts/train_paper64.sh
  [ -f "$RUNS/$run-sweep/control.json" ] && continue  # swept already (a rerun resumes where it stopped)
  npx tsx src/cli/main.ts sweep --checkpoint "$RUNS/$run" --attributes "$attrs" --samples 100 --seed 0 \
    --out "$RUNS/$run-sweep" > "$LOGS/sweep-$run.log" 2>&1 || echo "sweep of $run failed (see its log)"
  cp "$RUNS/$run-sweep/control.json" "$LOGS/sweep-$run.control.json" || true
done
