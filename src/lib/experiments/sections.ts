import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { loadFaces } from '../data/dataSource';
import { CELEBA_CROP_FRACTION } from '../data/preprocess';
import { gatherBatch, type FaceDataset } from '../data/faceDataset';
import { modelConfig, decoderAttributes, DEFAULT_MODEL, DEFAULT_TRAIN, DEFAULT_PERCEPTUAL, type ModelConfig, type TrainConfig } from '../models/config';
import { settingsHash } from '../spec/experimentSpec';
import { trainModel } from './trainModel';
import { disposeRun, type TrainingRun } from '../training/trainer';
import { complete, completeSamples, DEFAULT_COMPLETION } from '../completion';
import { makeMaskBatch, parseMaskSpec } from '../masks';
import { generate, samplePrior } from '../generation';
import { gridPng } from '../plots/imageGrid';
import { chainCurves, lossCurves, metricBars, type Figure } from '../plots/plotly';
import { gibbsChainL1 } from './gibbsChain';
import { epochMeans } from '../training/history';
import { attributeControl, meanControl, type AttributeControl } from './attributeControl';
export { controlTable } from './attributeControl';
import { disposeClassifier } from '../metrics/attributeClassifier';
import { judgeFor, type JudgeName } from '../metrics/pretrainedJudge';
import { lambdaTag, PAPER_ROWS, rowName } from '../models/config';
import { exportFigure, exportGrid, findBrowser } from '../plots/exportFigure';
import { buildTable1 } from './table1';
import { disposeRealMetrics, loadRealMetrics } from '../metrics/realMetrics';
import type { RowMetrics } from './evaluate';

/** Where the study and the notebooks write (git-ignored): results/study/. */
export const STUDY_DIR = path.join('results', 'study');

/** One config cell of a notebook (and the headless study): every knob a researcher turns. */
export interface SectionConfig {
  size: 32 | 64;
  epochs: number;
  /** First N faces of the data set (all when undefined). */
  limit?: number;
  stepsPerEpoch?: number | null;
  batchSize: number;
  seed: number;
  latentDim: number;
  beta: number;
  /** λ_l per MobileNetV2 layer; {} or all 0 disables the perceptual term. */
  lambdas: Record<string, number>;
  /** λ_a of the attribute-guidance term for the models with y in the decoder (0 = the paper's training). */
  attributeGuidance?: number;
  /**
   * The judge of attribute control: plain (the quick default: the small CNN, seconds to train),
   * balanced (the same, class-balanced: it sees rare attributes such as glasses), or pretrained
   * (InceptionV3 probes, independent of every generator; its features take tens of minutes on a CPU, once).
   */
  judge?: JudgeName;
  /** Training mask of the masked models. */
  mask: string;
  dataDir?: string;
  /** Held-out images for Table 1 (all of the test split when undefined). */
  evalImages?: number;
  /** Table 1's Fréchet columns (InceptionV3 features of every completion and prior sample: most of its CPU time). */
  frechet: boolean;
  /** KL warm-up in steps (TrainConfig.klWarmupSteps); undefined: the training default. */
  klWarmupSteps?: number;
  runsDir: string;
  figuresDir: string;
  tableDir: string;
}

/**
 * The quick default (the paper's 8 models at 32×32 in ≤ 12 min on 2 CPU cores whose PyTorch peer
 * runs 130 img/s): 3 epochs of 3,000 faces (111 steps a model; every model still beats mean fill
 * and none collapses — 8 epochs lowered masked L1 by about a fifth and took 2.9 times as long:
 * results/logs/study/), Table 1 on 200 held-out faces without the Fréchet columns. The perceptual
 * term is off here for speed (λ_l = 0, the knobs stay); set λ_l > 0 to train with it.
 */
export const DEFAULT_SECTION: SectionConfig = {
  size: 32,
  epochs: 3,
  limit: 3000,
  stepsPerEpoch: null,
  // The model and training defaults are models/config.ts's (one default per setting).
  batchSize: DEFAULT_TRAIN.batchSize,
  seed: DEFAULT_TRAIN.seed,
  latentDim: DEFAULT_MODEL.latentDim,
  beta: DEFAULT_MODEL.beta,
  lambdas: Object.fromEntries(Object.keys(DEFAULT_PERCEPTUAL.weights).map((l) => [l, 0])),
  mask: DEFAULT_MODEL.mask,
  evalImages: 200,
  // Quick: the Fréchet columns would take 4 of its minutes here (`--full` and `vii table1` have them).
  frechet: false,
  // β reaches 1 at step 50 of the quick study's 3 × 37 (the training default, 300, never would).
  klWarmupSteps: 50,
  runsDir: path.join('results', 'runs', 'study'),
  // The study's and notebooks' own outputs: an untracked folder, never over the committed results.
  figuresDir: path.join(STUDY_DIR, 'figures'),
  tableDir: path.join(STUDY_DIR, 'table1'),
};

export async function loadSectionData(cfg: SectionConfig, onLine?: (l: string) => void): Promise<FaceDataset & { origin: string }> {
  return loadFaces({ dir: cfg.dataDir, limit: cfg.limit, preprocess: { size: cfg.size, cropFraction: CELEBA_CROP_FRACTION }, seed: cfg.seed, onProgress: onLine ? (d, t) => onLine(`loading faces ${d}/${t}`) : undefined });
}

export function sectionModel(cfg: SectionConfig, preset: string): ModelConfig {
  const active = Object.values(cfg.lambdas).some((v) => v > 0);
  const guided = (cfg.attributeGuidance ?? 0) > 0 && decoderAttributes(modelConfig(preset));
  return modelConfig(preset, {
    imageSize: cfg.size,
    latentDim: cfg.latentDim,
    beta: cfg.beta,
    mask: cfg.mask,
    perceptual: active ? { net: 'mobilenetv2', weights: cfg.lambdas } : { net: 'none', weights: {} },
    ...(guided ? { attributeGuidance: cfg.attributeGuidance } : {}),
  });
}

/**
 * The run folder of a preset under this config: the model settings readably (λ values, guidance,
 * mask, seed, faces), then a short hash of the training settings that a resume may not change
 * (all but epochs), so changing any of them trains anew instead of being refused.
 */
export function runDirFor(cfg: SectionConfig, preset: string): string {
  const guided = sectionModel(cfg, preset).attributeGuidance;
  const { epochs: _epochs, ...fixed } = sectionTrain(cfg);
  return path.join(cfg.runsDir, `${preset}-${cfg.size}-z${cfg.latentDim}-b${cfg.beta}-${lambdaTag(cfg.lambdas)}${guided ? `-g${guided}` : ''}-${cfg.mask.replace(':', '')}-s${cfg.seed}${cfg.limit ? `-n${cfg.limit}` : ''}-t${settingsHash(fixed)}`);
}

/** The training configuration of the config's models. */
export function sectionTrain(cfg: SectionConfig): TrainConfig {
  return { ...DEFAULT_TRAIN, epochs: cfg.epochs, batchSize: cfg.batchSize, seed: cfg.seed, stepsPerEpoch: cfg.stepsPerEpoch ?? null, klWarmupSteps: cfg.klWarmupSteps ?? DEFAULT_TRAIN.klWarmupSteps };
}

/** Train (or resume, or just load when finished) one preset. */
export async function trainPreset(cfg: SectionConfig, data: FaceDataset, preset: string, onLine?: (l: string) => void): Promise<TrainingRun> {
  return trainModel({
    model: sectionModel(cfg, preset),
    train: sectionTrain(cfg),
    data,
    runDir: runDirFor(cfg, preset),
    onLine,
    log: onLine,
  });
}

export interface Exported {
  name: string;
  files: string[];
}

async function exportPlot(cfg: SectionConfig, fig: Figure, name: string, extra: unknown): Promise<Exported> {
  // Plots need headless Chromium; without one they still show inline (the study and notebooks say so up front).
  if (!(await findBrowser())) return { name, files: [] };
  return { name, files: await exportFigure(fig, name, { section: cfg, ...((extra as object) ?? {}) }, cfg.figuresDir) };
}

/** Section 1: loss curves, reconstructions, prior samples and the Gibbs chain of a complete-image VAE. */
export async function latentVaeSection(cfg: SectionConfig, run: TrainingRun): Promise<{ loss: Figure; grids: Record<string, Buffer>; exported: Exported[] }> {
  const n = 8;
  const batch = gatherBatch(run.data, run.data.splits.val.slice(0, n));
  const scale = cfg.size < 64 ? 2 : 1;
  const recon = tf.tidy(() => {
    const { mu } = run.model.encode(batch.x, null, null);
    return tf.concat([batch.x, run.model.decode(mu, null, null)]) as tf.Tensor4D;
  });
  const z = samplePrior(16, run.modelConfig.latentDim, cfg.seed);
  const samples = generate(run.model, z, null);
  const mask = makeMaskBatch(parseMaskSpec(cfg.mask), n, cfg.size);
  const { completed, iterates } = complete(run.model, batch.x, mask, null, { method: 'gibbs', steps: DEFAULT_COMPLETION.steps, latent: 'sample', seed: cfg.seed, trajectory: true });
  const chain = tf.tidy(() => tf.concat([batch.x, tf.mul(batch.x, mask), iterates[0], iterates[2], iterates[9]]) as tf.Tensor4D);
  const grids = {
    reconstructions: await gridPng(recon, { columns: n, scale }),
    samples: await gridPng(samples, { columns: 8, scale }),
    gibbs: await gridPng(chain, { columns: n, scale }),
  };
  tf.dispose([batch.x, batch.y, recon, z, samples, mask, completed, ...iterates, chain]);
  const loss = lossCurves([{ name: run.modelConfig.name, history: run.history }]);
  const exported = [
    await exportPlot(cfg, loss, `01-loss-${run.modelConfig.name}-${cfg.size}`, { model: run.modelConfig }),
    ...Object.entries(grids).map(([k, png]) => ({ name: `01-${k}`, files: exportGrid(png, `01-${k}-${cfg.size}`, { section: cfg, model: run.modelConfig, rows: k === 'gibbs' ? 'gt, masked, x1, x3, x10' : undefined }, cfg.figuresDir) })),
  ];
  return { loss, grids, exported };
}

/**
 * The Gibbs chain's masked L1 after each step t on held-out faces, z = μ and z ~ q, per run:
 * does the chain improve, and when does it stop? (The one-shot model's chain is shown too,
 * though it completes in one pass.)
 */
export async function gibbsChainSection(cfg: SectionConfig, runs: TrainingRun[], steps = DEFAULT_COMPLETION.steps): Promise<{ figure: Figure; series: { name: string; values: number[] }[]; exported: Exported[] }> {
  const data = runs[0].data;
  const indices = data.splits.val.slice(0, 64);
  const series: { name: string; values: number[] }[] = [];
  for (const run of runs) {
    const batch = gatherBatch(data, indices, run.attributeColumns);
    const mask = makeMaskBatch(parseMaskSpec(cfg.mask), indices.length, cfg.size);
    for (const latent of ['mean', 'sample'] as const) {
      series.push({ name: `${run.modelConfig.name} (z ${latent === 'mean' ? '= μ' : '~ q'})`, values: await gibbsChainL1(run.model, batch.x, mask, batch.y, { steps, latent, seed: cfg.seed }) });
    }
    tf.dispose([batch.x, batch.y, mask]);
  }
  const figure = chainCurves(series);
  const name = `chain-${runs.map((r) => r.modelConfig.name).join('-')}-${cfg.size}`;
  return { figure, series, exported: [await exportPlot(cfg, figure, name, { series })] };
}

/** Section 2: the same held-out faces completed under every mask type, and several samples of one input. */
export async function partialObservationSection(cfg: SectionConfig, runs: TrainingRun[]): Promise<{ grids: Record<string, Buffer>; exported: Exported[] }> {
  const n = 6;
  const scale = cfg.size < 64 ? 2 : 1;
  const grids: Record<string, Buffer> = {};
  const data = runs[0].data;
  const batch = gatherBatch(data, data.splits.val.slice(0, n));
  for (const spec of ['centre:0.5', 'half:left', 'box:1', 'free:1']) {
    const mask = makeMaskBatch(parseMaskSpec(spec), n, cfg.size);
    const rows: tf.Tensor4D[] = [batch.x, tf.mul(batch.x, mask) as tf.Tensor4D];
    for (const run of runs) rows.push(complete(run.model, batch.x, mask, null, { steps: DEFAULT_COMPLETION.steps, latent: 'mean', seed: cfg.seed }).completed);
    const all = tf.concat(rows) as tf.Tensor4D;
    grids[`masks-${spec.replace(':', '')}`] = await gridPng(all, { columns: n, scale });
    tf.dispose([mask, ...rows.slice(1), all]);
  }
  const one = batch.x.slice(0, 1);
  const oneMask = makeMaskBatch(parseMaskSpec(cfg.mask), 1, cfg.size);
  const diverse = runs.map((run) => completeSamples(run.model, one, oneMask, null, { steps: DEFAULT_COMPLETION.steps, latent: 'sample', seed: cfg.seed }, 8));
  const all = tf.concat(diverse.flat()) as tf.Tensor4D;
  grids.diversity = await gridPng(all, { columns: 8, scale });
  tf.dispose([batch.x, batch.y, one, oneMask, ...diverse.flat(), all]);
  const exported = Object.entries(grids).map(([k, png]) => ({
    name: `02-${k}`,
    files: exportGrid(png, `02-${k}-${cfg.size}`, { section: cfg, rows: k === 'diversity' ? runs.map((r) => `${r.modelConfig.name}: 8 samples`) : ['gt', 'masked', ...runs.map((r) => r.modelConfig.name)] }, cfg.figuresDir),
  }));
  return { grids, exported };
}

/**
 * Section 3: attribute sweeps (paper Figure 6) and control rates. For every attribute model: the
 * same z decoded with each attribute off and on (where the decoder takes y), held-out faces
 * completed with it forced off and on, and how often the attribute classifier agrees.
 */
export async function attributeSection(cfg: SectionConfig, runs: TrainingRun[], attributes: string[], onLine?: (l: string) => void): Promise<{ grids: Record<string, Buffer>; control: Record<string, AttributeControl[]>; exported: Exported[] }> {
  const grids: Record<string, Buffer> = {};
  const control: Record<string, AttributeControl[]> = {};
  if (runs.length === 0) return { grids, control, exported: [] };
  const classifier = await judgeFor(runs[0].data, cfg.judge ?? 'plain', onLine);
  const exported: Exported[] = [];
  for (const run of runs) {
    const c = run.modelConfig;
    const usable = attributes.filter((a) => c.attributes.includes(a));
    if (usable.length === 0) continue;
    const out = path.join(cfg.figuresDir, 'sweeps', `${c.name}-${cfg.size}`);
    control[c.name] = await attributeControl({ model: run.model, data: run.data, classifier, attributes: usable, samples: Math.min(100, run.data.splits.test.length), seed: cfg.seed, out, mask: cfg.mask });
    const mean = meanControl(control[c.name]);
    for (const kind of ['sweep', 'completion'] as const) {
      const file = path.join(out, `${kind}-grid.png`);
      if (!fs.existsSync(file)) continue;
      grids[`${c.name} ${kind}`] = fs.readFileSync(file);
      exported.push({
        name: `03-${kind}-${c.name}`,
        files: exportGrid(grids[`${c.name} ${kind}`], `03-${kind}-${c.name}-${cfg.size}`, { section: cfg, model: c, rows: 'one held-out face / z per row', columns: usable.flatMap((a) => [`${a} off`, `${a} on`]), control: control[c.name], meanControl: mean, judge: classifier.description }, cfg.figuresDir),
      });
    }
  }
  disposeClassifier(classifier);
  return { grids, control, exported };
}

/**
 * Collapse checks of a trained model: the KL per image of its last epoch (≈ 0 nats: z is
 * ignored) and the spread of its prior samples, the mean absolute pixel difference between
 * pairs of decoded z ~ N(0, I) (≈ 0: every sample is the same face).
 */
export async function collapseChecks(run: TrainingRun, samples = 16, seed = 0): Promise<{ klPerImage: number; priorSpread: number }> {
  const means = epochMeans(run.history);
  const klPerImage = means.length ? means[means.length - 1].kl : NaN;
  const c = run.modelConfig;
  const batch = gatherBatch(run.data, run.data.splits.val.slice(0, samples), run.attributeColumns);
  const n = batch.x.shape[0];
  const z = samplePrior(n, c.latentDim, seed);
  const spread = tf.tidy(() => {
    const images = tf.reshape(generate(run.model, z, batch.y), [n, -1]);
    const diffs = tf.mean(tf.abs(tf.sub(tf.expandDims(images, 0), tf.expandDims(images, 1))), 2); // [n, n], zero diagonal
    return tf.div(tf.sum(diffs), n * (n - 1));
  });
  const priorSpread = (await spread.data())[0];
  tf.dispose([spread, z, batch.x, batch.y]);
  return { klPerImage, priorSpread };
}

/** Section 4: Table 1 over the given runs + real images + Telea, and bar plots of its metrics. */
export async function metricsSection(cfg: SectionConfig, data: FaceDataset & { origin?: string }, runs: { name: string; runDir: string }[], onLine?: (l: string) => void) {
  const outBase = path.join(cfg.tableDir, `study-${cfg.size}`);
  // LPIPS and the Inception score join the substitutes when `vii weights fetch` has put their weights in place.
  const real = await loadRealMetrics();
  const result = await buildTable1({ data, models: runs.map((r) => ({ ...r, name: rowName(r.name), extra: !(r.name in PAPER_ROWS) })), mask: cfg.mask, seed: cfg.seed, limit: cfg.evalImages, frechet: cfg.frechet, judge: cfg.judge ?? 'plain', outBase, real, onLine, log: onLine });
  disposeRealMetrics(real);
  const bars = (pick: (r: RowMetrics) => { mean: number; std: number }, metric: string) => metricBars(result.rows.filter((r) => r.name !== 'Real images').map((r) => ({ name: r.name, ...pick(r) })), metric);
  const figures = { ssim: bars((r) => r.ssim, 'SSIM'), perceptual: bars((r) => r.perceptual, 'perceptual distance (PD, substitute)') };
  const exported: Exported[] = [];
  for (const [k, fig] of Object.entries(figures)) exported.push(await exportPlot(cfg, fig, `04-${k}-${cfg.size}`, { table: outBase }));
  return { ...result, figures, exported };
}

export { disposeRun };
