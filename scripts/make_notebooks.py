"""Writes notebooks/*.ipynb (tslab kernel, no outputs) from the cell lists below.
Edit here and rerun `python3 scripts/make_notebooks.py`, or edit the notebooks in Jupyter
(commit them without outputs: `npm run notebooks:strip`)."""
import json
import sys, os

KERNEL = {"display_name": "TypeScript", "language": "typescript", "name": "tslab"}
# tslab only compiles TypeScript under the notebook folder, so src/lib is loaded through tsx.
IMPORTS = """require('tsx/cjs'); // compiles ../src/lib on load
const tf: typeof import('@tensorflow/tfjs') = require('@tensorflow/tfjs');
const nb = require('../src/lib/notebook');
const lib = require('../src/lib/experiments/sections');"""

def md(s): return {"cell_type": "markdown", "metadata": {}, "source": s.strip("\n")}
def code(s): return {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": s.strip("\n")}

NOTEBOOKS = {
"00-data": [
md("""# 00 · Data
**Question:** what does the model see? Which data set is in use (real CelebA or the generated faces),
how are faces cropped, what do the attributes and the masks look like?"""),
code(IMPORTS + """
const { loadFaces } = require('../src/lib/data/dataSource');
const { gatherBatch } = require('../src/lib/data/faceDataset');
const { gridPng } = require('../src/lib/plots/imageGrid');
const { makeMaskBatch, parseMaskSpec } = require('../src/lib/masks');"""),
code("""// Config: change a value and rerun the cells below.
const cfg = nb.sized({ ...lib.DEFAULT_SECTION, size: 64 as 32 | 64, epochs: 0 });
await nb.setup();"""),
code("""const line = nb.liveLine();
const data = await lib.loadSectionData(cfg, line);
line(`${data.images.length} ${data.kind} faces from ${data.root} (${data.origin}); splits ${data.splits.train.length}/${data.splits.val.length}/${data.splits.test.length} (${data.partition})`);"""),
code("""const sample = gatherBatch(data, data.splits.train.slice(0, 16));
nb.showPng(await gridPng(sample.x, { columns: 8, scale: cfg.size < 64 ? 2 : 1 }));"""),
code("""// Attribute frequencies (share of faces with the attribute) as a danfojs table
const dfd = require('danfojs-node');
const n = data.images.length, k = data.attributeNames.length;
const rows = data.attributeNames.map((name, j) => { let s = 0; for (let i = 0; i < n; i++) s += data.attributes[i * k + j]; return { attribute: name, share: s / n }; });
nb.showFrame(new dfd.DataFrame(rows).sortValues('share', { ascending: false }), 40);"""),
code("""// The four mask families (m = 1 observed, white)
const masks = tf.concat(['centre:0.5', 'half:left', 'box:1', 'free:1'].map((s) => makeMaskBatch(parseMaskSpec(s), 4, cfg.size)));
nb.showPng(await gridPng(masks, { columns: 4, scale: 2 }));
tf.dispose([sample.x, sample.y, masks]);"""),
],
"01-latent-vae": [
md("""# 01 · Latent VAE trained on complete images
**Question:** does a perceptual VAE q(z|x) trained on complete faces complete a masked face by
iterative variational Gibbs sampling, x'_{t+1} = m ⊙ x'_t + (1 − m) ⊙ x_t? How do the perceptual
weights λ_l change reconstructions? Change `lambdas` below and rerun: a new run folder is used per λ."""),
code(IMPORTS + """
const { historyFrame } = require('../src/lib/training/history');"""),
code("""const cfg = nb.sized({
  ...lib.DEFAULT_SECTION,
  size: 32 as 32 | 64,
  epochs: 10,
  latentDim: 128,
  beta: 1,
  // λ_l per MobileNetV2 layer (0 disables a layer)
  lambdas: { Conv1_relu: 0.01, block_3_expand_relu: 0.01, block_6_expand_relu: 0.01, block_13_expand_relu: 0 },
  mask: 'centre:0.5',
  seed: 0,
  dataDir: undefined, // a CelebA-layout folder; undefined: CELEBA_DIR, data/celeba, ../shared/celeba, else synthetic faces
});
await nb.setup();
const data = await lib.loadSectionData(cfg);"""),
code("""// Trains, or resumes from the last checkpoint, or loads the finished run (live progress below)
const run = await lib.trainPreset(cfg, data, 'vae-complete', nb.liveLine());"""),
code("""const section = await lib.latentVaeSection(cfg, run);
nb.showPlot(section.loss);"""),
code("""nb.showFrame(historyFrame(run.history), 10);"""),
md("""The Gibbs chain on held-out faces: masked L1 of x'_t after each step t, with z = μ and z ~ q.
Each step encodes the current estimate x'_t (observed pixels + the last fill). Does the chain
improve, and when does it stop?"""),
code("""const chain = await lib.gibbsChainSection(cfg, [run]);
nb.showPlot(chain.figure);"""),
md("Reconstructions (top: held-out faces, bottom: decoded μ), prior samples z ~ N(0, I), and a Gibbs chain (rows: truth, masked, x'_1, x'_3, x'_10)."),
code("""nb.showPng(section.grids.reconstructions);
nb.showPng(section.grids.samples);
nb.showPng(section.grids.gibbs);
nb.showText(section.exported.map((e) => e.files.join(', ')).join('\\n'));"""),
md("""## Turn λ_l in minutes: fine-tune a trained model
Training from scratch with other λ_l takes as long as the first model did. Instead, fine-tune a
trained model for a few hundred steps with the new λ_l (a fresh Adam from its weights, no KL
warm-up) and compare before | after on the same held-out faces, holes and z: masked L1, hole
sharpness (the fill's fine detail over the photograph's; 1 = as sharp), the Fréchet substitute on
nsfwjs' InceptionV3 (not the loss network), PD. At 64×64, 200 steps take about 3 min on 2 CPU
cores (`results/logs/perceptual64/lambda-sweep.log`). `parent` may be any trained run folder, e.g.
the shipped `models/cropped-no-attr` or a run of `vii run configs/paper64.json`; the same λ and steps reload
the finished fine-tune."""),
code("""const tune = {
  parent: run.runDir as string, // the model trained above, or any trained run folder
  lambdas: { Conv1_relu: 0.01, block_3_expand_relu: 0.01, block_6_expand_relu: 0.01, block_13_expand_relu: 0 },
  steps: nb.TINY ? 2 : 200,
  images: nb.TINY ? 10 : 200, // held-out faces of the comparison
};
const ft = require('../src/lib/experiments/fineTune');
const { resolveInitFrom } = require('../src/lib/training/trainer');
const tuneData = await ft.runData(resolveInitFrom(tune.parent).meta);
const parentModel = require('../src/lib/weights/loadModel').loadTrainedModel(tune.parent).model;
const tuned = await ft.fineTune({ parent: tune.parent, lambdas: tune.lambdas, steps: tune.steps, runDir: ft.fineTuneRunDir(tune.parent, tune.lambdas, tune.steps), data: tuneData, onLine: nb.liveLine() });
const pair = [{ name: 'before (parent)', model: parentModel }, { name: `after (${tune.steps} steps, λ_l above)`, model: tuned.model }];
nb.showTable((await ft.quickCompare(pair, tuneData, { images: tune.images, onLine: nb.liveLine() })).table);"""),
md("Before | after on the same faces: completions (truth, masked input, before, after), reconstructions (truth, before, after), prior samples from the same z (before, after)."),
code("""const grids = await ft.comparisonGrids(pair, tuneData, { count: 8 });
for (const [name, png] of Object.entries(grids)) { nb.showText(name); nb.showPng(png); }
parentModel.dispose();"""),
],
"02-partial-observation": [
md("""# 02 · Partial observation and one-shot completion
**Question:** is it better to train on masked faces, q(z|x'), or to train the one-shot "unmasked
recon" model whose decoder also sees x' and whose Gibbs iterations run at training time?
Compare completions under four mask families and the diversity of several samples."""),
code(IMPORTS + """
const { lossCurves } = require('../src/lib/plots/plotly');"""),
code("""const cfg = nb.sized({ ...lib.DEFAULT_SECTION, size: 32 as 32 | 64, epochs: 10, mask: 'centre:0.5', seed: 0, dataDir: undefined });
await nb.setup();
const data = await lib.loadSectionData(cfg);"""),
code("""const line = nb.liveLine();
const runs = [];
for (const preset of ['vae-complete', 'vae-partial', 'oneshot-unmasked-recon']) runs.push(await lib.trainPreset(cfg, data, preset, line));"""),
code("""nb.showPlot(lossCurves(runs.map((r) => ({ name: r.modelConfig.name, history: r.history }))));"""),
md("""Gibbs chains of the three models (masked L1 of x'_t after each step t, held-out faces, z = μ and
z ~ q). The masked models' encoder sees the filled estimate with the mask channel at every step."""),
code("""const chain = await lib.gibbsChainSection(cfg, runs);
nb.showPlot(chain.figure);"""),
md("Rows: truth, masked input, then vae-complete (Gibbs), vae-partial (Gibbs), one-shot (single pass)."),
code("""const section = await lib.partialObservationSection(cfg, runs);
for (const [name, png] of Object.entries(section.grids)) { nb.showText(name); nb.showPng(png); }"""),
md("""## Try it: the completion explorer
Draw a hole on a held-out face with the mouse (or pick a mask), step or play the Gibbs chain of the
masked model (z = μ or sampled; masked L1 against the photograph after each step), draw K samples,
upload a photograph of your own, download the figure. The same page as a folder:
`npx vii explore --checkpoint RUN --out page/`."""),
code("""await nb.explorer(runs[1]); // vae-partial; runs[2] is the one-shot model"""),
],
"03-attribute-placement": [
md("""# 03 · Attribute placement
**Question:** where should the 40 CelebA attributes y enter: the encoder q(z|x', y), the decoder
p(x|z, y), or both? With y in the decoder, the same z decoded with different y edits the face
(paper Figure 6): each row below is one z; columns switch one attribute off/on. y modulates every
decoder block (FiLM). The control rate is how often the attribute classifier judges the "off"
image off and the "on" image on (chance ≈ 0.25), for decoded prior samples and for completions of
held-out faces with the attribute forced."""),
code(IMPORTS),
code("""// attributeGuidance (λ_a): 0 trains as the paper; > 0 (e.g. 40) adds the guide-classifier term to the
// models with y in the decoder, which then follow y far more often (README: Attribute control)
// judge: 'plain' (as in results/) or 'balanced' (trained with each attribute's positives and negatives
// weighted equally; the plain one never says "glasses", even on photographs)
const cfg = nb.sized({ ...lib.DEFAULT_SECTION, size: 32 as 32 | 64, epochs: 10, seed: 0, attributeGuidance: 0, judge: 'plain' as 'plain' | 'balanced', dataDir: undefined });
// The paper's attribute rows, then the all-attribute placement ablations
const presets = ['complete-attr40', 'oneshot-attr40', 'attr1-encoder', 'attr1-decoder', 'attr1-both', 'attr40-encoder', 'attr40-decoder', 'attr40-both'];
const sweepAttributes = ['Smiling', 'Male', 'Eyeglasses', 'Blond_Hair', 'Young'];
await nb.setup();
const data = await lib.loadSectionData(cfg);"""),
code("""const line = nb.liveLine();
const runs = [];
for (const p of presets) runs.push(await lib.trainPreset(cfg, data, p, line));"""),
code("""const section = await lib.attributeSection(cfg, runs, sweepAttributes, nb.liveLine());
for (const [name, png] of Object.entries(section.grids)) { nb.showText(name); nb.showPng(png); }"""),
code("""// Control rate per model and attribute: decoder sweep (same z) / forced completion
nb.showTable(lib.controlTable(section.control, sweepAttributes));"""),
],
"04-metrics": [
md("""# 04 · Metrics: Table 1
**Question:** how do the eight models compare on held-out faces (centre hole), next to the real
images and the classical OpenCV Telea inpainting? Every substitute metric is named as such in the
caption (AS ≠ Inception score, PD ≠ LPIPS, unless you give the real networks)."""),
code(IMPORTS + """
const { PAPER_ROWS } = require('../src/lib/models/config');"""),
code("""// frechet: Table 1's Fréchet columns (InceptionV3 features of every completion and prior sample; minutes on a CPU)
const cfg = nb.sized({ ...lib.DEFAULT_SECTION, size: 32 as 32 | 64, epochs: 10, seed: 0, evalImages: 300, frechet: true, dataDir: undefined });
await nb.setup();
const data = await lib.loadSectionData(cfg);"""),
code("""// Trains what the earlier notebooks did not (same run folders), then evaluates
const line = nb.liveLine();
const presets = Object.keys(PAPER_ROWS); // add 'attr40-encoder', 'attr40-decoder', 'attr40-both' for the ablations
for (const p of presets) lib.disposeRun(await lib.trainPreset(cfg, data, p, line));
const metrics = await lib.metricsSection(cfg, data, presets.map((p) => ({ name: p, runDir: lib.runDirFor(cfg, p) })), line);"""),
code("""nb.showTable(metrics.table);
nb.showPlot(metrics.figures.ssim);
nb.showPlot(metrics.figures.perceptual);"""),
],
}

# The generator is the notebooks' one source: test/notebooks.test.ts checks notebooks/ equals its output.
out = sys.argv[1] if len(sys.argv) > 1 else "notebooks"
os.makedirs(out, exist_ok=True)
for name, cells in NOTEBOOKS.items():
    nbj = {"cells": cells, "metadata": {"kernelspec": KERNEL, "language_info": {"name": "typescript", "file_extension": ".ts"}}, "nbformat": 4, "nbformat_minor": 5}
    for i, c in enumerate(nbj["cells"]):
        c["id"] = f"{name}-{i}"
    with open(os.path.join(out, f"{name}.ipynb"), "w") as f:
        json.dump(nbj, f, indent=1)
        f.write("\n")
    print("wrote", name)
