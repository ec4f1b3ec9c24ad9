import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { readAndDispose } from '../tensorReads';
import { batchesPerEpoch, epochBatches, gatherBatch, type FaceDataset } from '../data/faceDataset';
import { cacheKey } from '../data/imageCache';
import { writeJsonAtomic } from '../io/atomicWrite';
import { readTensors, writeTensors } from '../io/tensorFiles';
import { ProgressBar } from '../progress';

/**
 * A small CNN predicting the 40 attributes, trained here on the real faces' training split. It
 * measures whether completions keep a face's attributes, and its joint-class probabilities give
 * the offline substitute for the Inception score.
 */
export interface AttributeClassifier {
  model: tf.LayersModel;
  imageSize: number;
  attributeNames: string[];
  /** Mean accuracy over the 40 attributes on the validation split. */
  valAccuracy: number;
  description: string;
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
  return tf.tidy(() => tf.sigmoid(c.model.predict(x) as tf.Tensor2D) as tf.Tensor2D);
}

async function accuracy(c: AttributeClassifier, ds: FaceDataset, indices: number[]): Promise<number> {
  let correct = 0;
  let total = 0;
  for (let i = 0; i < indices.length; i += 128) {
    const b = gatherBatch(ds, indices.slice(i, i + 128));
    const p = predictAttributes(c, b.x);
    const [hits] = await readAndDispose([tf.tidy(() => tf.sum(tf.equal(tf.greater(p, 0.5), tf.greater(b.y, 0.5))))]);
    correct += hits[0];
    total += b.y.size;
    tf.dispose([b.x, b.y, p]);
  }
  return correct / total;
}

/**
 * Train (or load from `cacheDir`) the classifier for this data set and image size. Cached by the
 * data set's images, size and seed, saved atomically.
 */
export async function attributeClassifierFor(ds: FaceDataset, options: { epochs?: number; seed?: number; cacheDir?: string; role?: ClassifierRole; onLine?: (l: string) => void } = {}): Promise<AttributeClassifier> {
  const epochs = options.epochs ?? 6;
  const role = options.role ?? 'judge';
  const seed = (options.seed ?? 0) + (role === 'guide' ? GUIDE_SEED_OFFSET : 0);
  const size = ds.preprocess.size;
  const widths = ROLE_WIDTHS[role];
  // The judge's key is unchanged from before roles existed, so its cached weights stay valid.
  const key = cacheKey({ format: 2, images: ds.images, root: ds.root, size, epochs, seed, splits: ds.splits.train.length, ...(role === 'guide' ? { widths } : {}) });
  const dir = path.join(options.cacheDir ?? path.join('results', 'cache'), `attribute-${role === 'guide' ? 'guide' : 'classifier'}-${size}-${key}`);
  const model = buildClassifier(size, ds.attributeNames.length, seed, widths);
  const describe = (acc: number) => `attribute ${role === 'guide' ? 'guide ' : ''}classifier (4-conv CNN, widths ${widths.join('/')}, trained here on the ${ds.kind} training split, ${size}×${size}, ${epochs} epochs, validation accuracy ${(acc * 100).toFixed(1)} %)`;
  if (fs.existsSync(path.join(dir, 'meta.json'))) {
    const meta = JSON.parse(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8')) as { valAccuracy: number };
    const saved = readTensors(path.join(dir, 'weights'));
    model.setWeights(saved.map((s) => s.tensor));
    tf.dispose(saved.map((s) => s.tensor));
    return { model, imageSize: size, attributeNames: ds.attributeNames, valAccuracy: meta.valAccuracy, description: describe(meta.valAccuracy) };
  }
  const optimizer = tf.train.adam(1e-3);
  const perEpoch = batchesPerEpoch(ds, 'train', 64);
  for (let epoch = 0; epoch < epochs; epoch++) {
    const bar = new ProgressBar(`attribute classifier epoch ${epoch + 1}/${epochs}`, perEpoch, options.onLine ?? null);
    let step = 0;
    for (const b of epochBatches(ds, 'train', 64, seed, epoch)) {
      const loss = optimizer.minimize(() => tf.losses.sigmoidCrossEntropy(b.y, model.apply(b.x) as tf.Tensor2D) as tf.Scalar, true);
      const [bce] = await readAndDispose([loss!]);
      bar.update(++step, `BCE ${bce[0].toFixed(3)}`);
      tf.dispose([b.x, b.y]);
    }
    bar.stop();
  }
  optimizer.dispose();
  const classifier: AttributeClassifier = { model, imageSize: size, attributeNames: ds.attributeNames, valAccuracy: 0, description: '' };
  classifier.valAccuracy = await accuracy(classifier, ds, ds.splits.val);
  classifier.description = describe(classifier.valAccuracy);
  fs.mkdirSync(dir, { recursive: true });
  await writeTensors(path.join(dir, 'weights'), model.getWeights().map((tensor, i) => ({ name: `w${i}`, tensor })));
  // Written last: its presence marks a complete cache entry.
  writeJsonAtomic(path.join(dir, 'meta.json'), { valAccuracy: classifier.valAccuracy });
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
