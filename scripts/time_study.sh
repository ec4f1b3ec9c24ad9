#!/usr/bin/env bash
# Time `npm run study` with the machine's speed beside it: the PyTorch peer's 64×64 batch-64 step
# (../shared/bench/torch_vae_step.py, or $VII_TORCH_PEER) before and after, in the same log — as
# `npm run bench` runs it (OPENBLAS_NUM_THREADS=1) and as a bare call (OpenBLAS's own threads over
# torch's two oversubscribe the cores: a third of the speed here).
#   scripts/time_study.sh LOG [study flags…]     (run it in a fresh clone for the newcomer's time)
set -euo pipefail
log=${1:?usage: scripts/time_study.sh LOG [study flags…]}
shift
peer=${VII_TORCH_PEER:-$(dirname "$0")/../../shared/bench/torch_vae_step.py}
test -f "$peer" || { echo "time_study: no PyTorch peer at $peer (set VII_TORCH_PEER)" >&2; exit 2; }
python=${VII_PYTHON:-/usr/bin/python3}
peer_run() {
  for i in 1 2 3; do echo "bench convention: $(OPENBLAS_NUM_THREADS=1 "$python" "$peer" 64 64 10 2 | grep RESULT)"; done
  for i in 1 2 3; do echo "bare call: $("$python" "$peer" 64 64 10 2 | grep RESULT)"; done
}
{
  echo "== PyTorch peer before ($(date -u +%FT%TZ), $(nproc) cores)"; peer_run
  echo "== npm run study $*"
  /usr/bin/time -v npm run study -- "$@" 2>&1
  echo "== PyTorch peer after ($(date -u +%FT%TZ))"; peer_run
} > "$log" 2>&1
grep -E "img_per_s|Time by phase|Elapsed" "$log"
