"""Writes notebooks/*.ipynb (tslab kernel, no outputs) from the cell lists below.
Edit here and rerun `python3 scripts/make_notebooks.py`, or edit the notebooks in Jupyter
(commit them without outputs: `npm run notebooks:strip`)."""
import json
import sys, os

KERNEL = {"display_name": "TypeScript", "language": "typescript", "name": "tslab"}
# One typed entry point: node_modules/vii is src/lib (an npm workspace); 'vii/register' lets Node run its TypeScript.
IMPORTS = """import 'vii/register';
import * as vii from 'vii/notebook';
import * as tf from '@tensorflow/tfjs';
await vii.setup();"""

TRAIN = """// Training what is not trained yet takes hours at 64×64 on a CPU: set train = true to start it (resumable:
// rerun the cell after an interruption). Trained models are used as they are; nothing is retrained.
const train = vii.TINY;
vii.showText(await exp.trainingPlan());
if (train) await exp.train({ onLine: vii.liveLine() });"""

EXPORT = """// Every figure and table of this experiment for the appendix (PNG + PDF + JSON), named by the experiment
// (with its settings hash when overridden) and the runs' settings hashes: another setting never replaces them.
const exported = await vii.exportAppendix(exp);"""

def md(s): return {"cell_type": "markdown", "metadata": {}, "source": s.strip("\n")}
def code(s): return {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": s.strip("\n")}

NOTEBOOKS = {
"00-data": [
md("""# 00 · Data
**Question:** what does the model see? Which data set is in use (real CelebA or the generated faces),
how are faces cropped, what do the attributes and the masks look like?"""),
code(IMPORTS),
code("""// The faces of the paper's 64×64 experiment (VII_TINY=1: 300 faces at 32×32)
const exp = vii.open('configs/paper64.json');
const data = await exp.data(vii.liveLine());
vii.showText(`${data.images.length} ${data.kind} faces from ${data.root} (${data.origin}); splits ${data.splits.train.length}/${data.splits.val.length}/${data.splits.test.length} (${data.partition})`);"""),
code("""vii.showPng(await vii.faceGrid(data, data.splits.train.slice(0, 16)));"""),
code("""// Attribute frequencies (share of faces with the attribute)
vii.showTable(vii.attributeShares(data));"""),
code("""// The mask families (m = 1 observed, white), including the hole over the mouth
vii.showPng(await vii.maskGrid(['centre:0.5', 'half:left', 'box:1', 'free:1', 'rect:0.62,0.25,0.3,0.5'], exp.spec.data.size));"""),
],
"01-latent-vae": [
md("""# 01 · Latent VAE and the perceptual term (`configs/perceptual64.json`)
**Question:** does a VAE q(z|x) complete a masked face by iterative variational Gibbs sampling,
x'_{t+1} = m ⊙ x'_t + (1 − m) ⊙ x_t, and how do the perceptual weights λ_l change its fills?
This notebook opens the committed 64×64 experiment: models trained on complete and on masked faces,
λ_l = 0 against λ_l = 0.01 per MobileNetV2 layer. The models that ship in `models/` are used as they
are; change a λ_l in the overrides and rerun: the changed model gets its own run folder and figures."""),
code(IMPORTS),
code("""// Overrides use `vii run`'s dotted names; a bad key or value is refused here, in one line.
// e.g. 'models.1.model.perceptual.weights.Conv1_relu=0.05' (model 1 is the perceptual cropped model)
const overrides: string[] = [];
const exp = vii.open('configs/perceptual64.json', overrides);"""),
code(TRAIN),
md("""The same first test faces, holes and z for every trained model: completions (rows: truth, masked,
one per model; 10 Gibbs steps, z = μ), reconstructions of the whole face, prior samples z ~ N(0, I)."""),
code("""const gallery = await exp.gallery();
for (const [kind, g] of Object.entries(gallery)) { vii.showText(kind); vii.showPng(g.png); }"""),
md("""The Gibbs chain on held-out faces: masked L1 of x'_t after each step t, z = μ and z ~ q. Does the
chain improve, and when does it stop?"""),
code("""const chain = await exp.chain();
vii.showPlot(chain.figure);"""),
code("""// Training curves of the models trained in this workspace (shipped models keep theirs in results/logs/)
if (exp.trained().some((r) => r.source === 'run')) vii.showPlot((await exp.losses()).figure);"""),
md("""Side by side (the spec's compare pairs): masked L1, hole sharpness (the fill's fine detail over the
photograph's; 1 = as sharp), the Fréchet substitute on nsfwjs' InceptionV3 (not the loss network), PD."""),
code("""for (const c of await exp.compare()) { vii.showMarkdownFile(c.table); vii.showFiles(c.figures); }"""),
md("""## Turn λ_l in minutes: fine-tune a trained model
Training from scratch with other λ_l takes as long as the first model did. Instead, fine-tune model 1
(the perceptual cropped model) for a few hundred steps with the new λ_l — a fresh Adam from its weights,
no KL warm-up — and compare before | after on the same held-out faces, holes and z. The fine-tune is a
spec entry with `train.initFrom`: its run folder is named by its settings, so the same λ and steps
reload it and another λ never replaces it."""),
code("""const tune = await exp.fineTune(1, {
  lambdas: { Conv1_relu: 0.05, block_3_expand_relu: 0.01, block_6_expand_relu: 0.01, block_13_expand_relu: 0.01 },
  steps: vii.TINY ? 2 : 200,
  images: vii.TINY ? 10 : 200, // held-out faces of the comparison
  adversarial: 0, // λ_adv > 0 (e.g. 0.003) adds the patch discriminator's term (below)
});
await tune.train({ onLine: vii.liveLine() });
for (const c of await tune.compare()) { vii.showMarkdownFile(c.table); vii.showFiles(c.figures); }"""),
code(EXPORT + "\nconst exportedTune = await vii.exportAppendix(tune);"),
md("""## Sharper than the perceptual term (`configs/sharp64.json`)
The perceptual model's fills keep about half of a photograph's detail. Two further steps, each a model
setting: the decoder's upsampling (`upsampling`: the paper's transposed convolutions, or resize-convolution,
which cannot leave a stride-2 checkerboard) and an adversarial term (`adversarial` = λ_adv: a patch
discriminator on the completed image). `npx vii run configs/sharp64.json --shipped` trains and compares
them on the 900 test faces; its committed summary is shown here (the runs themselves are not committed)."""),
code("""vii.showMarkdownFile('results/logs/sharp64/summary.md');"""),
],
"02-partial-observation": [
md("""# 02 · Partial observation and one-shot completion (`configs/paper64.json`, its partial-observation rows)
**Question:** is it better to train on complete faces q(z|x), on masked faces q(z|x'), or to train the
one-shot "unmasked recon" model whose decoder also sees x'? Compare their Gibbs chains, completions under
four mask families and the diversity of several samples of one hole."""),
code(IMPORTS),
code("""// paper64's Cropped, Complete and one-shot rows (models 0, 1 and 6)
const exp = vii.open('configs/paper64.json').select([0, 1, 6]);
vii.showTable(exp.status());"""),
code(TRAIN),
code("""const chain = await exp.chain();
vii.showPlot(chain.figure);"""),
md("Rows: truth, masked input, then one completion per trained model, for each mask family."),
code("""for (const mask of ['centre:0.5', 'half:left', 'box:1', 'free:1']) {
  const g = await exp.gallery({ mask, count: 6 });
  vii.showText(mask);
  vii.showPng(g.completions.png);
}"""),
code("""// Eight completions of one hole per model (z ~ q along the chain)
vii.showPng((await exp.diversity(8)).png);"""),
md("""How far to trust each filled pixel: K completions of the same held-out faces by the first trained model.
Rows: truth, masked, the completions' per-pixel mean, their std, and |truth − mean| — std and error on one
colour scale, so where the model is unsure should be where it is wrong. Where the uncertainty stage fitted
an error model for the run (std, the mean's gradient and a position prior, on validation faces), a last row
shows its calibrated σ. Below: how well each ranks and covers the actual errors (a Gaussian's coverage
beside each ±kσ)."""),
code("""const u = await exp.uncertainty({ k: vii.TINY ? 2 : 16 });
vii.showPng(u.png);
vii.showTable(vii.calibrationTable(u.calibration, u.calibrated));"""),
md("""## Try it: the completion explorer
Draw a hole on a held-out face with the mouse (or pick a mask), step or play the Gibbs chain (masked
L1 against the photograph after each step), draw K samples, upload a photograph of your own, download
the figure. The same page as a folder: `npx vii explore --checkpoint RUN --out page/`."""),
code("""const first = exp.trained()[0];
if (first) await vii.explorer(first);"""),
code(EXPORT),
],
"03-attribute-placement": [
md("""# 03 · Attribute control (`configs/guided64.json`)
**Question:** with the attributes y in the decoder, does the same z decoded with another y edit the face
(paper Figure 6), and does a forced y change a completion? Each sweep grid row is one z (or one held-out
face); columns switch one attribute off/on. The control rate is how often the judge calls the "off" image
off and the "on" image on (chance ≈ 0.25), beside the ceilings: real pairs and the real fill of the hole."""),
code(IMPORTS),
code("""// e.g. 'evaluation.mask="rect:0.62,0.25,0.3,0.5"' forces completions of a hole over the mouth;
// 'completion.attributeStrength=S' places forced attributes at 0.5 ± S/2 (default null: each model's own,
// its card's: the shipped guided model forces at 1.5; 1 gives the training labels, the paper's)
const overrides: string[] = [];
const exp = vii.open('configs/guided64.json', overrides);"""),
code(TRAIN),
code("""const control = await exp.sweep();
vii.showTable(vii.controlTable(control, exp.spec.evaluation.sweepAttributes));"""),
code("""// The sweep and forced-completion grids of each swept model
vii.showFiles(vii.figuresOf(exp, /^(sweep|completion)-grid-/));"""),
code(EXPORT),
],
"04-metrics": [
md("""# 04 · Metrics: Table 1 (`configs/paper64.json`)
**Question:** how do the paper's eight models compare on the held-out test faces (centre hole), next to
the real images and the classical OpenCV Telea inpainting? Every substitute metric is named as such in the
caption (AS ≠ Inception score, PD ≠ LPIPS, unless you fetch the real networks: `npx vii weights fetch`).
The table has a row for each model trained here or shipped; the spec's committed table is
`results/table1/paper64.md` when `vii run configs/paper64.json` has made it."""),
code(IMPORTS),
code("""const overrides: string[] = []; // e.g. 'evaluation.images=200' for a quicker table
const exp = vii.open('configs/paper64.json', overrides);"""),
code(TRAIN),
code("""vii.showMarkdownFile(await exp.table1());"""),
code(EXPORT),
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
