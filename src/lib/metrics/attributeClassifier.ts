import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { readAndDispose } from '../tensorReads';
import { batchesPerEpoch, epochBatches, gatherBatch, type FaceDataset } from '../data/faceDataset';
import { cacheKey } from '../data/imageCache';
import { writeFileAtomic, writeJsonAtomic } from '../io/atomicWrite';
import { readTensors, writeTensors } from '../io/tensorFiles';
import { ProgressBar } from '../progress';

/**
 * A small CNN predicting the 40 attributes, trained here on the real faces' training split. It
 * measures whether completions keep a face's attributes, and its joint-class probabilities give
 * the offline substitute for the Inception score.
 */
export interface AttributeClassifier {
  /** The network on images, or (with `backbone`) the head on the backbone's features. */
  model: tf.LayersModel;
  /** A frozen pretrained network whose features `model` reads (metrics/pretrainedJudge.ts). */
  backbone?: { features(x01: tf.Tensor4D): tf.Tensor2D; dispose(): void };
  imageSize: number;
  attributeNames: string[];
  /** Mean accuracy over the 40 attributes on the validation split. */
  valAccuracy: number;
  description: string;
  /**
   * Where its verdicts on real faces are kept, by the judge's identity (its weights' SHA-256) and the
   * images' content: the real-pair and real-fill figures judge the same test faces on every sweep.
   */
  verdictCache?: { identity: string; dir: string };
}

/**
 * Two networks of this family: the judge, which measures attributes in every table and control
 * rate, and the guide, which only the attribute-guidance training term sees. Different widths and
 * seeds, so a generator cannot pass the judge by exploiting the particular network it was trained
 * against.
 */
export type ClassifierRole = 'judge' | 'guide';
const ROLE_WIDTHS: Record<ClassifierRole, number[]> = { judge: [32, 64, 128, 128], guide: [24, 48, 96, 192] };
const GUIDE_SEED_OFFSET = 1000;

function buildClassifier(size: number, attributes: number, seed: number, widths: number[]): tf.LayersModel {
  let s = seed * 100;
  const init = () => tf.initializers.glorotUniform({ seed: s++ });
  const x = tf.input({ shape: [size, size, 3] });
  let h: tf.SymbolicTensor = x;
  for (const ch of widths) {
    h = tf.layers.conv2d({ filters: ch, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', kernelInitializer: init() }).apply(h) as tf.SymbolicTensor;
  }
  h = tf.layers.globalAveragePooling2d({}).apply(h) as tf.SymbolicTensor;
  const logits = tf.layers.dense({ units: attributes, kernelInitializer: init() }).apply(h) as tf.SymbolicTensor;
  return tf.model({ inputs: x, outputs: logits });
}

/** Attribute probabilities [N, 40] for images in [0, 1]. */
export function predictAttributes(c: AttributeClassifier, x: tf.Tensor4D): tf.Tensor2D {
  return tf.tidy(() => tf.sigmoid(c.model.predict(c.backbone ? c.backbone.features(x) : x) as tf.Tensor2D) as tf.Tensor2D);
}

/** Frees a classifier's networks (its head and, for the pretrained judge, the backbone). */
export function disposeClassifier(c: AttributeClassifier): void {
  c.model.dispose();
  c.backbone?.dispose();
}

/** Per-attribute loss weights [1, A] for positives and negatives from the training split's frequencies. */
export function classBalanceWeights(ds: FaceDataset): { positive: tf.Tensor2D; negative: tf.Tensor2D } {
  const a = ds.attributeNames.length;
  const on = new Float64Array(a);
  for (const i of ds.splits.train) for (let j = 0; j < a; j++) on[j] += ds.attributes[i * a + j];
  const n = ds.splits.train.length;
  // Clamped so an attribute seen (almost) never or always does not get an unbounded weight.
  const p = Array.from(on, (c) => Math.min(0.99, Math.max(0.01, c / n)));
  return { positive: tf.tensor2d(p.map((q) => 0.5 / q), [1, a]), negative: tf.tensor2d(p.map((q) => 0.5 / (1 - q)), [1, a]) };
}

/** A classifier's verdicts on one attribute against the truth: counts of hits among faces with and without it. */
export class VerdictTally {
  truePositives = 0;
  positives = 0;
  trueNegatives = 0;
  negatives = 0;

  /** One face: the classifier's probability of the attribute, and its true value (1/0). */
  add(probability: number, truth: number): void {
    if (truth > 0.5) {
      this.positives++;
      if (probability > 0.5) this.truePositives++;
    } else {
      this.negatives++;
      if (probability <= 0.5) this.trueNegatives++;
    }
  }

  /** Of the faces with the attribute, the share called "on" (null: none had it). */
  get recall(): number | null {
    return this.positives ? this.truePositives / this.positives : null;
  }

  /** Of the faces without it, the share called "off" (null: all had it). */
  get specificity(): number | null {
    return this.negatives ? this.trueNegatives / this.negatives : null;
  }

  /** (recall + specificity) / 2, or the one of them there is (NaN: no faces). */
  get balanced(): number {
    const rates = [this.recall, this.specificity].filter((r): r is number => r !== null);
    return rates.reduce((x, y) => x + y, 0) / rates.length;
  }

  /** The share of faces called right (NaN: no faces). */
  get accuracy(): number {
    return (this.truePositives + this.trueNegatives) / (this.positives + this.negatives);
  }

  /** recall × specificity: the share of (without, with) pairs of real faces called right both ways (null: one side missing). */
  get realPair(): number | null {
    return this.recall === null || this.specificity === null ? null : this.recall * this.specificity;
  }
}

/** The classifier's probabilities p [N·A] and the true labels y [N·A] (face-major) of the faces `indices`. */
export async function attributeProbabilities(c: AttributeClassifier, ds: FaceDataset, indices: number[], transform?: (x: tf.Tensor4D) => tf.Tensor4D): Promise<{ p: Float32Array; y: Float32Array }> {
  const a = ds.attributeNames.length;
  const cached = c.verdictCache && !transform ? await verdictFile(c.verdictCache, ds, indices) : null;
  if (cached && fs.existsSync(cached)) {
    const bytes = fs.readFileSync(cached);
    if (bytes.length === indices.length * a * 4) {
      const y = new Float32Array(indices.length * a);
      indices.forEach((face, i) => y.set(ds.attributes.subarray(face * a, (face + 1) * a), i * a));
      return { p: new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length)), y };
    }
  }
  const [p, y] = [new Float32Array(indices.length * a), new Float32Array(indices.length * a)];
  for (let i = 0; i < indices.length; i += 128) {
    const b = gatherBatch(ds, indices.slice(i, i + 128));
    const pb = tf.tidy(() => predictAttributes(c, transform ? transform(b.x) : b.x));
    const [pv, yv] = await readAndDispose([pb, b.y]);
    p.set(pv, i * a);
    y.set(yv, i * a);
    b.x.dispose();
  }
  if (cached) {
    fs.mkdirSync(path.dirname(cached), { recursive: true });
    writeFileAtomic(cached, new Uint8Array(p.buffer));
  }
  return { p, y };
}

/** The verdict file of this judge on these faces: named by the judge's identity and a hash of the images' pixels. */
async function verdictFile(cache: { identity: string; dir: string }, ds: FaceDataset, indices: number[]): Promise<string> {
  const hash = crypto.createHash('sha256');
  for (let i = 0; i < indices.length; i += 256) {
    const b = gatherBatch(ds, indices.slice(i, i + 256), []);
    tf.dispose(b.y);
    const [pixels] = await readAndDispose([b.x]); // the faces' pixels, read only to name the cache file
    hash.update(pixels);
  }
  return path.join(cache.dir, `${cache.identity.slice(0, 16)}-${hash.digest('hex').slice(0, 24)}.bin`);
}

/** Tallies of verdicts p > cut (default 0.5; `cuts`: one per attribute) against the labels, one per attribute. */
export function talliesOf(p: ArrayLike<number>, y: ArrayLike<number>, attributes: number, cuts?: number[]): VerdictTally[] {
  const tallies = Array.from({ length: attributes }, () => new VerdictTally());
  // VerdictTally calls "on" above 0.5: a cut c maps p to 0.5 + (p − c) (same order, same verdicts).
  for (let k = 0; k < p.length; k++) tallies[k % attributes].add(cuts ? 0.5 + p[k] - cuts[k % attributes] : p[k], y[k]);
  return tallies;
}

/** The classifier's verdicts on each attribute of the faces `indices` (one tally per attribute). */
export async function attributeTallies(c: AttributeClassifier, ds: FaceDataset, indices: number[], transform?: (x: tf.Tensor4D) => tf.Tensor4D): Promise<VerdictTally[]> {
  const { p, y } = await attributeProbabilities(c, ds, indices, transform);
  return talliesOf(p, y, ds.attributeNames.length);
}

/** Mean accuracy over attributes: the verdicts called right over all verdicts (each tally holds the same faces). */
export function meanAccuracy(tallies: VerdictTally[]): number {
  const correct = tallies.reduce((s, t) => s + t.truePositives + t.trueNegatives, 0);
  return correct / tallies.reduce((s, t) => s + t.positives + t.negatives, 0);
}

/** Mean balanced accuracy over attributes; one absent (or universal) in the faces counts its one rate. */
export function meanBalanced(tallies: VerdictTally[]): number {
  const rated = tallies.filter((t) => t.recall !== null || t.specificity !== null);
  return rated.reduce((s, t) => s + t.balanced, 0) / rated.length;
}

/** Mean accuracy over attributes, and mean balanced accuracy ((recall + specificity) / 2). */
export async function validationAccuracy(c: AttributeClassifier, ds: FaceDataset, indices: number[]): Promise<{ accuracy: number; balanced: number }> {
  const tallies = await attributeTallies(c, ds, indices);
  return { accuracy: meanAccuracy(tallies), balanced: meanBalanced(tallies) };
}

/**
 * Train (or load from `cacheDir`) the classifier for this data set and image size. Cached by the
 * data set's images, size and seed, saved atomically.
 */
export async function attributeClassifierFor(
  ds: FaceDataset,
  options: { epochs?: number; seed?: number; cacheDir?: string; role?: ClassifierRole; balanced?: boolean; onLine?: (l: string) => void } = {},
): Promise<AttributeClassifier> {
  const epochs = options.epochs ?? 6;
  const role = options.role ?? 'judge';
  const balanced = options.balanced ?? false;
  const seed = (options.seed ?? 0) + (role === 'guide' ? GUIDE_SEED_OFFSET : 0);
  const size = ds.preprocess.size;
  const widths = ROLE_WIDTHS[role];
  // The judge's key is unchanged from before roles existed, so its cached weights stay valid.
  const key = cacheKey({ format: 2, images: ds.images, root: ds.root, size, epochs, seed, splits: ds.splits.train.length, ...(role === 'guide' ? { widths } : {}), ...(balanced ? { balanced } : {}) });
  const dir = path.join(options.cacheDir ?? path.join('results', 'cache'), `attribute-${role === 'guide' ? 'guide' : 'classifier'}${balanced ? '-balanced' : ''}-${size}-${key}`);
  const model = buildClassifier(size, ds.attributeNames.length, seed, widths);
  const describe = (acc: number, balancedAcc?: number) =>
    balanced
      ? `class-balanced attribute ${role === 'guide' ? 'guide ' : ''}classifier (4-conv CNN, widths ${widths.join('/')}, each attribute's positives and negatives weighted equally, trained here on the ${ds.kind} training split, ${size}×${size}, ${epochs} epochs, validation accuracy ${(acc * 100).toFixed(1)} %, balanced ${((balancedAcc ?? NaN) * 100).toFixed(1)} %)`
      : `attribute ${role === 'guide' ? 'guide ' : ''}classifier (4-conv CNN, widths ${widths.join('/')}, trained here on the ${ds.kind} training split, ${size}×${size}, ${epochs} epochs, validation accuracy ${(acc * 100).toFixed(1)} %)`;
  if (fs.existsSync(path.join(dir, 'meta.json'))) {
    const meta = JSON.parse(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8')) as { valAccuracy: number; valBalancedAccuracy?: number };
    const saved = readTensors(path.join(dir, 'weights'));
    model.setWeights(saved.map((s) => s.tensor));
    tf.dispose(saved.map((s) => s.tensor));
    return { model, imageSize: size, attributeNames: ds.attributeNames, valAccuracy: meta.valAccuracy, description: describe(meta.valAccuracy, meta.valBalancedAccuracy) };
  }
  // Balanced: positives weighted 1/(2p_a) and negatives 1/(2(1 − p_a)) (p_a: the attribute's training
  // frequency), so a rare attribute (glasses: 7 % of faces) is not learnt as "always off".
  const weights = balanced ? classBalanceWeights(ds) : null;
  const optimizer = tf.train.adam(1e-3);
  const perEpoch = batchesPerEpoch(ds, 'train', 64);
  for (let epoch = 0; epoch < epochs; epoch++) {
    const bar = new ProgressBar(`attribute classifier epoch ${epoch + 1}/${epochs}`, perEpoch, options.onLine ?? null);
    let step = 0;
    for (const b of epochBatches(ds, 'train', 64, seed, epoch)) {
      const loss = optimizer.minimize(() => {
        const w = weights ? tf.add(tf.mul(b.y, weights.positive), tf.mul(tf.sub(1, b.y), weights.negative)) : undefined;
        return tf.losses.sigmoidCrossEntropy(b.y, model.apply(b.x) as tf.Tensor2D, w) as tf.Scalar;
      }, true);
      const [bce] = await readAndDispose([loss!]);
      bar.update(++step, `BCE ${bce[0].toFixed(3)}`);
      tf.dispose([b.x, b.y]);
    }
    bar.stop();
  }
  optimizer.dispose();
  if (weights) tf.dispose([weights.positive, weights.negative]);
  const classifier: AttributeClassifier = { model, imageSize: size, attributeNames: ds.attributeNames, valAccuracy: 0, description: '' };
  const val = await validationAccuracy(classifier, ds, ds.splits.val);
  classifier.valAccuracy = val.accuracy;
  classifier.description = describe(val.accuracy, val.balanced);
  fs.mkdirSync(dir, { recursive: true });
  await writeTensors(path.join(dir, 'weights'), model.getWeights().map((tensor, i) => ({ name: `w${i}`, tensor })));
  // Written last: its presence marks a complete cache entry.
  writeJsonAtomic(path.join(dir, 'meta.json'), { valAccuracy: val.accuracy, ...(balanced ? { valBalancedAccuracy: val.balanced } : {}) });
  return classifier;
}

/** The attributes whose 2^4 joint classes define the substitute score's p(y|x). */
export const SCORE_ATTRIBUTES = ['Male', 'Smiling', 'Young', 'Wavy_Hair'];

/** p(y|x) over the 16 joint classes of SCORE_ATTRIBUTES, treating them as independent given x. */
export function jointClassProbabilities(c: AttributeClassifier, x: tf.Tensor4D): tf.Tensor2D {
  const cols = SCORE_ATTRIBUTES.map((a) => c.attributeNames.indexOf(a));
  return tf.tidy(() => {
    const p = predictAttributes(c, x);
    let joint = tf.ones([x.shape[0], 1]) as tf.Tensor2D;
    for (const col of cols) {
      const pa = tf.slice(p, [0, col], [-1, 1]);
      joint = tf.reshape(tf.concat([tf.mul(joint, tf.sub(1, pa)), tf.mul(joint, pa)], 1), [x.shape[0], -1]) as tf.Tensor2D;
    }
    return joint;
  });
}
