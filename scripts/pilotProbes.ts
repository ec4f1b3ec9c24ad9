// The probes of the judge's run-once pilots (pooling, input size): linear class-balanced probes on
// features of the first N faces, sharp only, the first `train` faces to fit (40 epochs, Adam 1e-3,
// L2 1e-3, batches of 200), thresholds for balanced accuracy on those same faces (a pilot has no
// validation split), scored on the rest.
import * as tf from '@tensorflow/tfjs';
import { talliesOf } from '../src/lib/metrics/attributeClassifier';
import { perAttributeThresholds } from '../src/lib/metrics/pretrainedJudge';

/** Balanced accuracy per attribute on the held-out faces. `parts`: feature batches in face order; `y`: [n, attributes] labels. */
export async function pilotBalancedAccuracy(parts: Float32Array[], n: number, train: number, y: tf.Tensor2D): Promise<number[]> {
  const k = y.shape[1];
  const dim = parts.reduce((s, p) => s + p.length, 0) / n;
  const held = n - train;
  const X = tf.tensor2d(Float32Array.from(parts.flatMap((p) => Array.from(p))), [n, dim]);
  const [xtr, xte] = [X.slice([0, 0], [train, -1]), X.slice([train, 0], [held, -1])];
  const { mean, variance } = tf.moments(xtr, 0);
  const sd = tf.add(tf.sqrt(variance), 1e-6);
  const s = (t: tf.Tensor) => tf.div(tf.sub(t, mean), sd) as tf.Tensor2D;
  const [str, ste] = [s(xtr), s(xte)];
  const [ytr, yte] = [y.slice([0, 0], [train, -1]), y.slice([train, 0], [held, -1])];
  const pos = tf.mean(ytr, 0);
  const wPos = tf.div(0.5, tf.maximum(pos, 1e-3)), wNeg = tf.div(0.5, tf.maximum(tf.sub(1, pos), 1e-3));
  const W = tf.variable(tf.zeros([dim, k])), B = tf.variable(tf.zeros([k]));
  const opt = tf.train.adam(1e-3);
  for (let e = 0; e < 40; e++) for (let i = 0; i < train; i += 200) {
    opt.minimize(() => tf.tidy(() => {
      const xb = str.slice([i, 0], [Math.min(200, train - i), -1]); const yb = ytr.slice([i, 0], [Math.min(200, train - i), -1]);
      const w = tf.add(tf.mul(yb, wPos), tf.mul(tf.sub(1, yb), wNeg));
      return tf.add(tf.losses.sigmoidCrossEntropy(yb, tf.add(tf.matMul(xb, W), B), w), tf.mul(1e-3, tf.sum(tf.square(W)))) as tf.Scalar;
    }));
  }
  const ptr = (await tf.sigmoid(tf.add(tf.matMul(str, W), B)).data()) as Float32Array;
  const pte = (await tf.sigmoid(tf.add(tf.matMul(ste, W), B)).data()) as Float32Array;
  const ytrA = (await ytr.data()) as Float32Array, yteA = (await yte.data()) as Float32Array;
  const cuts = perAttributeThresholds(ptr, ytrA, k, 'balanced');
  const out = talliesOf(pte, yteA, k, cuts).map((t) => t.balanced);
  tf.dispose([X, xtr, xte, mean, variance, sd, str, ste, ytr, yte, pos, wPos, wNeg, W, B]);
  opt.dispose();
  return out;
}
