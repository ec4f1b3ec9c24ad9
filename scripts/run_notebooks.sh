#!/usr/bin/env bash
# Execute every notebook headless with the tslab kernel into results/notebooks/ (HTML + ipynb).
# VII_TINY=1 shrinks them to smoke runs. Needs Jupyter (see environment.md).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${VII_NOTEBOOK_OUT:-results/notebooks}
mkdir -p "$OUT"
JUPYTER=${JUPYTER:-jupyter}
# The tslab kernel of this checkout, registered in a private prefix for this run only: a
# user-level registration may belong to another checkout (CI's clone, since deleted).
PREFIX=$(mktemp -d)
trap 'rm -rf "$PREFIX"' EXIT
node_modules/.bin/tslab install --python=/usr/bin/python3 --binary="$PWD/node_modules/.bin/tslab" --prefix="$PREFIX" >/dev/null
export JUPYTER_PATH="$PREFIX/share/jupyter${JUPYTER_PATH:+:$JUPYTER_PATH}"
for nb in notebooks/[0-9]*.ipynb; do
  name=$(basename "$nb" .ipynb)
  echo "== $name"
  $JUPYTER nbconvert --to notebook --execute --ExecutePreprocessor.kernel_name=tslab --ExecutePreprocessor.timeout=${VII_CELL_TIMEOUT:-3600} --output-dir "$OUT" --output "$name" "$nb"
  # tslab does not report execution counts (the HTML showed "In [ ]:"): number the executed cells in order.
  /usr/bin/python3 - "$OUT/$name.ipynb" <<'PY'
import json, sys
path = sys.argv[1]
nb = json.load(open(path))
n = 0
for cell in nb["cells"]:
    if cell["cell_type"] == "code":
        n += 1
        if cell.get("execution_count") is None:
            cell["execution_count"] = n
json.dump(nb, open(path, "w"), indent=1, ensure_ascii=False)
PY
  $JUPYTER nbconvert --to html --output-dir "$OUT" "$OUT/$name.ipynb" >/dev/null 2>&1
done
echo "executed notebooks in $OUT"
