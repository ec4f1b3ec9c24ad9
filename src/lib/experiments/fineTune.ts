import * as tf from '@tensorflow/tfjs';
import * as fs from 'fs';
import { findDataSource, loadFaces } from '../data/dataSource';
import { gatherBatch, type FaceDataset } from '../data/faceDataset';
import { attributeIndices } from '../data/attributes';
import type { CheckpointMeta } from '../models/checkpoint';
import { MOBILENET_LAYERS, validateModelConfig, type ModelConfig, type TrainConfig } from '../models/config';
import type { Vae } from '../models/vae';
import { complete, reconstructOnce, DEFAULT_COMPLETION } from '../completion';
import { formatMaskSpec, makeMaskBatch, parseMaskSpec } from '../masks';
import { generate, samplePrior } from '../generation';
import { gridPng } from '../plots/imageGrid';
import { evaluateRow, evaluationIndices, generationScores, modelCompleter, type GenerationScores, realFeatureSets, type EvalSettings, type RowMetrics } from './evaluate';
import { loadMobileNetV2 } from '../weights/featureNet';
import { unlearnedPerceptualDistance } from '../metrics/lpips';
import { nsfwjsInceptionFrechetNet } from '../metrics/frechetNet';
import type { ResultTable } from '../export/table';

/**
 * The run's own data (same folder, preprocessing and split seed), so its test faces stay unseen.
 * `dir` overrides the folder; a recorded folder that is gone on this machine (a shipped model, a
 * moved clone) gives way to the usual search (CELEBA_DIR, data/celeba, ../shared/celeba), which
 * must find the same kind of faces the model was trained on.
 */
export async function runData(meta: CheckpointMeta, dir?: string, onLine?: (l: string) => void): Promise<FaceDataset & { origin: string }> {
  const folder = dir ?? (fs.existsSync(meta.data.root) ? meta.data.root : findDataSource()?.dir);
  if (!folder) throw new Error(`the model was trained on ${meta.data.kind} faces from ${meta.data.root}, which is not here, and no CelebA folder was found (CELEBA_DIR, data/celeba, ../shared/celeba); give --data DIR`);
  const data = await loadFaces({ dir: folder, limit: meta.data.images, preprocess: meta.preprocess, seed: meta.train.seed, onProgress: onLine ? (d, t) => onLine(`loading faces ${d}/${t}`) : undefined });
  if (data.kind !== meta.data.kind) throw new Error(`the model was trained on ${meta.data.kind} faces, ${folder} holds ${data.kind} ones; give --data DIR`);
  return data;
}

export interface FineTuneOptions {
  /** A trained run folder (its newest checkpoint) or a checkpoint folder. */
  parent: string;
  /** λ_l per layer of the feature net for the fine-tune; all 0 = the perceptual term off. */
  lambdas: Record<string, number>;
  /** Training steps of the fine-tune (batches of the parent's size). */
  steps: number;
  runDir: string;
  data: FaceDataset;
  net?: 'mobilenetv2' | 'vgg16';
  /** Adam's learning rate (default: the parent's). */
  learningRate?: number;
  onLine?: (line: string) => void;
  log?: (message: string) => void;
}

/**
 * The configs of a fine-tune: the parent's model with new λ_l, its training settings with a fresh
 * Adam from the parent's weights (TrainConfig.initFrom), no KL warm-up (the parent's decoder
 * already uses z), and `steps` steps: one short epoch, or whole epochs and the rest.
 */
export function fineTuneConfigs(parent: CheckpointMeta, o: Pick<FineTuneOptions, 'lambdas' | 'steps' | 'net' | 'learningRate'>, initFrom: TrainConfig['initFrom'], perEpoch: number): { model: ModelConfig; train: TrainConfig } {
  if (!Number.isInteger(o.steps) || o.steps < 1) throw new Error(`fine-tune steps ${o.steps}: expected a positive integer`);
  const active = Object.values(o.lambdas).some((v) => v > 0);
  const model: ModelConfig = { ...parent.model, perceptual: active ? { net: o.net ?? 'mobilenetv2', weights: { ...o.lambdas } } : { net: 'none', weights: {} } };
  validateModelConfig(model);
  const epochs = Math.ceil(o.steps / perEpoch);
  const train: TrainConfig = {
    ...parent.train,
    epochs,
    stepsPerEpoch: epochs === 1 ? o.steps : parent.train.stepsPerEpoch,
    learningRate: o.learningRate ?? parent.train.learningRate,
    klWarmupSteps: 0,
    initFrom,
  };
  return { model, train };
}

/** y of the model's attributes for a batch of faces (null for a model without attributes). */
function modelY(model: Vae, data: FaceDataset, indices: number[]): { x: tf.Tensor4D; y: tf.Tensor2D | null } {
  const cols = attributeIndices(data.attributeNames, model.config.attributes);
  const batch = gatherBatch(data, indices, cols);
  if (cols.length) return { x: batch.x, y: batch.y };
  batch.y.dispose();
  return { x: batch.x, y: null };
}

/**
 * Side-by-side figures of several models on the same held-out faces, holes and seeds (the paper's
 * Figures 2–4 for λ = 0 | λ > 0): completions (rows: truth, masked input, each model's completion
 * with z = μ), reconstructions (truth, each model's decoded μ of the whole face) and prior samples
 * (each model decodes the same z ~ N(0, I); attribute models with the held-out faces' y).
 */
export async function comparisonGrids(models: { name: string; model: Vae }[], data: FaceDataset, o: { count?: number; seed?: number; mask?: string; steps?: number; split?: 'val' | 'test' } = {}): Promise<Record<'completions' | 'reconstructions' | 'samples', Buffer>> {
  const split = data.splits[o.split ?? 'test'];
  const count = Math.min(o.count ?? 8, split.length);
  if (count === 0) throw new Error(`${data.root}: the ${o.split ?? 'test'} split is empty; comparison figures need held-out faces`);
  const indices = split.slice(0, count);
  const size = data.preprocess.size;
  const seed = o.seed ?? 0;
  const mask = makeMaskBatch(parseMaskSpec(o.mask ?? 'centre:0.5'), count, size, 0);
  const z = samplePrior(count, models[0].model.config.latentDim, seed);
  const truth = gatherBatch(data, indices);
  const masked = tf.tidy(() => tf.add(tf.mul(truth.x, mask), tf.mul(tf.sub(1, mask), 0.5)) as tf.Tensor4D);
  const rows = { completions: [truth.x, masked] as tf.Tensor4D[], reconstructions: [truth.x] as tf.Tensor4D[], samples: [] as tf.Tensor4D[] };
  const made: tf.Tensor[] = [];
  for (const { model } of models) {
    const { x, y } = modelY(model, data, indices);
    const c = model.config;
    const { completed } = complete(model, x, mask, y, { steps: o.steps ?? DEFAULT_COMPLETION.steps, latent: 'mean', seed });
    const recon = tf.tidy(() => {
      const all = { x, mask: tf.onesLike(mask) as tf.Tensor4D };
      return reconstructOnce(model, x, all, y, 'mean', seed).xHat;
    });
    // A one-shot decoder has no prior samples of its own (it needs x'): grey.
    const sample = c.decoderSeesObserved || z.shape[1] !== c.latentDim ? (tf.fill(x.shape, 0.5) as tf.Tensor4D) : generate(model, z, y);
    rows.completions.push(completed);
    rows.reconstructions.push(recon);
    rows.samples.push(sample);
    made.push(x, completed, recon, sample, ...(y ? [y] : []));
  }
  const grid = async (list: tf.Tensor4D[]) => {
    const all = tf.concat(list) as tf.Tensor4D;
    const png = await gridPng(all, { columns: count, scale: size < 64 ? 2 : 1 });
    all.dispose();
    return png;
  };
  const out = { completions: await grid(rows.completions), reconstructions: await grid(rows.reconstructions), samples: await grid(rows.samples) };
  tf.dispose([...made, truth.x, truth.y, mask, masked, z]);
  return out;
}

export interface QuickComparison {
  images: number;
  rows: RowMetrics[];
  table: ResultTable;
}

/** Completions per input and inputs of the comparison's diversity column (as Table 1's). */
const DIVERSITY = { samples: 3, images: 100 };

/**
 * The blur-sensitive metrics of several models on the same held-out faces, holes and seeds, in
 * minutes: masked L1, SSIM, PSNR, hole sharpness, checkerboard (completions and prior samples), the
 * Fréchet substitute (completions and prior samples), PD and diversity. No attribute classifier
 * (no AS): for the λ sweeps, the notebooks' before | after and the compare stage.
 */
export async function quickCompare(models: { name: string; model: Vae }[], data: FaceDataset, o: { images?: number; seed?: number; mask?: string; steps?: number; onLine?: (l: string) => void } = {}): Promise<QuickComparison> {
  const perceptual = unlearnedPerceptualDistance(await loadMobileNetV2([...MOBILENET_LAYERS]));
  const substitute = await nsfwjsInceptionFrechetNet();
  try {
    const settings: EvalSettings = { data, split: 'test', mask: parseMaskSpec(o.mask ?? 'centre:0.5'), seed: o.seed ?? 0, limit: o.images ?? 300, batchSize: 100, perceptual, classifier: null, diversitySamples: DIVERSITY.samples, diversityImages: DIVERSITY.images, onLine: o.onLine };
    settings.frechet = await realFeatureSets(settings, [substitute]);
    const rows: RowMetrics[] = [];
    const prior: (GenerationScores | null)[] = [];
    for (const { name, model } of models) {
      rows.push(await evaluateRow(name, modelCompleter(model, data.attributeNames, o.steps ?? DEFAULT_COMPLETION.steps), settings));
      prior.push(await generationScores(model, settings));
    }
    const images = evaluationIndices(settings).length;
    const table: ResultTable = {
      caption:
        `${images} held-out faces (${data.root}, test split), ${formatMaskSpec(settings.mask)} holes, ${o.steps ?? DEFAULT_COMPLETION.steps} Gibbs steps with sampled z, seed ${settings.seed}. ` +
        `Sharpness: the fill's mean |Laplacian| over the photograph's in the hole (1 = as sharp). Checkerboard: luma energy at the stride-2 (Nyquist) frequencies, fills over the photographs' in the same holes, prior samples over the real faces' (1 = as a photograph; above, a checkerboard). ` +
        `${substitute.description}. PD: ${perceptual.description} (substitute, not LPIPS). Diversity: mean pairwise PD of ${DIVERSITY.samples} completions of the first ${Math.min(DIVERSITY.images, images)} inputs.`,
      columns: ['masked L1 ↓', 'SSIM ↑', 'PSNR (dB) ↑', 'sharpness (1 = real)', 'checkerboard (1 = real)', 'checkerboard prior', `${substitute.name} completions ↓`, `${substitute.name} prior ↓`, `${perceptual.name} ↓`, 'diversity'],
      digits: [4, 3, 2, 3, 2, 2, 2, 2, 4, 4],
      rows: rows.map((r, i) => ({ name: r.name, cells: [r.maskedL1, r.ssim, r.psnr, r.sharpness, r.checkerboard, prior[i]?.checkerboard ?? null, r.frechet[substitute.name], prior[i]?.frechet[substitute.name] ?? null, r.perceptual, r.diversity] })),
    };
    return { images, rows, table };
  } finally {
    perceptual.dispose();
    substitute.dispose();
  }
}
