#!/usr/bin/env bash
# The all-attribute models' control rates judged by the class-balanced judge (vii sweep --judge
# balanced), and what each classifier sees on held-out faces and their reconstructions
# (scripts/judge_on_decodes.ts). Logs: results/logs/balanced-judge/.
set -euo pipefail
cd "$(dirname "$0")/.."
LOGS=results/logs/balanced-judge
RUN_DIRS=${RUN_DIRS:-"results/runs/paper64/complete-attr40 results/runs/guided64/complete-attr40-g4 results/runs/guided64/complete-attr40-g30 results/runs/guided64/complete-attr40-g10b results/runs/paper64/oneshot-attr40"}
mkdir -p "$LOGS"
npx tsx scripts/judge_on_decodes.ts $RUN_DIRS 2>&1 | tr "\r" "\n" | grep -v "^\s*$\|attribute classifier epoch" > "$LOGS/judge-on-decodes.log"
for dir in $RUN_DIRS; do
  name=$(basename "$dir")
  [ -f "$dir-sweep-balanced/control.json" ] || npx tsx src/cli/main.ts sweep --checkpoint "$dir" --attributes Smiling,Male,Eyeglasses,Blond_Hair,Young \
    --samples 100 --seed 0 --judge balanced --out "$dir-sweep-balanced" > "$LOGS/sweep-$name.log" 2>&1 || echo "sweep of $name failed (see its log)"
  cp "$dir-sweep-balanced/control.json" "$LOGS/sweep-$name.control.json" || true
done
echo "[balanced_judge_sweeps] done"
