#!/usr/bin/env bash
# Packs `npm run bench` for a GPU machine with no Node, no node_modules and no network (../shared
# does not travel either): ../shared/gpu/pack.sh's Node + Dawn + Vulkan loader + bundle, plus the
# PyTorch peer script and nsfwjs' MobileNetV2 (the perceptual term). About 35 MB, in .gpu/.
# There, from the project root:  bash .gpu/bench.sh        (env BENCH_* as for npm run bench;
# BENCH_PROFILE=1 adds the per-kernel GPU profile of each webgpu configuration, bench/webgpuProfile.ts)
set -euo pipefail
cd "$(dirname "$0")/.."
out=.gpu
../shared/gpu/pack.sh bench/trainStep.ts "$out"
cp ../shared/bench/torch_vae_step.py "$out/"
mkdir -p "$out/nsfwjs-models"
models=$(node -e "let r=require('path').dirname(require.resolve('nsfwjs'));const fs=require('fs'),p=require('path');while(!fs.existsSync(p.join(r,'dist','models')))r=p.dirname(r);console.log(p.join(r,'dist','models'))")
cp -r "$models/mobilenet_v2" "$out/nsfwjs-models/"
cat > "$out/bench.sh" <<'RUN'
#!/bin/bash
# The bench from the pack: the peer and the MobileNetV2 files come from this folder.
here=$(cd "$(dirname "$0")" && pwd)
export VII_TORCH_PEER="$here/torch_vae_step.py" VII_NSFWJS_MODELS="$here/nsfwjs-models" XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}
exec bash "$here/run.sh" "$@"
RUN
chmod +x "$out/bench.sh"
du -sh "$out"
