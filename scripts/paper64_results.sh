#!/usr/bin/env bash
# After scripts/train_paper64.sh: Table 1 (64×64, the paper's rows + extras present), the Gibbs
# chain of every model on held-out faces (z = μ and z ~ q), and the attribute sweeps with control
# rates. Figures → results/figures/paper64/, tables → results/table1/, logs → results/logs/paper64/.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-results/runs/paper64}
LOGS=${LOGS:-results/logs/paper64}
FIG=${FIG:-results/figures/paper64}
WORK=${WORK:-results/runs/paper64-outputs}   # git-ignored: thousands of PNGs
ATTRS=${CELEBA_DIR:-../shared/celeba}/list_attr_celeba.txt
CHAIN_IMAGES=${CHAIN_IMAGES:-200}
SWEEP_SAMPLES=${SWEEP_SAMPLES:-100}
SWEEP_EPOCH1=${SWEEP_EPOCH1:-complete-attr40}   # runs whose epoch-1 model is swept too
STAGES=${STAGES:-"chain table1 sweep"}
mkdir -p "$LOGS" "$FIG" "$WORK"
vii() { npx tsx src/cli/main.ts "$@"; }
log() { stdbuf -oL tr '\r' '\n' | grep --line-buffered -v '^\s*$' > "$1"; }

[ -d "$WORK/heldout" ] || npx tsx scripts/link_heldout.ts "$WORK/heldout"

if [[ " $STAGES " == *" chain "* ]]; then
  pairs=()
  for dir in "$RUNS"/*/; do
    p=$(basename "$dir")
    [ -f "$dir/latest.json" ] || continue
    for latent in mean sample; do
      pairs+=("$p (z ${latent})=$LOGS/chain-$p-$latent.run.json")
      # A chain already measured on this checkpoint is kept (rerun with FORCE=1).
      if [ -z "${FORCE:-}" ] && [ -f "$LOGS/chain-$p-$latent.run.json" ] && node -e "const p=require('path'),f=require('fs');const r=require(p.resolve(process.argv[1]));const d=p.resolve(process.argv[2]);process.exit(f.realpathSync(r.checkpoint)===f.realpathSync(p.join(d,require(p.join(d,'latest.json')).checkpoint))?0:1)" "$LOGS/chain-$p-$latent.run.json" "$dir"; then continue; fi
      vii complete --checkpoint "$dir" --images "$WORK/heldout" --out "$WORK/complete/$p-$latent" --limit "$CHAIN_IMAGES" \
        --latent "$latent" --method gibbs --steps 10 --attrs "$ATTRS" 2>&1 | log "$LOGS/chain-$p-$latent.log"
      cp "$WORK/complete/$p-$latent/run.json" "$LOGS/chain-$p-$latent.run.json"
    done
  done
  npx tsx scripts/chain_figure.ts "$FIG" chain-64 "${pairs[@]}" 2>&1 | tee "$LOGS/chain-figure.log"
fi

if [[ " $STAGES " == *" table1 "* ]]; then
  vii table1 --runs "$RUNS" --size 64 --out results/table1/table1-64 2>&1 | log "$LOGS/table1-64.log"
fi

if [[ " $STAGES " == *" sweep "* ]]; then
  for dir in "$RUNS"/*/; do
    p=$(basename "$dir")
    [ -f "$dir/latest.json" ] || continue
    attrs=$(node -e "const p=require('path'),d=p.resolve(process.argv[1]);const c=require(p.join(d,require(p.join(d,'latest.json')).checkpoint,'config.json')).model;console.log(['Smiling','Male','Eyeglasses','Blond_Hair','Young'].filter(a=>c.attributes.includes(a)).join(','))" "$dir")
    [ -n "$attrs" ] || continue
    ckpts=("")
    [[ " $SWEEP_EPOCH1 " == *" $p "* ]] && ckpts+=(epoch-1)
    for ckpt in "${ckpts[@]}"; do
      tag=$p${ckpt:+-$ckpt}
      vii sweep --checkpoint "$dir$ckpt" --attributes "$attrs" --samples "$SWEEP_SAMPLES" --seed 0 --out "$WORK/sweeps/$tag" 2>&1 | log "$LOGS/sweep-$tag.log"
      cp "$WORK/sweeps/$tag/control.json" "$LOGS/sweep-$tag.control.json"
      for g in sweep-grid completion-grid; do [ -f "$WORK/sweeps/$tag/$g.png" ] && cp "$WORK/sweeps/$tag/$g.png" "$FIG/$g-$tag.png"; done
    done
  done
fi
echo "[paper64_results] done $(date -u +%FT%TZ)"
