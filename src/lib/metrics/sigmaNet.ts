import * as fs from 'fs';
import * as tf from '@tensorflow/tfjs';
import { writeJsonAtomic } from '../io/atomicWrite';
import { readTensors, writeTensors } from '../io/tensorFiles';
import { createRng } from '../rng';

/**
 * A learned per-pixel σ for a completion: a small convolutional network that reads what the
 * completion itself offers — the mean of K completions, the log of their std, the mask and where
 * each pixel sits (two coordinate planes) — and outputs log σ per pixel and channel. Trained on the
 * completions of *training* faces (never validation or test faces) by the Laplace negative
 * log-likelihood of |truth − mean| over the hole, |e|/σ + log σ, whose minimiser is σ = E|e|: the
 * mean absolute error where the completion looks like this. The error model (errorModel.ts) fits
 * four weights to three such cues; the network learns which shapes and places of a face go wrong
 * (the edges of eyes and mouth, hairlines, a dark background), and how wide the context's say is.
 *
 * Encoder-decoder with one skip: 3×3 conv (16) at full size, two stride-2 convs (32) to S/4, a 3×3
 * conv there, bilinear ×4 back, the skip concatenated, 3×3 conv (16), 1×1 to 3 channels. ~31k weights.
 */
export interface SigmaNetSettings {
  /** Training faces (their completions; the first of the training split). */
  faces: number;
  /** Completions per training face for the mean and std the network reads (fewer than at test time: cheaper, and a noisier std it must not over-trust). */
  samples: number;
  epochs: number;
  batch: number;
  learningRate: number;
  seed: number;
}

/**
 * 3,000 training faces for 20 epochs: on perceptual64's λ = 0 model, against 1,200 faces for 12 epochs,
 * rank 0.339 → 0.381 and sparsification 1.74× → 1.66× the oracle (per pixel 1.53× → 1.46×) on the 900
 * test faces (results/logs/perceptual64/uncertainty-net.log); the completions of the training faces
 * are most of the cost (~15 min per 64×64 model on 2 cores, then cached: experiments/spreadCache.ts).
 */
export const SIGMA_NET_DEFAULTS: SigmaNetSettings = { faces: 3000, samples: 8, epochs: 20, batch: 16, learningRate: 2e-3, seed: 7 };

/** The network's input channels: mean (3, centred), log std (3, scaled), mask (1), y and x coordinates (2). */
export const SIGMA_NET_CHANNELS = 9;
/** log σ starts here (σ ≈ 0.08, about a completion's mean |error|). */
const INITIAL_LOG_SIGMA = -2.5;

/** Build the network for S×S faces (S divisible by 4). */
export function buildSigmaNet(size: number, seed: number): tf.LayersModel {
  if (size % 4 !== 0) throw new Error(`sigma network: image size ${size} must be divisible by 4`);
  const init = (k: number) => tf.initializers.glorotUniform({ seed: seed * 16 + k });
  const conv = (filters: number, k: number, strides = 1, activation: 'relu' | 'linear' = 'relu') =>
    tf.layers.conv2d({ filters, kernelSize: k, strides, padding: 'same', activation, kernelInitializer: init(filters * 10 + k + strides) });
  const input = tf.input({ shape: [size, size, SIGMA_NET_CHANNELS] });
  const skip = conv(16, 3).apply(input) as tf.SymbolicTensor;
  let h = conv(32, 3, 2).apply(skip) as tf.SymbolicTensor;
  h = tf.layers.conv2d({ filters: 32, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', kernelInitializer: init(99) }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.conv2d({ filters: 32, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(98) }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.upSampling2d({ size: [4, 4], interpolation: 'bilinear' }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.concatenate().apply([h, skip]) as tf.SymbolicTensor;
  h = tf.layers.conv2d({ filters: 16, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(97) }).apply(h) as tf.SymbolicTensor;
  const out = tf.layers.conv2d({ filters: 3, kernelSize: 1, padding: 'same', kernelInitializer: init(96), biasInitializer: tf.initializers.constant({ value: INITIAL_LOG_SIGMA }) }).apply(h) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out, name: 'sigma_net' });
}

/** The network's input for completions' mean and std [N, S, S, 3] and masks [N, S, S, 1] (1 = observed). */
export function sigmaNetInputs(mean: tf.Tensor4D, std: tf.Tensor4D, mask: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const [n, s] = mean.shape;
    const ramp = tf.linspace(-1, 1, s);
    const ys = tf.tile(tf.reshape(ramp, [1, s, 1, 1]), [n, 1, s, 1]);
    const xs = tf.tile(tf.reshape(ramp, [1, 1, s, 1]), [n, s, 1, 1]);
    const logStd = tf.div(tf.add(tf.log(tf.add(std, 1e-3)), 4), 2);
    return tf.concat([tf.sub(tf.mul(mean, 2), 1), logStd, mask, ys, xs], 3) as tf.Tensor4D;
  });
}

/** σ̂ per pixel and channel (before a calibration scale) for completions' mean and std. */
export function predictSigma(net: tf.LayersModel, mean: tf.Tensor4D, std: tf.Tensor4D, mask: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => tf.exp(net.predict(sigmaNetInputs(mean, std, mask)) as tf.Tensor4D));
}

/** The Laplace NLL of |truth − mean| under σ = exp(log σ), averaged over the hole's values. */
function holeNll(logSigma: tf.Tensor4D, truth: tf.Tensor4D, mean: tf.Tensor4D, mask: tf.Tensor4D): tf.Scalar {
  return tf.tidy(() => {
    const e = tf.abs(tf.sub(truth, mean));
    const nll = tf.add(tf.mul(e, tf.exp(tf.neg(logSigma))), logSigma);
    const hole = tf.sub(1, mask);
    return tf.div(tf.sum(tf.mul(nll, hole)), tf.maximum(tf.mul(tf.sum(hole), 3), 1)) as tf.Scalar;
  });
}

/** Completions of training faces as flat arrays ([N, S, S, 3] mean, std, truth; [N, S, S, 1] mask). */
export interface SigmaNetData {
  mean: Float32Array;
  std: Float32Array;
  truth: Float32Array;
  mask: Float32Array;
  faces: number;
  size: number;
}

/**
 * Train the network on training faces' completions: Adam, shuffled batches (seeded), every other
 * batch mirrored left–right (a face's mirror is a face, at the positions it now has). Returns the
 * mean training NLL per epoch. No synchronous reads; every tensor disposed.
 */
export async function trainSigmaNet(net: tf.LayersModel, d: SigmaNetData, s: SigmaNetSettings, onEpoch?: (epoch: number, nll: number) => void): Promise<number[]> {
  const { faces: n, size } = d;
  if (n < s.batch) throw new Error(`sigma network: ${n} training faces; expected at least one batch of ${s.batch}`);
  const px = size * size;
  const optimizer = tf.train.adam(s.learningRate);
  const rng = createRng(s.seed);
  const losses: number[] = [];
  try {
    for (let epoch = 0; epoch < s.epochs; epoch++) {
      const order = Array.from({ length: n }, (_, i) => i);
      for (let i = n - 1; i > 0; i--) {
        const j = rng.int(0, i + 1);
        [order[i], order[j]] = [order[j], order[i]];
      }
      const sums: tf.Scalar[] = [];
      for (let b = 0; b + s.batch <= n; b += s.batch) {
        const idx = order.slice(b, b + s.batch);
        const take = (a: Float32Array, c: number) => {
          const out = new Float32Array(idx.length * px * c);
          idx.forEach((f, k) => out.set(a.subarray(f * px * c, (f + 1) * px * c), k * px * c));
          return tf.tensor4d(out, [idx.length, size, size, c]);
        };
        const flip = (b / s.batch) % 2 === 1;
        const [mean, std, truth, mask] = [take(d.mean, 3), take(d.std, 3), take(d.truth, 3), take(d.mask, 1)].map((t) => {
          if (!flip) return t;
          const mirrored = tf.reverse(t, 2);
          t.dispose();
          return mirrored;
        }) as tf.Tensor4D[];
        const loss = optimizer.minimize(() => holeNll(net.apply(sigmaNetInputs(mean, std, mask), { training: true }) as tf.Tensor4D, truth, mean, mask), true)!;
        sums.push(loss);
        tf.dispose([mean, std, truth, mask]);
      }
      const total = tf.tidy(() => tf.div(tf.addN(sums), sums.length));
      const value = (await total.data())[0];
      tf.dispose([total, ...sums]);
      losses.push(value);
      onEpoch?.(epoch + 1, value);
    }
  } finally {
    optimizer.dispose();
  }
  return losses;
}

/** Save the network's weights (`FILE.bin` + `FILE.json`, tensorFiles) for `loadSigmaNet`. */
export async function saveSigmaNet(net: tf.LayersModel, file: string): Promise<void> {
  await writeTensors(file, net.getWeights().map((tensor, i) => ({ name: `w${i}`, tensor })));
}

/** A network built for S×S faces with the weights saved in `file` (its shapes must match, else a clear error names the file). */
export function loadSigmaNet(file: string, size: number): tf.LayersModel {
  return sigmaNetWithWeights(readTensors(file).map((w) => w.tensor), size, file);
}

/**
 * A network for S×S faces with these weights (in saveSigmaNet's order; taken over: disposed here),
 * e.g. decoded from a page's embedded files; a clear error names `source` when they do not fit.
 */
export function sigmaNetWithWeights(saved: tf.Tensor[], size: number, source: string): tf.LayersModel {
  const net = buildSigmaNet(size, 1);
  const expected = net.getWeights();
  try {
    if (saved.length !== expected.length || saved.some((w, i) => w.shape.join() !== expected[i].shape.join())) {
      net.dispose();
      throw new Error(`${source}: not the weights of a σ network for ${size}×${size} faces (${saved.length} tensors, expected ${expected.length} of shapes ${expected.map((w) => w.shape.join('×')).join(', ')})`);
    }
    net.setWeights(saved);
    return net;
  } finally {
    tf.dispose(saved);
  }
}

/** Where a model folder keeps its σ network: `sigma-net.bin` + `sigma-net.json` (the weights) and `sigma-net-card.json`. */
export const SIGMA_NET_FILE = 'sigma-net';

/** What a σ network was fitted on, and the validation scale its output is multiplied by. */
export interface SigmaNetCard {
  scale: number;
  size: number;
  trainFaces: number;
  settings: SigmaNetSettings;
  fittedOn: Record<string, unknown>;
}

/** A trained network and its card. */
export interface SigmaNetModel {
  net: tf.LayersModel;
  card: SigmaNetCard;
}

/** Write `STEM.bin`, `STEM.json` (weights) and `STEM-card.json`. */
export async function writeSigmaNetFiles(stem: string, net: tf.LayersModel, card: SigmaNetCard): Promise<void> {
  await saveSigmaNet(net, stem);
  writeJsonAtomic(`${stem}-card.json`, card);
}

/** The card at `STEM-card.json` for S×S faces, checked (a number scale > 0, the same face size); a clear error names the file. */
export function readSigmaNetCard(stem: string, size: number): SigmaNetCard {
  const cardFile = `${stem}-card.json`;
  let card: SigmaNetCard;
  try {
    card = JSON.parse(fs.readFileSync(cardFile, 'utf8')) as SigmaNetCard;
  } catch (e) {
    throw new Error(`${cardFile}: the σ network's card is missing or not JSON (${(e as Error).message})`);
  }
  if (!(Number.isFinite(card.scale) && card.scale > 0)) throw new Error(`${cardFile}: scale ${JSON.stringify(card.scale)}; expected a number > 0`);
  if (card.size !== size) throw new Error(`${cardFile}: a σ network fitted on ${card.size}×${card.size} completions, not ${size}×${size}`);
  return card;
}

/** The network and card at `STEM` for S×S faces; null when there is none; a clear error names a damaged or foreign one. */
export function readSigmaNetFiles(stem: string, size: number): SigmaNetModel | null {
  if (!fs.existsSync(`${stem}.json`)) return null;
  const card = readSigmaNetCard(stem, size);
  return { net: loadSigmaNet(stem, size), card };
}

/** The calibrated σ of completions: the network's σ̂ times its card's scale. */
export function sigmaNetSigma(m: SigmaNetModel, mean: tf.Tensor4D, std: tf.Tensor4D, mask: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => tf.mul(predictSigma(m.net, mean, std, mask), m.card.scale) as tf.Tensor4D);
}
