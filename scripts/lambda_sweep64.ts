// The λ_l sweep of the perceptual-term experiment (64×64): fine-tune one trained λ = 0 model for
// STEPS steps with each per-layer weighting (and once with λ = 0, the control that gets the same
// extra steps), then compare them on held-out faces: masked L1, hole sharpness, the Fréchet
// substitute, PD. Resumable: finished fine-tunes load; a rerun redoes only the comparison.
//   npx tsx scripts/lambda_sweep64.ts [PARENT_RUN] [STEPS] [IMAGES]
//   npx tsx scripts/lambda_sweep64.ts figures   (the trade-off figure again from lambda-sweep.json)
// STEPS above one epoch (112 batches) is rounded up to whole epochs (fineTuneConfigs): 200 → 224.
import * as fs from 'fs';
import * as path from 'path';
import { selectBackend } from '../src/lib/backend/selectBackend';
import { comparisonGrids, fineTune, quickCompare, runData } from '../src/lib/experiments/fineTune';
import { resolveInitFrom, disposeRun, type TrainingRun } from '../src/lib/training/trainer';
import { tableMarkdown } from '../src/lib/export/table';
import { tradeOff } from '../src/lib/plots/plotly';
import { exportFigure, exportGrid } from '../src/lib/plots/exportFigure';
import { writeFileAtomic, writeJsonAtomic } from '../src/lib/io/atomicWrite';

const [parent = 'results/runs/paper64/vae-partial', stepsText = '200', imagesText = '300'] = process.argv.slice(2);
const STEPS = Number(stepsText);
const IMAGES = Number(imagesText);
const RUNS = 'results/runs/perceptual64/sweep';
const LOGS = 'results/logs/perceptual64';
const FIGURES = 'results/figures/perceptual64';

/** Per-layer weightings tried (MobileNetV2 of nsfwjs; the loss scales each layer to the pixel term's size). */
const SETTINGS: Record<string, Record<string, number>> = {
  'λ = 0 (control)': {},
  'three layers 0.003': { Conv1_relu: 0.003, block_3_expand_relu: 0.003, block_6_expand_relu: 0.003 },
  'three layers 0.01 (default)': { Conv1_relu: 0.01, block_3_expand_relu: 0.01, block_6_expand_relu: 0.01 },
  'three layers 0.03': { Conv1_relu: 0.03, block_3_expand_relu: 0.03, block_6_expand_relu: 0.03 },
  'three layers 0.1': { Conv1_relu: 0.1, block_3_expand_relu: 0.1, block_6_expand_relu: 0.1 },
  'all four 0.01': { Conv1_relu: 0.01, block_3_expand_relu: 0.01, block_6_expand_relu: 0.01, block_13_expand_relu: 0.01 },
};
const LAYERS = ['Conv1_relu', 'block_3_expand_relu', 'block_6_expand_relu', 'block_13_expand_relu'];
/** How much masked L1 the chosen λ may cost against the control (the 5 %). */
const L1_BUDGET = 1.05;
const folder = (name: string) => name.replace(/[^a-z0-9.]+/gi, '-').replace(/^-|-$/g, '');

function tradeOffFigure(rows: { name: string; maskedL1: { mean: number }; sharpness: { mean: number } }[], steps: number, images: number) {
  const points = rows.map((r) => ({ name: r.name, x: r.maskedL1.mean, y: r.sharpness.mean }));
  return tradeOff(points, { x: 'masked L1 ↓', y: 'hole sharpness (1 = real)' }, `λ_l sweep (${steps}-step fine-tunes, ${images} held-out faces)`);
}

/** The steps each fine-tune ran, from its checkpoint (STEPS rounded up to whole epochs). */
const stepsRun = (name: string) => (JSON.parse(fs.readFileSync(path.join(RUNS, folder(name), 'latest.json'), 'utf8')) as { step: number }).step;

async function figuresOnly(): Promise<void> {
  const log = JSON.parse(fs.readFileSync(path.join(LOGS, 'lambda-sweep.json'), 'utf8')) as { rows: Parameters<typeof tradeOffFigure>[0]; images: number };
  const steps = stepsRun(Object.keys(SETTINGS)[0]);
  writeJsonAtomic(path.join(LOGS, 'lambda-sweep.json'), { ...log, stepsRun: Object.fromEntries(Object.keys(SETTINGS).map((n) => [n, stepsRun(n)])) });
  console.log((await exportFigure(tradeOffFigure(log.rows, steps, log.images), 'lambda-sweep-tradeoff', { log: path.join(LOGS, 'lambda-sweep.json') }, FIGURES)).join(', '));
}

async function main(): Promise<void> {
  if (process.argv[2] === 'figures') return figuresOnly();
  await selectBackend();
  const { meta } = resolveInitFrom(parent);
  const data = await runData(meta);
  console.log(`[sweep] parent ${parent} (${meta.model.name}, step ${meta.step}); ${data.images.length} ${data.kind} faces, ${STEPS} fine-tune steps per setting, ${IMAGES} held-out faces`);
  const runs: { name: string; run: TrainingRun; lambdas: Record<string, number> }[] = [];
  for (const [name, lambdas] of Object.entries(SETTINGS)) {
    const t0 = performance.now();
    const run = await fineTune({ parent, lambdas, steps: STEPS, runDir: path.join(RUNS, folder(name)), data, log: (m) => console.log(m) });
    const last = run.history.slice(-20);
    const mean = (k: 'recon' | 'perceptual' | 'kl') => last.reduce((s, r) => s + r[k], 0) / Math.max(1, last.length);
    console.log(`[sweep] ${name}: ${run.step} steps (${((performance.now() - t0) / 1000).toFixed(0)} s this call); last 20 steps: recon ${mean('recon').toFixed(1)} perceptual ${mean('perceptual').toFixed(1)} KL ${mean('kl').toFixed(1)}; ${(last.reduce((s, r) => s + r.ms, 0) / Math.max(1, last.length)).toFixed(0)} ms a step`);
    runs.push({ name, run, lambdas });
  }
  const models = runs.map((r) => ({ name: r.name, model: r.run.model }));
  const t0 = performance.now();
  const { table, rows } = await quickCompare(models, data, { images: IMAGES, seed: 0 });
  console.log(`[sweep] comparison of ${runs.length} models on ${IMAGES} faces: ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  fs.mkdirSync(LOGS, { recursive: true });
  const md = tableMarkdown({ ...table, caption: `λ_l sweep: ${runs[0].run.step}-step fine-tunes of ${parent} (step ${meta.step}). ${table.caption}` });
  console.log(md);
  writeFileAtomic(path.join(LOGS, 'lambda-sweep.md'), md);
  writeJsonAtomic(path.join(LOGS, 'lambda-sweep.json'), { parent, parentStep: meta.step, steps: STEPS, stepsRun: Object.fromEntries(runs.map((r) => [r.name, r.run.step])), images: IMAGES, settings: SETTINGS, rows });
  console.log((await exportFigure(tradeOffFigure(rows, runs[0].run.step, IMAGES), 'lambda-sweep-tradeoff', { parent, steps: runs[0].run.step, images: IMAGES, settings: SETTINGS }, FIGURES)).join(', '));
  // The choice, by rule: the sharpest fill among the settings within 5 % of the control's masked L1
  // (else the lowest masked L1 among them).
  const control = rows[0];
  const candidates = rows.slice(1).map((r, i) => ({ r, name: Object.keys(SETTINGS)[i + 1] }));
  const within = candidates.filter((c) => c.r.maskedL1.mean <= L1_BUDGET * control.maskedL1.mean);
  const chosen = within.length ? within.reduce((a, b) => (b.r.sharpness.mean > a.r.sharpness.mean ? b : a)) : candidates.reduce((a, b) => (b.r.maskedL1.mean < a.r.maskedL1.mean ? b : a));
  const lambdas = SETTINGS[chosen.name];
  const flag = LAYERS.map((l) => `${l}=${lambdas[l] ?? 0}`).join(',');
  writeJsonAtomic(path.join(LOGS, 'chosen-lambda.json'), { rule: `highest hole sharpness with masked L1 ≤ ${L1_BUDGET} × the control's${within.length ? '' : ' (none qualified: lowest masked L1)'}`, name: chosen.name, lambdas, flag, maskedL1: chosen.r.maskedL1.mean, sharpness: chosen.r.sharpness.mean, control: { maskedL1: control.maskedL1.mean, sharpness: control.sharpness.mean } });
  console.log(`[sweep] chosen: ${chosen.name} (--lambda ${flag}): masked L1 ${chosen.r.maskedL1.mean.toFixed(4)} vs ${control.maskedL1.mean.toFixed(4)}, sharpness ${chosen.r.sharpness.mean.toFixed(3)} vs ${control.sharpness.mean.toFixed(3)}`);
  const grids = await comparisonGrids(models, data, { count: 8, seed: 0 });
  console.log(exportGrid(grids.completions, 'lambda-sweep-completions', { parent, rows: ['truth', 'masked', ...Object.keys(SETTINGS)], latent: 'mean', steps: 10 }, FIGURES).join(', '));
  for (const r of runs) disposeRun(r.run);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
