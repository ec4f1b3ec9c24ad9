"""Drives live tslab kernels through jupyter_client, cell by cell, as a researcher does in Jupyter.

    live_kernel.py REPORT.json NOTEBOOK.ipynb [NOTEBOOK.ipynb ...]

For each notebook: run every code cell once, then every cell after the first (the imports) three
more times, reading tf.memory().numTensors and the RSS after each pass; then a cell showing five large
PNGs run 150 times (tslab drops a message when two sends overlap: without the library's send queue
this cell got its reply in only 71 runs); then a cell with a forgotten `await` on a failing
promise, and a check that the kernel still answers. While the first kernel still holds what it made,
a second kernel runs the same notebook once (no lock may stop it). Writes a JSON report;
test/notebooks.test.ts asserts on it. Needs the tslab kernel spec on
JUPYTER_PATH (scripts/run_notebooks.sh's private prefix, or `npm run kernel:install`).
"""
import json
import os
import sys
import time

import jupyter_client

# RSS after a full collection (the kernel runs with --expose-gc): what is held, not what V8 has yet to collect.
PROBE = "(globalThis as any).gc?.(); (globalThis as any).gc?.(); console.log('VII_PROBE ' + JSON.stringify({ tensors: tf.memory().numTensors, rss: process.memoryUsage().rss }));"


def start(cwd):
    env = dict(os.environ, NODE_OPTIONS=(os.environ.get("NODE_OPTIONS", "") + " --expose-gc").strip())
    km, kc = jupyter_client.manager.start_new_kernel(kernel_name="tslab", cwd=cwd, env=env)
    return km, kc


def run(kc, code, timeout=1800):
    out = {"status": None, "errors": [], "streams": []}

    def hook(msg):
        t, c = msg["msg_type"], msg["content"]
        if t == "stream":
            out["streams"].append(c["text"])
        elif t == "error":
            out["errors"].append(f"{c['ename']}: {c['evalue']}")

    reply = kc.execute_interactive(code, timeout=timeout, output_hook=hook, stop_on_error=False)
    out["status"] = reply["content"]["status"]
    if out["status"] != "ok":
        # tslab drops requests for 200 ms after a failed cell (its queue reset): wait it out.
        time.sleep(0.5)
        if not out["errors"]:
            out["errors"] = ["".join(out["streams"])[-2000:]]
    return out


def probe(kc):
    r = run(kc, PROBE)
    for s in r["streams"]:
        for line in s.splitlines():
            if line.startswith("VII_PROBE "):
                return json.loads(line[len("VII_PROBE "):])
    raise RuntimeError(f"probe failed: {r}")


# Five ~0.8 MB PNGs of noise (incompressible) per run, shown through the library as a figures cell does.
IMAGES_SETUP = (
    "const viiNoise = Buffer.alloc(512 * 512 * 3); let viiX = 7; for (let i = 0; i < viiNoise.length; i++) { viiX ^= viiX << 13; viiX ^= viiX >>> 17; viiX ^= viiX << 5; viiNoise[i] = viiX & 255; }"
    " const viiNoisePng: Uint8Array = await require('sharp')(viiNoise, { raw: { width: 512, height: 512, channels: 3 } }).png().toBuffer();"
    " console.log('VII_PNG_BYTES ' + viiNoisePng.length);"
)
IMAGES_CELL = "for (let i = 0; i < 5; i++) vii.showPng(viiNoisePng);"
IMAGE_RUNS = 150


def image_reruns(kc):
    """How many of IMAGE_RUNS runs of an image-heavy cell got their reply and idle status."""
    if run(kc, IMAGES_SETUP)["status"] != "ok":
        return 0
    for k in range(IMAGE_RUNS):
        try:
            if run(kc, IMAGES_CELL, timeout=60)["status"] != "ok":
                return k
        except TimeoutError:
            return k
    return IMAGE_RUNS


def cells(path):
    nb = json.load(open(path))
    return ["".join(c["source"]) if isinstance(c["source"], list) else c["source"] for c in nb["cells"] if c["cell_type"] == "code"]


def drive(path, cwd, reruns=3):
    code = cells(path)
    km, kc = start(cwd)
    report = {"notebook": path, "passes": [], "failures": []}
    try:
        for p in range(1 + reruns):
            for i, c in enumerate(code):
                if p > 0 and i == 0:
                    continue
                r = run(kc, c)
                if r["status"] != "ok":
                    report["failures"].append({"pass": p, "cell": i, "errors": r["errors"]})
            report["passes"].append(probe(kc))
        report["image_reruns"] = [image_reruns(kc), IMAGE_RUNS]
        # A forgotten await on a failing promise must not take the kernel (and its state) down.
        run(kc, "Promise.reject(new Error('a forgotten await')); 'sent';")
        time.sleep(2)
        report["alive_after_rejection"] = km.is_alive() and run(kc, "console.log('VII_ALIVE ' + (40 + 2));")["streams"] == ["VII_ALIVE 42\n"]
        # The library is imported with its types: a wrong argument is a compile error in the cell.
        typed = run(kc, "vii.showText(42);")
        report["type_error_caught"] = typed["status"] == "error" and "not assignable" in " ".join(typed["errors"] + typed["streams"])
        # A second kernel runs the same notebook while the first still holds its runs.
        km2, kc2 = start(cwd)
        try:
            second = [run(kc2, c) for c in code]
            report["second_kernel_failures"] = [{"cell": i, "errors": r["errors"]} for i, r in enumerate(second) if r["status"] != "ok"]
        finally:
            kc2.stop_channels()
            km2.shutdown_kernel(now=True)
        report["first_alive_at_end"] = km.is_alive()
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    return report


if __name__ == "__main__":
    out, notebooks = sys.argv[1], sys.argv[2:]
    reports = [drive(nb, cwd="notebooks") for nb in notebooks]
    json.dump(reports, open(out, "w"), indent=1)
    print(json.dumps(reports, indent=1)[:4000])
