#!/bin/bash
# The shipped guided model's forced completions at strengths 1, 1.5, 2, both holes, 100 pairs, the shipped judge.
cd /work/main
L=results/logs/judge/strength
for hole in centre mouth; do
  mask=$([ $hole = centre ] && echo centre:0.5 || echo rect:0.62,0.25,0.3,0.5)
  for s in 1 1.5 2; do
    out=results/runs/strength-$hole-$s
    echo "## $hole hole ($mask), --strength $s" >> $L/sweeps.log
    echo "\$ vii sweep --model cropped-attr1-both-guided --attributes Smiling --samples 100 --mask $mask --strength $s --out $out" >> $L/sweeps.log
    node bin/vii.js sweep --model cropped-attr1-both-guided --attributes Smiling --samples 100 --mask $mask --strength $s --out $out 2>/dev/null >> $L/sweeps.log
    cp $out/completion-grid.png $L/completion-grid-$hole-$s.png
    echo >> $L/sweeps.log
  done
done
echo done >> $L/jobs.done
