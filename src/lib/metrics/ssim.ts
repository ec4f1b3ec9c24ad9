import * as tf from '@tensorflow/tfjs';

/**
 * SSIM exactly as Wang et al. 2004 and scikit-image's
 * structural_similarity(gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
 * data_range=1.0, channel_axis=-1): an 11×11 Gaussian window (σ = 1.5, truncated at 3.5σ),
 * K1 = 0.01, K2 = 0.03, the SSIM map averaged over the pixels at least 5 from the border
 * (skimage crops them), per channel, then over channels. Batched: one value per image.
 */
const SIGMA = 1.5;
const RADIUS = Math.floor(3.5 * SIGMA + 0.5); // scipy's truncate=3.5 → 5
const C1 = (0.01 * 1) ** 2;
const C2 = (0.03 * 1) ** 2;

function gaussian1d(): Float32Array {
  const w = Float32Array.from({ length: 2 * RADIUS + 1 }, (_, i) => Math.exp(-0.5 * ((i - RADIUS) / SIGMA) ** 2));
  const sum = w.reduce((a, b) => a + b, 0);
  return w.map((v) => v / sum);
}

/** Separable Gaussian filter without padding (the cropped border is never used). */
function blur(x: tf.Tensor4D, channels: number): tf.Tensor4D {
  const g = gaussian1d();
  const rows = tf.tile(tf.reshape(tf.tensor1d(g), [2 * RADIUS + 1, 1, 1, 1]), [1, 1, channels, 1]) as tf.Tensor4D;
  const cols = tf.tile(tf.reshape(tf.tensor1d(g), [1, 2 * RADIUS + 1, 1, 1]), [1, 1, channels, 1]) as tf.Tensor4D;
  return tf.depthwiseConv2d(tf.depthwiseConv2d(x, rows, 1, 'valid'), cols, 1, 'valid');
}

/** SSIM of each image pair; a, b: [N, H, W, C] in [0, 1], H and W ≥ 11. Returns [N]. */
export function ssim(a: tf.Tensor4D, b: tf.Tensor4D): tf.Tensor1D {
  if (a.shape.join() !== b.shape.join()) throw new Error(`ssim: shapes differ (${a.shape} vs ${b.shape})`);
  const [, h, w, c] = a.shape;
  if (h < 2 * RADIUS + 1 || w < 2 * RADIUS + 1) throw new Error(`ssim: images of ${h}×${w} are smaller than the 11×11 window`);
  return tf.tidy(() => {
    const ux = blur(a, c);
    const uy = blur(b, c);
    const uxx = blur(tf.mul(a, a), c);
    const uyy = blur(tf.mul(b, b), c);
    const uxy = blur(tf.mul(a, b), c);
    const vx = tf.sub(uxx, tf.mul(ux, ux));
    const vy = tf.sub(uyy, tf.mul(uy, uy));
    const vxy = tf.sub(uxy, tf.mul(ux, uy));
    const num = tf.mul(tf.add(tf.mul(tf.mul(ux, uy), 2), C1), tf.add(tf.mul(vxy, 2), C2));
    const den = tf.mul(tf.add(tf.add(tf.mul(ux, ux), tf.mul(uy, uy)), C1), tf.add(tf.add(vx, vy), C2));
    return tf.mean(tf.div(num, den), [1, 2, 3]) as tf.Tensor1D;
  });
}

/** PSNR in dB over the whole image (data range 1). Returns [N]. */
export function psnr(a: tf.Tensor4D, b: tf.Tensor4D): tf.Tensor1D {
  return tf.tidy(() => tf.mul(tf.log(tf.div(1, tf.maximum(tf.mean(tf.squaredDifference(a, b), [1, 2, 3]), 1e-12))), 10 / Math.LN10) as tf.Tensor1D);
}

/** Mean absolute error over the hole (m = 0) only. mask: [N, H, W, 1]. Returns [N]. */
export function maskedL1(a: tf.Tensor4D, b: tf.Tensor4D, mask: tf.Tensor4D): tf.Tensor1D {
  return tf.tidy(() => {
    const hole = tf.sub(1, mask);
    const err = tf.sum(tf.mul(tf.abs(tf.sub(a, b)), hole), [1, 2, 3]);
    return tf.div(err, tf.maximum(tf.mul(tf.sum(hole, [1, 2, 3]), a.shape[3]), 1)) as tf.Tensor1D;
  });
}
