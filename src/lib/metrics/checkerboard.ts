import * as tf from '@tensorflow/tfjs';
import { meanStd, type MeanStd } from './meanStd';

/** ITU-R BT.601 luma weights, as the sharpness measure uses. */
const LUMA = [0.299, 0.587, 0.114];

/** (−1)^i for i < n: the Nyquist frequency of a stride-2 layer's output grid. */
function alternating(n: number): number[] {
  return Array.from({ length: n }, (_, i) => (i % 2 ? -1 : 1));
}

/**
 * The share of each image's luma energy (its mean over the window removed) that lies on the 2-D
 * DFT's Nyquist row and column (u = H/2 or v = W/2) — where a stride-2 layer's checkerboard lands
 * (Odena et al. 2016). Network-free; computed without an FFT by Parseval along the other axis:
 *   Σ_v |F(H/2, v)|² = W Σ_x (Σ_y (−1)^y Y)²,  Σ_u |F(u, W/2)|² = H Σ_y (Σ_x (−1)^x Y)²,
 * the corner (H/2, W/2) counted once, over the AC energy H·W·Σ(Y − Ȳ)².
 * `window` [N, H, W, 1] (1 = measured; e.g. a hole, 1 − m) restricts the measure to those pixels,
 * zero elsewhere; its extent stands for H and W (a rectangle is measured as its crop). A pure ±a checkerboard gives 1; white noise about 2/N; a photograph far less.
 * Windows with no variation give NaN.
 */
export function nyquistFraction(x: tf.Tensor4D, window: tf.Tensor4D | null = null): tf.Tensor1D {
  const [, H, W, C] = x.shape;
  if (C !== 3) throw new Error(`nyquistFraction: expected RGB images [N, H, W, 3], got ${x.shape}`);
  return tf.tidy(() => {
    const luma = tf.sum(tf.mul(x, tf.tensor1d(LUMA)), 3) as tf.Tensor3D;
    const w = window ? (tf.squeeze(window, [3]) as tf.Tensor3D) : tf.onesLike(luma);
    const mean = tf.div(tf.sum(tf.mul(luma, w), [1, 2]), tf.maximum(tf.sum(w, [1, 2]), 1));
    const d = tf.mul(tf.sub(luma, tf.reshape(mean, [-1, 1, 1])), w);
    const sy = tf.tensor3d(alternating(H), [1, H, 1]);
    const sx = tf.tensor3d(alternating(W), [1, 1, W]);
    const alongY = tf.sum(tf.mul(d, sy), 1); // [N, W]: the Nyquist row, by column
    const alongX = tf.sum(tf.mul(d, sx), 2); // [N, H]: the Nyquist column, by row
    const corner = tf.sum(tf.mul(tf.mul(d, sy), sx), [1, 2]);
    // The window's extent (rows and columns it touches) stands for H and W: a rectangular window
    // is measured exactly as its crop would be.
    const rows = tf.sum(tf.max(w, 2), 1);
    const cols = tf.sum(tf.max(w, 1), 1);
    const line = tf.sub(tf.add(tf.mul(tf.sum(tf.square(alongY), 1), cols), tf.mul(tf.sum(tf.square(alongX), 1), rows)), tf.square(corner));
    const total = tf.mul(tf.sum(tf.square(d), [1, 2]), tf.mul(rows, cols));
    return tf.where(tf.greater(total, 1e-10), tf.div(line, tf.maximum(total, 1e-10)), tf.fill(total.shape, NaN)) as tf.Tensor1D;
  });
}

/**
 * The checkerboard measure: decoded images' Nyquist fractions over real faces' mean fraction
 * (each decoded image's fraction divided by it, so the mean is the ratio of means). 1 = as much
 * energy at the stride-2 frequencies as a photograph; above 1, a checkerboard; below 1, blur.
 * NaN fractions (flat windows) are left out.
 */
export function checkerboardRatio(decoded: ArrayLike<number>, real: ArrayLike<number>): MeanStd {
  const finite = (a: ArrayLike<number>) => Array.from(a).filter(Number.isFinite);
  const r = finite(real);
  const d = finite(decoded);
  if (!r.length || !d.length) return { mean: NaN, std: NaN };
  const reference = r.reduce((s, v) => s + v, 0) / r.length;
  return meanStd(d.map((v) => v / reference));
}
