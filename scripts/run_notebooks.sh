#!/usr/bin/env bash
# Execute every notebook headless with the tslab kernel into results/notebooks/ (HTML + ipynb).
# VII_TINY=1 shrinks them to smoke runs. Needs Jupyter (see environment.md) and `npm run kernel:install`.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${VII_NOTEBOOK_OUT:-results/notebooks}
mkdir -p "$OUT"
JUPYTER=${JUPYTER:-jupyter}
if ! $JUPYTER kernelspec list 2>/dev/null | grep -q '^ *tslab '; then
  echo "tslab kernel not registered: run npm run kernel:install" >&2
  exit 2
fi
# A kernel registered from another checkout (since moved or deleted) fails deep inside nbconvert.
TSLAB_BIN=$($JUPYTER kernelspec list --json | /usr/bin/python3 -c 'import json,sys; print(json.load(open(json.load(sys.stdin)["kernelspecs"]["tslab"]["resource_dir"] + "/kernel.json"))["argv"][0])')
if [ ! -x "$TSLAB_BIN" ]; then
  echo "the registered tslab kernel runs $TSLAB_BIN, which does not exist: run npm run kernel:install in this checkout" >&2
  exit 2
fi
for nb in notebooks/[0-9]*.ipynb; do
  name=$(basename "$nb" .ipynb)
  echo "== $name"
  $JUPYTER nbconvert --to notebook --execute --ExecutePreprocessor.kernel_name=tslab --ExecutePreprocessor.timeout=${VII_CELL_TIMEOUT:-3600} --output-dir "$OUT" --output "$name" "$nb"
  $JUPYTER nbconvert --to html --output-dir "$OUT" "$OUT/$name.ipynb" >/dev/null 2>&1
done
echo "executed notebooks in $OUT"
