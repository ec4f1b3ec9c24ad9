#!/usr/bin/env bash
# Collects the attribute-guided 64×64 runs (scripts/train_guided64.sh) into committed results:
# histories, sweep figures, Table 1 rows of the guided models, and results/guided64.md.
# STAGES="collect table1 summary" (default all).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=results/runs/guided64
LOGS=results/logs/guided64
FIG=results/figures/guided64
STAGES=${STAGES:-"collect table1 summary"}
mkdir -p "$LOGS/history" "$FIG"
if [[ " $STAGES " == *" collect "* ]]; then
  for dir in "$RUNS"/*/; do
    p=$(basename "$dir")
    [ -f "$dir/history.csv" ] && mkdir -p "$LOGS/history/$p" && cp "$dir/history.csv" "$LOGS/history/$p/"
    for g in sweep-grid completion-grid; do [ -f "$RUNS/$p-sweep/$g.png" ] && cp "$RUNS/$p-sweep/$g.png" "$FIG/$g-$p.png"; done
  done
fi
if [[ " $STAGES " == *" table1 "* ]]; then
  models=""
  for dir in "$RUNS"/*/; do
    p=$(basename "$dir"); [ -f "$dir/latest.json" ] || continue
    name=$(npx tsx -e "import { rowName } from './src/lib/models/config'; console.log(rowName('$p'))")
    models="${models:+$models,}$name=$dir"
  done
  npx tsx src/cli/main.ts table1 --models "$models" --size 64 --out results/table1/table1-64-guided 2>&1 | stdbuf -oL tr "\r" "\n" | grep -v "^\s*$" > "$LOGS/table1-64-guided.log"
fi
if [[ " $STAGES " == *" summary "* ]]; then
  RUNS="$LOGS/history" LOGS="$LOGS" TABLE=results/table1/table1-64-guided.md npx tsx scripts/paper64_summary.ts > results/guided64.md
fi
echo "[guided64_results] done"
