#!/bin/bash
# The shipped guided model's forced centre-hole completions at strengths 1, 1.25, 1.5, 2 and mouth-hole at 1, 1.5,
# 300 held-out pairs (the 100-pair sweeps' standard error is ±0.045), the shipped judge.
cd "$(dirname "$0")/../../../.."
L=results/logs/judge/strength
: > $L/sweeps300.log
for run in centre:1 centre:1.25 centre:1.5 centre:2 mouth:1 mouth:1.5; do
  hole=${run%%:*}; s=${run##*:}
  mask=$([ $hole = centre ] && echo centre:0.5 || echo rect:0.62,0.25,0.3,0.5)
  out=results/runs/strength300-$hole-$s
  echo "## $hole hole ($mask), --strength $s" >> $L/sweeps300.log
  echo "\$ vii sweep --model cropped-attr1-both-guided --attributes Smiling --samples 300 --mask $mask --strength $s --out $out" >> $L/sweeps300.log
  node bin/vii.js sweep --model cropped-attr1-both-guided --attributes Smiling --samples 300 --mask $mask --strength $s --out $out 2>/dev/null >> $L/sweeps300.log
  echo >> $L/sweeps300.log
done
