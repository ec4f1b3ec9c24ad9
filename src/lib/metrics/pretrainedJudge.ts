import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { gatherBatch, type FaceDataset } from '../data/faceDataset';
import { cacheKey } from '../data/imageCache';
import { writeFileAtomic, writeJsonAtomic } from '../io/atomicWrite';
import { readTensors, tensorFileSha256, writeTensors } from '../io/tensorFiles';
import { ProgressBar } from '../progress';
import { readAndDispose } from '../tensorReads';
import { loadNsfwjsInceptionV3Layers } from '../weights/featureNet';
import { createRng, subSeed, tfSeed } from '../rng';
import { classBalanceWeights, validationAccuracy, type AttributeClassifier } from './attributeClassifier';
import { blurred } from './blur';
import { compositeImages, compositeLabels, compositePlan, JUDGE_COMPOSITE_WEIGHT, JUDGE_COMPOSITES, type Composite } from './judgeComposites';

/**
 * The independent judge of attribute control: a linear probe per attribute on a frozen
 * ImageNet-initialised InceptionV3 (nsfwjs@4.4.0, images resized to 139×139), trained
 * class-balanced on the training split, each attribute's threshold set on the validation split for
 * the best balanced accuracy. Unlike the project's small CNNs (the plain and balanced judges, and
 * the guide that attribute-guided models train against), it shares neither architecture nor
 * training with anything a generator saw.
 *
 * Its features (`grid`, the default): mixed5 and mixed7 averaged over a 3 × 3 grid of the face
 * (eyes, nose, mouth rows; 7 × 7 maps at this size) and mixed10's spatial mean, 15,872-d. Global
 * means alone (`means`: mixed7 + mixed10, 2,816-d, the first version of this judge, kept so its
 * committed numbers can be remade — equal up to the rounding of the standardisation, now float64;
 * not rerun) lose where a feature is: on 3,000 faces, sharp only, the grid raised
 * balanced accuracy on Smiling 0.793 → 0.844, Eyeglasses 0.748 → 0.882, Young 0.683 → 0.744
 * (results/logs/judge/pooling-pilot.log).
 */
export const JUDGE_INPUT_SIZE = 139;
export type JudgeLayout = 'grid' | 'means';
/** Per layout: each layer and its pooling (a g × g grid of means; 1: the spatial mean). */
export const JUDGE_POOLING: Record<JudgeLayout, [string, number][]> = {
  grid: [['mixed5', 3], ['mixed7', 3], ['mixed10', 1]],
  means: [['mixed7', 1], ['mixed10', 1]],
};
/**
 * Each training (and threshold) face is seen sharp and blurred by these factors (bilinear down to
 * 1/f of the side and up again): probes on sharp photographs alone read a smile from detail that a
 * VAE's decodes lack (Smiling recall 0.75 on sharp test faces, 0.39 at 2×, 0.01 at 4× blur), so
 * they would call every decoded smile "off" whatever its shape.
 */
export const JUDGE_BLURS = [1, 2, 4];
/** Weight decay of the probes (L2 on the kernel). */
const L2 = 1e-3;
const BATCH = 256;

function layoutText(layout: JudgeLayout): string {
  return JUDGE_POOLING[layout].map(([l, g]) => (g === 1 ? `${l} spatial mean` : `${l} ${g}×${g}-grid means`)).join(' + ');
}

const description = (layout: JudgeLayout, composites: boolean, weight: number) =>
  `pretrained judge (linear probes on a frozen InceptionV3, ImageNet-initialised, nsfwjs@4.4.0: ${layoutText(layout)}, ${JUDGE_INPUT_SIZE}×${JUDGE_INPUT_SIZE}; class-balanced, each face seen sharp and ${JUDGE_BLURS.slice(1).map((f) => `${f}×`).join(', ')} blurred${composites ? `, plus one composite of real faces per face (a ${JUDGE_COMPOSITES.holes.join(' | ')} hole blurred in place 2×/4×, or filled from another face blurred ${JUDGE_COMPOSITES.blurs.map((f) => `${f}×`).join('/')} and labelled where the two agree${weight !== 1 ? `; weight ${weight}` : ''})` : ''}; thresholds chosen on the validation split)`;

/** Means of a [N, H, W, C] map over a g × g grid of cells, cell by cell (row-major): [N, g·g·C]. */
export function gridMeans(map: tf.Tensor4D, g: number): tf.Tensor2D {
  return tf.tidy(() => {
    if (g === 1) return tf.mean(map, [1, 2]) as tf.Tensor2D;
    const [, h, w] = map.shape;
    const cut = (n: number) => Array.from({ length: g + 1 }, (_, k) => Math.round((k * n) / g));
    const [rows, cols] = [cut(h), cut(w)];
    const cells: tf.Tensor2D[] = [];
    for (let r = 0; r < g; r++) for (let c = 0; c < g; c++) cells.push(tf.mean(map.slice([0, rows[r], cols[c], 0], [-1, rows[r + 1] - rows[r], cols[c + 1] - cols[c], -1]), [1, 2]) as tf.Tensor2D);
    return tf.concat(cells, 1) as tf.Tensor2D;
  });
}

export interface PretrainedJudgeOptions {
  seed?: number;
  cacheDir?: string;
  epochs?: number;
  /** The features (default grid); `means`, the first version's, reproduces its committed numbers. */
  layout?: JudgeLayout;
  /**
   * Also train (and choose thresholds) on composites of real faces (metrics/judgeComposites.ts):
   * the default judge's; false: the first grid judge's, faces only, for its committed numbers.
   */
  composites?: boolean;
  /** A composite's weight in the loss (default JUDGE_COMPOSITE_WEIGHT; 1 was the first composite judge's). */
  compositeWeight?: number;
  /** Train on labels shuffled across faces (a test that the judge can fail). */
  shuffleLabels?: boolean;
  /** The head's weight decay and hidden width (ProbeOptions; defaults: the judge's linear probes). */
  l2?: number;
  hidden?: number;
  onLine?: (l: string) => void;
}

/** The frozen backbone: standardised pooled features [N, D] of images in [0, 1]. */
export async function judgeBackbone(layout: JudgeLayout, mean?: tf.Tensor1D, std?: tf.Tensor1D) {
  const pooling = JUDGE_POOLING[layout];
  const net = await loadNsfwjsInceptionV3Layers(pooling.map(([l]) => l));
  const raw = (x01: tf.Tensor4D) =>
    tf.tidy(() => {
      const resized = tf.image.resizeBilinear(x01, [JUDGE_INPUT_SIZE, JUDGE_INPUT_SIZE], false, true);
      const outs = net.predict(resized) as tf.Tensor4D[];
      return tf.concat(outs.map((o, i) => gridMeans(o, pooling[i][1])), 1) as tf.Tensor2D;
    });
  return {
    raw,
    features: (x01: tf.Tensor4D) => tf.tidy(() => (mean && std ? (tf.div(tf.sub(raw(x01), mean), std) as tf.Tensor2D) : raw(x01))),
    dispose: () => {
      net.dispose();
      tf.dispose([mean, std].filter((t): t is tf.Tensor1D => t !== undefined));
    },
  };
}

/** Rows × dim float32 features, held in JS memory (the grid's 27,000 × 15,872 would not fit a wasm heap twice). */
export interface FeatureTable {
  rows: number;
  dim: number;
  data: Float32Array;
}

/** A cached table (format 3: raw float32 rows; format 2: a tensor file, as the first judge wrote it), or null. */
async function readFeatureTable(dir: string): Promise<FeatureTable | null> {
  const file = path.join(dir, 'features');
  if (!fs.existsSync(`${file}.json`)) return null;
  const index = JSON.parse(fs.readFileSync(`${file}.json`, 'utf8')) as { format?: number; rows: number; dim: number };
  if (index.format === 3) {
    const bytes = fs.readFileSync(`${file}.bin`);
    if (bytes.length !== index.rows * index.dim * 4) throw new Error(`${file}.bin: ${bytes.length} bytes, expected ${index.rows * index.dim * 4} (truncated; delete ${dir} to recompute)`);
    const data = bytes.byteOffset % 4 === 0 ? new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4) : new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
    return { rows: index.rows, dim: index.dim, data };
  }
  const t = readTensors(file)[0].tensor;
  const table = { rows: t.shape[0], dim: t.shape[1]!, data: (await t.data()) as Float32Array };
  t.dispose();
  return table;
}

/** Rows per part file of a feature pass in progress (64 MB at the grid's 15,872-d). */
const PART_ROWS = 1024;

/**
 * Raw backbone features of `rows` images, `images(start, count)` giving rows start..start+count
 * (count ≤ 64, never across a part), cached in `dir` as raw float32. The slow part (minutes on a
 * CPU): each finished part of 1,024 rows is written as it completes, so a stopped pass resumes there.
 */
async function cachedFeatures(dir: string, layout: JudgeLayout, title: string, rows: number, images: (start: number, count: number) => tf.Tensor4D, onLine?: (l: string) => void): Promise<FeatureTable> {
  const cached = await readFeatureTable(dir);
  if (cached) return cached;
  fs.mkdirSync(dir, { recursive: true });
  const partFile = (k: number) => path.join(dir, `features.part-${String(k).padStart(4, '0')}.bin`);
  const parts = Math.ceil(rows / PART_ROWS);
  const net = await judgeBackbone(layout);
  const bar = new ProgressBar(title, rows, onLine ?? null);
  let dim = 0;
  try {
    for (let k = 0; k < parts; k++) {
      const [from, to] = [k * PART_ROWS, Math.min(rows, (k + 1) * PART_ROWS)];
      if (fs.existsSync(partFile(k))) {
        dim = fs.statSync(partFile(k)).size / 4 / (to - from);
        bar.update(to);
        continue;
      }
      const chunks: Float32Array[] = [];
      for (let i = from; i < to; i += 64) {
        const x = images(i, Math.min(64, to - i));
        const [f] = await readAndDispose([net.raw(x)]); // one batch at a time, so memory stays flat
        x.dispose();
        chunks.push(f);
        bar.update(Math.min(i + 64, to));
      }
      const part = new Float32Array(chunks.reduce((s, c) => s + c.length, 0));
      chunks.reduce((o, c) => (part.set(c, o), o + c.length), 0);
      dim = part.length / (to - from);
      writeFileAtomic(partFile(k), new Uint8Array(part.buffer));
    }
  } finally {
    bar.stop();
    net.dispose();
  }
  const table: FeatureTable = { rows, dim, data: new Float32Array(rows * dim) };
  for (let k = 0; k < parts; k++) {
    const bytes = fs.readFileSync(partFile(k));
    table.data.set(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4), k * PART_ROWS * dim);
  }
  writeFileAtomic(path.join(dir, 'features.bin'), new Uint8Array(table.data.buffer));
  writeJsonAtomic(path.join(dir, 'features.json'), { format: 3, rows, dim });
  for (let k = 0; k < parts; k++) fs.rmSync(partFile(k));
  return table;
}

/** Features of every face of the data set at every blur factor ([blur][face] rows). */
function datasetFeatures(ds: FaceDataset, dir: string, layout: JudgeLayout, onLine?: (l: string) => void): Promise<FeatureTable> {
  const n = ds.images.length;
  return cachedFeatures(dir, layout, 'judge features (InceptionV3)', n * JUDGE_BLURS.length, (start, count) => {
    // A batch never spans two blur factors when n is a multiple of 64; otherwise it is split here.
    const rows = Array.from({ length: count }, (_, j) => start + j);
    const b = gatherBatch(ds, rows.map((r) => r % n));
    const out = tf.tidy(() => tf.concat(JUDGE_BLURS.map((f, k) => {
      const mine = rows.map((r, j) => (Math.floor(r / n) === k ? j : -1)).filter((j) => j >= 0);
      return mine.length ? blurred(tf.gather(b.x, mine) as tf.Tensor4D, f) : null;
    }).filter((x): x is tf.Tensor4D => x !== null), 0) as tf.Tensor4D);
    tf.dispose([b.x, b.y]);
    return out;
  }, onLine);
}

/** Features of the composites (metrics/judgeComposites.ts), one row each, in the plan's order. */
function compositeFeatures(ds: FaceDataset, plan: Composite[], dir: string, layout: JudgeLayout, onLine?: (l: string) => void): Promise<FeatureTable> {
  return cachedFeatures(dir, layout, 'judge features of composites (InceptionV3)', plan.length, (start, count) => compositeImages(ds, plan.slice(start, start + count)), onLine);
}

/** Feature tables read as one: rows numbered on from one table to the next (the faces, then their composites). */
export class FeatureRows {
  readonly dim: number;
  readonly rows: number;
  constructor(readonly tables: FeatureTable[]) {
    this.dim = tables[0].dim;
    for (const t of tables) if (t.dim !== this.dim) throw new Error(`feature tables of ${this.dim} and ${t.dim} columns cannot be joined`);
    this.rows = tables.reduce((s, t) => s + t.rows, 0);
  }

  row(r: number): Float32Array {
    for (const t of this.tables) {
      if (r < t.rows) return t.data.subarray(r * this.dim, (r + 1) * this.dim);
      r -= t.rows;
    }
    throw new RangeError(`feature row ${r} past the end`);
  }
}

/** These rows ([idx.length, dim]) as a tensor. */
function rowsTensor(t: FeatureRows, idx: number[]): tf.Tensor2D {
  const out = new Float32Array(idx.length * t.dim);
  idx.forEach((r, i) => out.set(t.row(r), i * t.dim));
  return tf.tensor2d(out, [idx.length, t.dim]);
}

/** Every row standardised in place (the tables are this call's own copies of the cached files). */
function standardise(t: FeatureRows, mean: Float32Array, std: Float32Array): void {
  for (let r = 0; r < t.rows; r++) {
    const v = t.row(r);
    for (let d = 0; d < t.dim; d++) v[d] = (v[d] - mean[d]) / std[d];
  }
}

/** Per-feature mean and standard deviation (+ 1e-6) over these rows, in float64. */
function moments(t: FeatureRows, idx: number[]): { mean: Float32Array; std: Float32Array } {
  const sum = new Float64Array(t.dim);
  const sq = new Float64Array(t.dim);
  for (const r of idx) {
    const row = t.row(r);
    for (let d = 0; d < t.dim; d++) {
      const v = row[d];
      sum[d] += v;
      sq[d] += v * v;
    }
  }
  const mean = Float32Array.from(sum, (v) => v / idx.length);
  const std = Float32Array.from(sq, (v, d) => Math.sqrt(Math.max(0, v / idx.length - mean[d] * mean[d])) + 1e-6);
  return { mean, std };
}

/**
 * What a threshold is chosen for: `balanced` ((recall + specificity) / 2, the judge's own cut: a
 * rare attribute is not called "off" everywhere) or `accuracy` (the share of faces called right, the
 * figure CelebA's published classifiers report).
 */
export type ThresholdObjective = 'balanced' | 'accuracy';

/** The threshold on p that maximises the objective on these faces (0.5 where one class is missing). */
export function bestThreshold(p: ArrayLike<number>, y: ArrayLike<number>, objective: ThresholdObjective): number {
  // Unlabelled faces (y NaN: a composite whose host and donor disagree) do not count.
  const order = Array.from(p, (v, i) => [v, y[i]] as const).filter(([, t]) => !Number.isNaN(t)).sort((a, b) => a[0] - b[0]);
  const pos = order.filter(([, t]) => t > 0.5).length;
  const neg = order.length - pos;
  if (pos === 0 || neg === 0) return 0.5;
  const score = (negBelow: number, posBelow: number) =>
    objective === 'balanced' ? (negBelow / neg + (pos - posBelow) / pos) / 2 : (negBelow + pos - posBelow) / order.length;
  // Threshold between order[k-1] and order[k]: faces 0..k-1 called off.
  let negBelow = 0;
  let posBelow = 0;
  let best = { score: -1, threshold: 0.5 };
  for (let k = 0; k <= order.length; k++) {
    const s = score(negBelow, posBelow);
    if (s > best.score) best = { score: s, threshold: k === 0 ? order[0][0] - 1e-6 : k === order.length ? order[k - 1][0] + 1e-6 : (order[k - 1][0] + order[k][0]) / 2 };
    if (k < order.length) order[k][1] > 0.5 ? posBelow++ : negBelow++;
  }
  return Math.min(1 - 1e-6, Math.max(1e-6, best.threshold));
}

/** Each attribute's best threshold for p and y of N faces × `attributes`, face-major. */
export function perAttributeThresholds(p: ArrayLike<number>, y: ArrayLike<number>, attributes: number, objective: ThresholdObjective): number[] {
  const faces = p.length / attributes;
  const column = (v: ArrayLike<number>, j: number) => Array.from({ length: faces }, (_, i) => v[i * attributes + j]);
  return Array.from({ length: attributes }, (_, j) => bestThreshold(column(p, j), column(y, j), objective));
}

/** The threshold on p that maximises balanced accuracy ((recall + specificity) / 2) on these faces. */
export const balancedThreshold = (p: ArrayLike<number>, y: ArrayLike<number>): number => bestThreshold(p, y, 'balanced');

/** The head on D-d features: linear probes, or (hidden > 0) one ReLU layer before them. */
function probeHead(dim: number, attributes: number, hidden: number, seed: number): tf.Sequential {
  const init = (k: number) => tf.initializers.glorotUniform({ seed: tfSeed(seed + k) });
  const layers = hidden
    ? [tf.layers.dense({ inputShape: [dim], units: hidden, activation: 'relu', kernelInitializer: init(0) }), tf.layers.dense({ units: attributes, kernelInitializer: init(1) })]
    : [tf.layers.dense({ inputShape: [dim], units: attributes, kernelInitializer: init(0) })];
  return tf.sequential({ layers });
}

/** Names of the head's saved weights, in getWeights() order (the linear head's as the first version saved them). */
const headWeightNames = (hidden: number) => (hidden ? ['hiddenKernel', 'hiddenBias', 'kernel', 'bias'] : ['kernel', 'bias']);

interface ProbeOptions {
  seed: number;
  epochs: number;
  /** L2 weight decay on the kernels (default 1e-3). */
  l2?: number;
  /** Units of a hidden ReLU layer (default 0: linear probes, the judge's). */
  hidden?: number;
  /** A table row's weight in the loss (default 1 for every row). */
  rowWeight?: (row: number) => number;
  onLine?: (l: string) => void;
}

/**
 * Heads on the table's rows `rows` with labels `y` (rows × A, in `rows`' order; NaN: unlabelled,
 * weight 0), class-balanced by `weights`, Adam 1e-3, batches of 256 in an order drawn from `rng` each epoch.
 */
async function fitProbes(table: FeatureRows, rows: number[], y: ArrayLike<number>, weights: { positive: tf.Tensor2D; negative: tf.Tensor2D }, rng: ReturnType<typeof createRng>, options: ProbeOptions): Promise<tf.Sequential> {
  const a = weights.positive.shape[1];
  const l2 = options.l2 ?? L2;
  const model = probeHead(table.dim, a, options.hidden ?? 0, options.seed);
  const kernels = model.layers.map((l) => l.trainableWeights[0]);
  const optimizer = tf.train.adam(1e-3);
  const bar = new ProgressBar(`judge ${options.hidden ? `MLP (${options.hidden} hidden)` : 'probes'}`, options.epochs, options.onLine ?? null);
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    const order = rng.shuffle(Array.from({ length: rows.length }, (_, i) => i));
    let last: tf.Scalar | null = null;
    for (let i = 0; i < order.length; i += BATCH) {
      const batch = order.slice(i, i + BATCH);
      const x = rowsTensor(table, batch.map((r) => rows[r]));
      const labels = Float32Array.from(batch.flatMap((r) => Array.from({ length: a }, (_, j) => y[r * a + j])));
      // Unlabelled entries weigh 0; a row's weight scales its labelled ones.
      const known = Float32Array.from(labels, (v, k) => (Number.isNaN(v) ? 0 : (options.rowWeight?.(rows[batch[Math.floor(k / a)]]) ?? 1)));
      const yb = tf.tensor2d(labels.map((v) => (Number.isNaN(v) ? 0 : v)), [batch.length, a]);
      const kb = known.every((k) => k === 1) ? null : tf.tensor2d(known, [batch.length, a]);
      last?.dispose();
      last = optimizer.minimize(() => {
        const balanced = tf.add(tf.mul(yb, weights.positive), tf.mul(tf.sub(1, yb), weights.negative));
        const w = kb ? tf.mul(balanced, kb) : balanced;
        const reg = tf.mul(l2, tf.addN(kernels.map((k) => tf.sum(tf.square(k.read())))));
        return tf.add(tf.losses.sigmoidCrossEntropy(yb, model.apply(x) as tf.Tensor2D, w), reg) as tf.Scalar;
      }, true) as tf.Scalar;
      tf.dispose([x, yb, ...(kb ? [kb] : [])]);
    }
    const [loss] = await readAndDispose([last!]);
    bar.update(epoch + 1, `BCE ${loss[0].toFixed(3)}`);
  }
  bar.stop();
  optimizer.dispose();
  return model;
}

/** Where the judge's features and head for this data set and these options are cached. */
export function pretrainedJudgeCache(ds: FaceDataset, options: PretrainedJudgeOptions = {}) {
  const seed = options.seed ?? 0;
  const epochs = options.epochs ?? 60;
  const layout = options.layout ?? 'grid';
  const composites = options.composites ?? layout === 'grid';
  if (composites && layout !== 'grid') throw new Error(`the judge's composites are for its grid features, not ${layout}`);
  // The means layout keeps the first version's cache keys (its cached features and probes still load).
  const features = layout === 'means' ? { layers: ['mixed7', 'mixed10'] } : { pooling: JUDGE_POOLING[layout] };
  const featureKey = cacheKey({ format: 2, images: ds.images, root: ds.root, size: ds.preprocess.size, ...features, input: JUDGE_INPUT_SIZE, blurs: JUDGE_BLURS });
  const cache = options.cacheDir ?? path.join('results', 'cache');
  const compositeKey = composites ? cacheKey({ format: 1, featureKey, composites: JUDGE_COMPOSITES, seed, train: ds.splits.train, val: ds.splits.val }) : null;
  const hidden = options.hidden ?? 0;
  const l2 = options.l2 ?? L2;
  // Default heads keep the first version's key (their cached probes still load).
  const compositeWeight = composites ? (options.compositeWeight ?? JUDGE_COMPOSITE_WEIGHT) : 0;
  const headKey = cacheKey({ format: 1, featureKey, splits: ds.splits.train.length, seed, epochs, shuffled: options.shuffleLabels ?? false, ...(hidden ? { hidden } : {}), ...(l2 !== L2 ? { l2 } : {}), ...(compositeKey ? { composites: compositeKey, ...(compositeWeight !== 1 ? { compositeWeight } : {}) } : {}) });
  return {
    seed,
    epochs,
    layout,
    composites,
    compositeWeight,
    hidden,
    l2,
    featureDir: path.join(cache, `judge-features-${featureKey}`),
    compositeDir: compositeKey ? path.join(cache, `judge-composites-${compositeKey}`) : null,
    headDir: path.join(cache, `judge-head-${headKey}`),
    verdictDir: path.join(cache, 'judge-verdicts'),
  };
}

/** Read a judge head (weights: the probes, their standardisation; meta.json) from `dir`. */
export async function readJudgeHead(dir: string, attributeNames: string[], o: { layout: JudgeLayout; hidden: number; seed: number; imageSize: number; verdictDir: string; describe: (meta: { valAccuracy: number; valBalancedAccuracy: number }) => string }): Promise<AttributeClassifier> {
  const saved = new Map(readTensors(path.join(dir, 'weights')).map((s) => [s.name, s.tensor]));
  const headWeights = headWeightNames(o.hidden).map((nm) => {
    const t = saved.get(nm);
    if (!t) throw new Error(`${path.join(dir, 'weights')}: no tensor "${nm}" (an incomplete judge head; delete ${dir} to retrain it)`);
    return t;
  });
  const units = headWeights[headWeights.length - 1].shape[0];
  if (units !== attributeNames.length) throw new Error(`${path.join(dir, 'weights')}: probes for ${units} attributes, expected ${attributeNames.length}`);
  const model = probeHead(headWeights[0].shape[0], attributeNames.length, o.hidden, o.seed);
  model.setWeights(headWeights);
  tf.dispose(headWeights);
  const meta = JSON.parse(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8')) as { valAccuracy: number; valBalancedAccuracy: number };
  const net = await judgeBackbone(o.layout, saved.get('mean') as tf.Tensor1D, saved.get('std') as tf.Tensor1D);
  return { model, backbone: net, imageSize: o.imageSize, attributeNames, valAccuracy: meta.valAccuracy, description: o.describe(meta), verdictCache: verdictCacheOf(dir, o.verdictDir) };
}

/** A judge head's identity (its weights file's SHA-256, from the tensor index) and where its verdicts are cached. */
function verdictCacheOf(headDir: string, dir: string): { identity: string; dir: string } | undefined {
  const identity = tensorFileSha256(path.join(headDir, 'weights'));
  // A head written before tensor files carried checksums: its verdicts are not cached.
  return identity ? { identity, dir } : undefined;
}

/** Train (or load from the cache) the pretrained judge for this data set. */
export async function pretrainedJudgeFor(ds: FaceDataset, options: PretrainedJudgeOptions = {}): Promise<AttributeClassifier> {
  const { seed, epochs, layout, composites, compositeWeight, hidden, l2, featureDir, compositeDir, headDir, verdictDir } = pretrainedJudgeCache(ds, options);
  const a = ds.attributeNames.length;
  const describeAs = (accuracy: number, balanced: number) => describe(layout, composites, compositeWeight, accuracy, balanced, options.shuffleLabels, hidden, l2);
  if (fs.existsSync(path.join(headDir, 'meta.json'))) {
    return readJudgeHead(headDir, ds.attributeNames, { layout, hidden, seed, imageSize: ds.preprocess.size, verdictDir, describe: (m) => describeAs(m.valAccuracy, m.valBalancedAccuracy) });
  }
  const faces = await datasetFeatures(ds, featureDir, layout, options.onLine);
  const n = ds.images.length;
  // Composites: one per training face, then one per validation face (rows after the faces' table).
  const plans = composites ? { train: compositePlan(ds.splits.train, seed, 'train'), val: compositePlan(ds.splits.val, seed, 'val') } : null;
  const table = new FeatureRows(plans ? [faces, await compositeFeatures(ds, [...plans.train, ...plans.val], compositeDir!, layout, options.onLine)] : [faces]);
  const compositeRows = (from: number, count: number) => Array.from({ length: count }, (_, i) => faces.rows + from + i);
  // A split's rows at every blur factor, and its labels repeated to match.
  const atBlurs = (idx: number[]) => JUDGE_BLURS.flatMap((_, k) => idx.map((i) => k * n + i));
  const labelRows = (idx: number[]) => {
    const y = new Float32Array(idx.length * a);
    idx.forEach((face, i) => y.set(ds.attributes.subarray(face * a, (face + 1) * a), i * a));
    return y;
  };
  const train = [...atBlurs(ds.splits.train), ...(plans ? compositeRows(0, plans.train.length) : [])];
  // Standardised by the training rows' statistics (folded into the backbone's output).
  const { mean, std } = moments(table, train);
  standardise(table, mean, std);
  let yTrain = [...JUDGE_BLURS.flatMap(() => Array.from(labelRows(ds.splits.train))), ...(plans ? compositeLabels(ds, plans.train) : [])];
  const rng = createRng(subSeed(seed, 'judge'));
  if (options.shuffleLabels) {
    const perm = rng.shuffle(Array.from({ length: train.length }, (_, i) => i));
    yTrain = perm.flatMap((r) => yTrain.slice(r * a, (r + 1) * a));
  }
  const weights = classBalanceWeights(ds);
  // Each face's three blur copies weigh 1, each composite compositeWeight.
  const rowWeight = (i: number) => (i < faces.rows ? 1 : compositeWeight);
  const model = await fitProbes(table, train, yTrain, weights, rng, { seed, epochs, l2, hidden, rowWeight, onLine: options.onLine });
  tf.dispose([weights.positive, weights.negative]);
  // Per-attribute thresholds on the validation split (and its composites), folded into the bias so p > 0.5 means "on" everywhere.
  const val = [...atBlurs(ds.splits.val), ...(plans ? compositeRows(plans.train.length, plans.val.length) : [])];
  const pVal = new Float32Array(val.length * a);
  for (let i = 0; i < val.length; i += BATCH) {
    const x = rowsTensor(table, val.slice(i, i + BATCH));
    const [p] = await readAndDispose([tf.tidy(() => tf.sigmoid(model.predict(x) as tf.Tensor2D))]);
    x.dispose();
    pVal.set(p, i * a);
  }
  const yVal = [...JUDGE_BLURS.flatMap(() => Array.from(labelRows(ds.splits.val))), ...(plans ? compositeLabels(ds, plans.val) : [])];
  const thresholds = perAttributeThresholds(pVal, yVal, a, 'balanced');
  const trained = model.getWeights();
  const shifted = tf.tidy(() => tf.sub(trained[trained.length - 1], tf.tensor1d(thresholds.map((t) => Math.log(t / (1 - t))))));
  model.setWeights([...trained.slice(0, -1), shifted]);
  shifted.dispose();
  const [meanT, stdT] = [tf.tensor1d(mean), tf.tensor1d(std)];
  const judge: AttributeClassifier = { model, backbone: await judgeBackbone(layout, meanT, stdT), imageSize: ds.preprocess.size, attributeNames: ds.attributeNames, valAccuracy: 0, description: '' };
  const { accuracy, balanced } = await validationAccuracy(judge, ds, ds.splits.val);
  judge.valAccuracy = accuracy;
  judge.description = describeAs(accuracy, balanced);
  fs.mkdirSync(headDir, { recursive: true });
  const headWeights = model.getWeights().map((tensor, i) => ({ name: headWeightNames(hidden)[i], tensor }));
  await writeTensors(path.join(headDir, 'weights'), [...headWeights, { name: 'mean', tensor: meanT }, { name: 'std', tensor: stdT }]);
  writeJsonAtomic(path.join(headDir, 'meta.json'), { valAccuracy: accuracy, valBalancedAccuracy: balanced, thresholds: Object.fromEntries(ds.attributeNames.map((nm, j) => [nm, thresholds[j]])) });
  judge.verdictCache = verdictCacheOf(headDir, verdictDir);
  return judge;
}

function describe(layout: JudgeLayout, composites: boolean, compositeWeight: number, accuracy: number, balanced: number, shuffled?: boolean, hidden = 0, l2 = L2): string {
  const head = `${hidden ? `; head: ${hidden} ReLU units before the probes` : ''}${l2 !== L2 ? `; weight decay ${l2}` : ''}`;
  return `${description(layout, composites, compositeWeight)}${head}${shuffled ? ' — TRAINED ON SHUFFLED LABELS' : ''}, validation accuracy ${(accuracy * 100).toFixed(1)} %, balanced ${(balanced * 100).toFixed(1)} %`;
}
