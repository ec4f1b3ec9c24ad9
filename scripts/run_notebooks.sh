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
failed=0
for nb in notebooks/[0-9]*.ipynb; do
  name=$(basename "$nb" .ipynb)
  echo "== $name"
  # tslab reports a cell's error only as its stderr text (nbconvert would print a bare "<Error>: "):
  # run every cell, then name the failed ones with their error line below.
  $JUPYTER nbconvert --to notebook --execute --ExecutePreprocessor.allow_errors=True --ExecutePreprocessor.kernel_name=tslab --ExecutePreprocessor.timeout=${VII_CELL_TIMEOUT:-3600} --output-dir "$OUT" --output "$name" "$nb"
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
  /usr/bin/python3 - "$OUT/$name.ipynb" <<'PY' || failed=1
import json, re, sys
path = sys.argv[1]
bad = []
for i, cell in enumerate(json.load(open(path))["cells"]):
    for o in cell.get("outputs", []):
        text = "".join(o.get("text", "")) if o.get("output_type") == "stream" and o.get("name") == "stderr" else ""
        # A thrown error (Name: message) or a compile error (line:col - message), as tslab prints them.
        m = re.search(r"^(\w*Error\b.*|\d+:\d+ - .*)$", text, re.M)
        if m:
            bad.append(f"{path} cell {i}: {m.group(1)[:500]}")
for b in bad:
    print(b, file=sys.stderr)
sys.exit(1 if bad else 0)
PY
  $JUPYTER nbconvert --to html --output-dir "$OUT" "$OUT/$name.ipynb" >/dev/null 2>&1
done
echo "executed notebooks in $OUT"
exit $failed
