import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { gatherBatch, type FaceDataset } from '../data/faceDataset';
import { cacheKey } from '../data/imageCache';
import { writeJsonAtomic } from '../io/atomicWrite';
import { readTensors, writeTensors } from '../io/tensorFiles';
import { ProgressBar } from '../progress';
import { readAndDispose } from '../tensorReads';
import { loadNsfwjsInceptionV3Layers } from '../weights/featureNet';
import { createRng, subSeed, tfSeed } from '../rng';
import { attributeClassifierFor, classBalanceWeights, validationAccuracy, type AttributeClassifier } from './attributeClassifier';

/**
 * The independent judge of attribute control: a linear probe per attribute on a frozen
 * ImageNet-initialised InceptionV3 (nsfwjs@4.4.0; mixed7 and mixed10 spatial means, 2,816-d,
 * images resized to 139×139), trained class-balanced on the training split, each attribute's
 * threshold set on the validation split for the best balanced accuracy. Unlike the project's
 * small CNNs (the plain and balanced judges, and the guide that attribute-guided models train
 * against), it shares neither architecture nor training with anything a generator saw.
 */
export const JUDGE_LAYERS = ['mixed7', 'mixed10'];
export const JUDGE_INPUT_SIZE = 139;
/**
 * Each training (and threshold) face is seen sharp and blurred by these factors (bilinear down to
 * 1/f of the side and up again): probes on sharp photographs alone read a smile from detail that a
 * VAE's decodes lack (Smiling recall 0.75 on sharp test faces, 0.39 at 2×, 0.01 at 4× blur), so
 * they would call every decoded smile "off" whatever its shape.
 */
export const JUDGE_BLURS = [1, 2, 4];
/** Weight decay of the probes (L2 on the kernel). */
const L2 = 1e-3;
const DESCRIPTION = `pretrained judge (linear probes on a frozen InceptionV3, ImageNet-initialised, nsfwjs@4.4.0: ${JUDGE_LAYERS.join(' + ')} spatial means, ${JUDGE_INPUT_SIZE}×${JUDGE_INPUT_SIZE}; class-balanced, each face seen sharp and ${JUDGE_BLURS.slice(1).map((f) => `${f}×`).join(', ')} blurred; thresholds chosen on the validation split)`;

/** x blurred by a factor f: bilinear down to 1/f of its side and up again (f = 1: x itself). */
export function blurred(x: tf.Tensor4D, f: number): tf.Tensor4D {
  if (f === 1) return x.clone();
  const [, h, w] = x.shape;
  return tf.tidy(() => tf.image.resizeBilinear(tf.image.resizeBilinear(x, [Math.round(h / f), Math.round(w / f)], false, true), [h, w], false, true));
}

export interface PretrainedJudgeOptions {
  seed?: number;
  cacheDir?: string;
  epochs?: number;
  /** Train on labels shuffled across faces (a test that the judge can fail). */
  shuffleLabels?: boolean;
  onLine?: (l: string) => void;
}

/** The frozen backbone: standardised pooled features [N, D] of images in [0, 1]. */
async function backbone(mean?: tf.Tensor1D, std?: tf.Tensor1D) {
  const net = await loadNsfwjsInceptionV3Layers(JUDGE_LAYERS);
  const raw = (x01: tf.Tensor4D) =>
    tf.tidy(() => {
      const resized = tf.image.resizeBilinear(x01, [JUDGE_INPUT_SIZE, JUDGE_INPUT_SIZE], false, true);
      const outs = net.predict(resized) as tf.Tensor4D[];
      return tf.concat(outs.map((o) => tf.mean(o, [1, 2])), 1) as tf.Tensor2D;
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

/**
 * Backbone features of every face of the data set at every blur factor ([blur][face] rows),
 * computed once and cached (the slow part: minutes on a CPU).
 */
async function datasetFeatures(ds: FaceDataset, dir: string, onLine?: (l: string) => void): Promise<tf.Tensor2D> {
  const file = path.join(dir, 'features');
  if (fs.existsSync(`${file}.json`)) return readTensors(file)[0].tensor as tf.Tensor2D;
  const net = await backbone();
  const all = ds.images.map((_, i) => i);
  const parts: tf.Tensor2D[] = [];
  const bar = new ProgressBar('judge features (InceptionV3)', all.length * JUDGE_BLURS.length, onLine ?? null);
  for (const [k, factor] of JUDGE_BLURS.entries()) {
    for (let i = 0; i < all.length; i += 64) {
      const b = gatherBatch(ds, all.slice(i, i + 64));
      const x = blurred(b.x, factor);
      const f = net.raw(x);
      await f.data(); // one batch at a time, so memory stays flat
      parts.push(f);
      tf.dispose([b.x, b.y, x]);
      bar.update(k * all.length + Math.min(i + 64, all.length));
    }
  }
  bar.stop();
  net.dispose();
  const features = tf.concat(parts) as tf.Tensor2D;
  tf.dispose(parts);
  fs.mkdirSync(dir, { recursive: true });
  await writeTensors(file, [{ name: 'features', tensor: features }]);
  return features;
}

/** The threshold on p that maximises balanced accuracy ((recall + specificity) / 2) on these faces. */
export function balancedThreshold(p: ArrayLike<number>, y: ArrayLike<number>): number {
  const order = Array.from(p, (v, i) => [v, y[i]] as const).sort((a, b) => a[0] - b[0]);
  const pos = order.filter(([, t]) => t > 0.5).length;
  const neg = order.length - pos;
  if (pos === 0 || neg === 0) return 0.5;
  // Threshold between order[k-1] and order[k]: faces 0..k-1 called off.
  let negBelow = 0;
  let posBelow = 0;
  let best = { score: -1, threshold: 0.5 };
  for (let k = 0; k <= order.length; k++) {
    const score = (negBelow / neg + (pos - posBelow) / pos) / 2;
    if (score > best.score) best = { score, threshold: k === 0 ? order[0][0] - 1e-6 : k === order.length ? order[k - 1][0] + 1e-6 : (order[k - 1][0] + order[k][0]) / 2 };
    if (k < order.length) order[k][1] > 0.5 ? posBelow++ : negBelow++;
  }
  return Math.min(1 - 1e-6, Math.max(1e-6, best.threshold));
}

/** Train (or load from the cache) the pretrained judge for this data set. */
export async function pretrainedJudgeFor(ds: FaceDataset, options: PretrainedJudgeOptions = {}): Promise<AttributeClassifier> {
  const seed = options.seed ?? 0;
  const epochs = options.epochs ?? 60;
  const featureKey = cacheKey({ format: 2, images: ds.images, root: ds.root, size: ds.preprocess.size, layers: JUDGE_LAYERS, input: JUDGE_INPUT_SIZE, blurs: JUDGE_BLURS });
  const cache = options.cacheDir ?? path.join('results', 'cache');
  const featureDir = path.join(cache, `judge-features-${featureKey}`);
  const headKey = cacheKey({ format: 1, featureKey, splits: ds.splits.train.length, seed, epochs, shuffled: options.shuffleLabels ?? false });
  const headDir = path.join(cache, `judge-head-${headKey}`);
  const a = ds.attributeNames.length;
  if (fs.existsSync(path.join(headDir, 'meta.json'))) {
    const saved = new Map(readTensors(path.join(headDir, 'weights')).map((s) => [s.name, s.tensor]));
    const kernel = saved.get('kernel')!;
    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [kernel.shape[0]], units: a })] });
    model.setWeights([kernel, saved.get('bias')!]);
    tf.dispose([kernel, saved.get('bias')!]);
    const meta = JSON.parse(fs.readFileSync(path.join(headDir, 'meta.json'), 'utf8')) as { valAccuracy: number; valBalancedAccuracy: number };
    const net = await backbone(saved.get('mean') as tf.Tensor1D, saved.get('std') as tf.Tensor1D);
    return { model, backbone: net, imageSize: ds.preprocess.size, attributeNames: ds.attributeNames, valAccuracy: meta.valAccuracy, description: describe(meta.valAccuracy, meta.valBalancedAccuracy, options.shuffleLabels) };
  }
  const all = await datasetFeatures(ds, featureDir, options.onLine);
  const dim = all.shape[1];
  const n = ds.images.length;
  // A split's rows at every blur factor, and its labels repeated to match.
  const atBlurs = (idx: number[]) => JUDGE_BLURS.flatMap((_, k) => idx.map((i) => k * n + i));
  const rows = (idx: number[]) => tf.gather(all, atBlurs(idx));
  const labels = (idx: number[]) => {
    const b = gatherBatch(ds, idx);
    const y = tf.tidy(() => tf.concat(JUDGE_BLURS.map(() => b.y)) as tf.Tensor2D);
    tf.dispose([b.x, b.y]);
    return y;
  };
  // Standardise by the training split's statistics (folded into the backbone's output).
  const train = ds.splits.train;
  const { mean, variance } = tf.tidy(() => tf.moments(rows(train), 0)) as { mean: tf.Tensor1D; variance: tf.Tensor1D };
  const std = tf.tidy(() => tf.add(tf.sqrt(variance), 1e-6)) as tf.Tensor1D;
  variance.dispose();
  const standard = (idx: number[]) => tf.tidy(() => tf.div(tf.sub(rows(idx), mean), std) as tf.Tensor2D);
  const xTrain = standard(train);
  let yTrain = labels(train);
  const trainRows = xTrain.shape[0];
  const rng = createRng(subSeed(seed, 'judge'));
  if (options.shuffleLabels) {
    const shuffled = tf.gather(yTrain, rng.shuffle(Array.from({ length: trainRows }, (_, i) => i)));
    yTrain.dispose();
    yTrain = shuffled as tf.Tensor2D;
  }
  const weights = classBalanceWeights(ds);
  const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [dim], units: a, kernelInitializer: tf.initializers.glorotUniform({ seed: tfSeed(seed) }) })] });
  const kernel = model.layers[0].trainableWeights[0];
  const optimizer = tf.train.adam(1e-3);
  const bar = new ProgressBar('judge probes', epochs, options.onLine ?? null);
  for (let epoch = 0; epoch < epochs; epoch++) {
    const order = rng.shuffle(Array.from({ length: trainRows }, (_, i) => i));
    let last: tf.Scalar | null = null;
    for (let i = 0; i < order.length; i += 256) {
      const idx = tf.tensor1d(order.slice(i, i + 256), 'int32');
      last?.dispose();
      last = optimizer.minimize(() => {
        const x = tf.gather(xTrain, idx);
        const y = tf.gather(yTrain, idx);
        const w = tf.add(tf.mul(y, weights.positive), tf.mul(tf.sub(1, y), weights.negative));
        const reg = tf.mul(L2, tf.sum(tf.square(kernel.read())));
        return tf.add(tf.losses.sigmoidCrossEntropy(y, model.apply(x) as tf.Tensor2D, w), reg) as tf.Scalar;
      }, true) as tf.Scalar;
      idx.dispose();
    }
    const [loss] = await readAndDispose([last!]);
    bar.update(epoch + 1, `BCE ${loss[0].toFixed(3)}`);
  }
  bar.stop();
  optimizer.dispose();
  tf.dispose([xTrain, yTrain, weights.positive, weights.negative]);
  // Per-attribute thresholds on the validation split, folded into the bias so p > 0.5 means "on" everywhere.
  const val = ds.splits.val;
  const xVal = standard(val);
  const vRows = xVal.shape[0];
  const [pVal, yVal] = await readAndDispose([tf.tidy(() => tf.sigmoid(model.predict(xVal) as tf.Tensor2D)), labels(val)]);
  xVal.dispose();
  const thresholds = ds.attributeNames.map((_, j) => balancedThreshold(
    Array.from({ length: vRows }, (_, i) => pVal[i * a + j]),
    Array.from({ length: vRows }, (_, i) => yVal[i * a + j]),
  ));
  const [kernelValue, bias] = model.getWeights();
  const shifted = tf.tidy(() => tf.sub(bias, tf.tensor1d(thresholds.map((t) => Math.log(t / (1 - t))))));
  model.setWeights([kernelValue, shifted]);
  shifted.dispose();
  all.dispose();
  const judge: AttributeClassifier = { model, backbone: await backbone(mean, std), imageSize: ds.preprocess.size, attributeNames: ds.attributeNames, valAccuracy: 0, description: '' };
  const { accuracy, balanced } = await validationAccuracy(judge, ds, val);
  judge.valAccuracy = accuracy;
  judge.description = describe(accuracy, balanced, options.shuffleLabels);
  fs.mkdirSync(headDir, { recursive: true });
  const [k2, b2] = model.getWeights();
  await writeTensors(path.join(headDir, 'weights'), [{ name: 'kernel', tensor: k2 }, { name: 'bias', tensor: b2 }, { name: 'mean', tensor: mean }, { name: 'std', tensor: std }]);
  writeJsonAtomic(path.join(headDir, 'meta.json'), { valAccuracy: accuracy, valBalancedAccuracy: balanced, thresholds: Object.fromEntries(ds.attributeNames.map((n, j) => [n, thresholds[j]])) });
  return judge;
}

function describe(accuracy: number, balanced: number, shuffled?: boolean): string {
  return `${DESCRIPTION}${shuffled ? ' — TRAINED ON SHUFFLED LABELS' : ''}, validation accuracy ${(accuracy * 100).toFixed(1)} %, balanced ${(balanced * 100).toFixed(1)} %`;
}

/** The judges of attribute control, by name: the pretrained probes, or the project's small CNN (plain or class-balanced). */
export const JUDGES = ['pretrained', 'plain', 'balanced'] as const;
export type JudgeName = (typeof JUDGES)[number];

export async function judgeFor(ds: FaceDataset, judge: JudgeName, onLine?: (l: string) => void): Promise<AttributeClassifier> {
  if (judge === 'pretrained') return pretrainedJudgeFor(ds, { onLine });
  return attributeClassifierFor(ds, { seed: 0, balanced: judge === 'balanced', onLine });
}
