#!/usr/bin/env bash
# Guidance on forced completions (ModelConfig.guidanceOn = completion) against guidance on decoded
# images, as two equal fine-tunes of the shipped Cropped + 1 attribute (E + D) + guidance model
# (λ_a = 40, 10 epochs), then both swept (Smiling forced off | on, 100 held-out pairs) under the
# pretrained judge and compared on 900 held-out faces. Resumable; logs in results/logs/guidance-completion64/.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=results/runs/guidance-completion64
LOGS=results/logs/guidance-completion64
mkdir -p "$LOGS" results/figures/guidance-completion64
vii() { npx tsx src/cli/main.ts "$@"; }
quiet() { stdbuf -oL tr '\r' '\n' | grep --line-buffered -v '^\s*$' | awk 'NR % 20 == 1 || !/ms\/step$/ { print; fflush() }'; }
for on in decoded completion; do
  vii train --preset attr1-both --size 64 --feature-net none --attribute-guidance 40 --guidance-on "$on" \
    --init-from models/cropped-attr1-both-guided --epochs 2 --seed 0 --run "$RUNS/ft-$on" 2>&1 | quiet > "$LOGS/train-ft-$on.log"
  vii sweep --checkpoint "$RUNS/ft-$on" --attributes Smiling --samples 100 --seed 0 --judge pretrained \
    --out "$RUNS/ft-$on-sweep" 2>&1 | grep -v "judge features\|judge probes" | quiet > "$LOGS/sweep-ft-$on.log"
  cp "$RUNS/ft-$on-sweep/control.json" "$LOGS/sweep-ft-$on.control.json"
  for g in sweep-grid completion-grid; do cp "$RUNS/ft-$on-sweep/$g.png" "results/figures/guidance-completion64/$g-ft-$on.png"; done
done
COMPARE_LOGS=$LOGS COMPARE_FIGURES=results/figures/guidance-completion64 npx tsx scripts/compare_runs.ts guidance-completion64 "$RUNS/ft-decoded" "$RUNS/ft-completion" 900 2>&1 | quiet > "$LOGS/compare.log"
echo "[guidance_completion64] done $(date -u +%FT%TZ)"
