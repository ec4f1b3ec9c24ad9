import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { loadFaces } from '../data/dataSource';
import { CELEBA_CROP_FRACTION } from '../data/preprocess';
import { gatherBatch, type FaceDataset } from '../data/faceDataset';
import { modelConfig, DEFAULT_TRAIN, DEFAULT_PERCEPTUAL, type ModelConfig } from '../models/config';
import { trainModel } from './trainModel';
import { disposeRun, type TrainingRun } from '../training/trainer';
import { complete, completeSamples } from '../completion';
import { makeMaskBatch, parseMaskSpec } from '../masks';
import { generate, samplePrior, attributeSweep } from '../generation';
import { gridPng } from '../plots/imageGrid';
import { lossCurves, metricBars, type Figure } from '../plots/plotly';
import { exportFigure, exportGrid, FIGURE_DIR, findBrowser } from '../plots/exportFigure';
import { buildTable1 } from './table1';
import type { RowMetrics } from './evaluate';

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
  /** Training mask of the masked models. */
  mask: string;
  dataDir?: string;
  /** Held-out images for Table 1 (all of the test split when undefined). */
  evalImages?: number;
  runsDir: string;
  figuresDir: string;
  tableDir: string;
}

export const DEFAULT_SECTION: SectionConfig = {
  size: 32,
  epochs: 2,
  limit: 4000,
  stepsPerEpoch: null,
  batchSize: 64,
  seed: 0,
  latentDim: 128,
  beta: 1,
  lambdas: DEFAULT_PERCEPTUAL.weights,
  mask: 'centre:0.5',
  evalImages: 400,
  runsDir: path.join('results', 'runs', 'study'),
  figuresDir: FIGURE_DIR,
  tableDir: path.join('results', 'table1'),
};

export async function loadSectionData(cfg: SectionConfig, onLine?: (l: string) => void): Promise<FaceDataset & { origin: string }> {
  return loadFaces({ dir: cfg.dataDir, limit: cfg.limit, preprocess: { size: cfg.size, cropFraction: CELEBA_CROP_FRACTION }, seed: cfg.seed, onProgress: onLine ? (d, t) => onLine(`loading faces ${d}/${t}`) : undefined });
}

export function sectionModel(cfg: SectionConfig, preset: string): ModelConfig {
  const active = Object.values(cfg.lambdas).some((v) => v > 0);
  return modelConfig(preset, { imageSize: cfg.size, latentDim: cfg.latentDim, beta: cfg.beta, mask: cfg.mask, perceptual: active ? { net: 'mobilenetv2', weights: cfg.lambdas } : { net: 'none', weights: {} } });
}

/** The run folder of a preset under this config: the λ values are part of the name, so changing them trains anew. */
export function runDirFor(cfg: SectionConfig, preset: string): string {
  const lambdaTag = Object.entries(cfg.lambdas).filter(([, v]) => v > 0).map(([k, v]) => `${k.replace(/_relu|_expand/g, '')}${v}`).join('-') || 'nolambda';
  return path.join(cfg.runsDir, `${preset}-${cfg.size}-z${cfg.latentDim}-b${cfg.beta}-${lambdaTag}-${cfg.mask.replace(':', '')}-s${cfg.seed}${cfg.limit ? `-n${cfg.limit}` : ''}`);
}

/** Train (or resume, or just load when finished) one preset. */
export async function trainPreset(cfg: SectionConfig, data: FaceDataset, preset: string, onLine?: (l: string) => void): Promise<TrainingRun> {
  return trainModel({
    model: sectionModel(cfg, preset),
    train: { ...DEFAULT_TRAIN, epochs: cfg.epochs, batchSize: cfg.batchSize, seed: cfg.seed, stepsPerEpoch: cfg.stepsPerEpoch ?? null },
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

function exportPlot(cfg: SectionConfig, fig: Figure, name: string, extra: unknown): Exported {
  // Figures need headless Chromium; without it the plot still shows inline.
  if (!findBrowser()) return { name, files: [] };
  return { name, files: exportFigure(fig, name, { section: cfg, ...((extra as object) ?? {}) }, cfg.figuresDir) };
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
  const { completed, iterates } = complete(run.model, batch.x, mask, null, { method: 'gibbs', steps: 10, latent: 'sample', seed: cfg.seed, trajectory: true });
  const chain = tf.tidy(() => tf.concat([batch.x, tf.mul(batch.x, mask), iterates[0], iterates[2], iterates[9]]) as tf.Tensor4D);
  const grids = {
    reconstructions: await gridPng(recon, { columns: n, scale }),
    samples: await gridPng(samples, { columns: 8, scale }),
    gibbs: await gridPng(chain, { columns: n, scale }),
  };
  tf.dispose([batch.x, batch.y, recon, z, samples, mask, completed, ...iterates, chain]);
  const loss = lossCurves([{ name: run.modelConfig.name, history: run.history }]);
  const exported = [
    exportPlot(cfg, loss, `01-loss-${run.modelConfig.name}-${cfg.size}`, { model: run.modelConfig }),
    ...Object.entries(grids).map(([k, png]) => ({ name: `01-${k}`, files: exportGrid(png, `01-${k}-${cfg.size}`, { section: cfg, model: run.modelConfig, rows: k === 'gibbs' ? 'gt, masked, x1, x3, x10' : undefined }, cfg.figuresDir) })),
  ];
  return { loss, grids, exported };
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
    for (const run of runs) rows.push(complete(run.model, batch.x, mask, null, { method: run.modelConfig.decoderSeesObserved ? 'oneshot' : 'gibbs', steps: 10, latent: 'mean', seed: cfg.seed }).completed);
    const all = tf.concat(rows) as tf.Tensor4D;
    grids[`masks-${spec.replace(':', '')}`] = await gridPng(all, { columns: n, scale });
    tf.dispose([mask, ...rows.slice(1), all]);
  }
  const one = batch.x.slice(0, 1);
  const oneMask = makeMaskBatch(parseMaskSpec(cfg.mask), 1, cfg.size);
  const diverse = runs.map((run) => completeSamples(run.model, one, oneMask, null, { method: run.modelConfig.decoderSeesObserved ? 'oneshot' : 'gibbs', steps: 10, latent: 'sample', seed: cfg.seed }, 8));
  const all = tf.concat(diverse.flat()) as tf.Tensor4D;
  grids.diversity = await gridPng(all, { columns: 8, scale });
  tf.dispose([batch.x, batch.y, one, oneMask, ...diverse.flat(), all]);
  const exported = Object.entries(grids).map(([k, png]) => ({
    name: `02-${k}`,
    files: exportGrid(png, `02-${k}-${cfg.size}`, { section: cfg, rows: k === 'diversity' ? runs.map((r) => `${r.modelConfig.name}: 8 samples`) : ['gt', 'masked', ...runs.map((r) => r.modelConfig.name)] }, cfg.figuresDir),
  }));
  return { grids, exported };
}

/** Section 3: attribute sweeps (Figure 6): fixed z, one attribute switched off/on at a time. */
export async function attributeSection(cfg: SectionConfig, runs: TrainingRun[], attributes: string[]): Promise<{ grids: Record<string, Buffer>; exported: Exported[] }> {
  const grids: Record<string, Buffer> = {};
  const scale = cfg.size < 64 ? 2 : 1;
  for (const run of runs) {
    const c = run.modelConfig;
    if (c.placement !== 'decoder' && c.placement !== 'both') continue;
    const batch = gatherBatch(run.data, run.data.splits.val.slice(0, 4), run.attributeColumns);
    const z = samplePrior(4, c.latentDim, cfg.seed);
    const usable = attributes.filter((a) => c.attributes.includes(a));
    const sweep = attributeSweep(run.model, z, batch.y, usable);
    grids[c.name] = await gridPng(sweep, { columns: 1 + 2 * usable.length, scale });
    tf.dispose([batch.x, batch.y, z, sweep]);
  }
  const exported = Object.entries(grids).map(([k, png]) => ({ name: `03-sweep-${k}`, files: exportGrid(png, `03-sweep-${k}-${cfg.size}`, { section: cfg, columns: ['y of a real face', ...attributes.flatMap((a) => [`${a}=0`, `${a}=1`])] }, cfg.figuresDir) }));
  return { grids, exported };
}

/** Section 4: Table 1 over the given runs + real images + Telea, and bar plots of its metrics. */
export async function metricsSection(cfg: SectionConfig, data: FaceDataset & { origin?: string }, runs: { name: string; runDir: string }[], onLine?: (l: string) => void) {
  const outBase = path.join(cfg.tableDir, `study-${cfg.size}`);
  const result = await buildTable1({ data, models: runs, mask: cfg.mask, seed: cfg.seed, limit: cfg.evalImages, outBase, onLine, log: onLine });
  const bars = (pick: (r: RowMetrics) => { mean: number; std: number }, metric: string) => metricBars(result.rows.filter((r) => r.name !== 'Real images').map((r) => ({ name: r.name, ...pick(r) })), metric);
  const figures = { ssim: bars((r) => r.ssim, 'SSIM'), perceptual: bars((r) => r.perceptual, 'perceptual distance (PD, substitute)') };
  const exported = Object.entries(figures).map(([k, fig]) => exportPlot(cfg, fig, `04-${k}-${cfg.size}`, { table: outBase }));
  return { ...result, figures, exported };
}

export { disposeRun };
