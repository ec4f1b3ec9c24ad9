import * as tf from '@tensorflow/tfjs';
import { simdKernels } from './simd/simdKernels';
import { heapOffset, tensorsFromFill } from './tensorMemory';

/** Whether `axes` are exactly batch, height and width of an NHWC tensor (a bias gradient). */
export function isBatchSpatialSum(axes: number[], rank: number): boolean {
  if (rank !== 4) return false;
  const set = new Set(axes.map((a) => (a < 0 ? a + rank : a)));
  return set.size === 3 && set.has(0) && set.has(1) && set.has(2);
}

/** All-ones depthwise filters by [H, W, C], kept across calls so XNNPACK keeps their packed form too. */
const onesFilters = new Map<string, tf.Tensor4D>();
const MAX_FILTERS = 32;

function onesFilter(h: number, w: number, c: number): tf.Tensor4D {
  const key = `${h}x${w}x${c}`;
  const cached = onesFilters.get(key);
  if (cached && !cached.isDisposed) return cached;
  if (onesFilters.size >= MAX_FILTERS) {
    const [oldest] = onesFilters.keys();
    onesFilters.get(oldest)!.dispose();
    onesFilters.delete(oldest);
  }
  const made = tf.keep(tf.ones([h, w, c, 1]) as tf.Tensor4D);
  onesFilters.set(key, made);
  return made;
}

/** Rows summed into each partial sum (see simd/columnSums.wat). */
const SUM_BLOCK = 256;

/**
 * Sum of x [N, H, W, C] over N, H and W. wasm's Sum first transposes the reduced axes innermost,
 * a full copy. With C a multiple of 4: one SIMD pass of column sums (simd/columnSums.wat, blocked
 * so rounding stays small); otherwise a 'valid' depthwise conv with an all-ones H×W filter on
 * XNNPACK and a sum of the N per-image results (about half of wasm's Sum).
 */
export function batchSpatialSum(x: tf.Tensor4D, keepDims: boolean): tf.Tensor {
  const [n, h, w, c] = x.shape;
  const kernels = c % 4 === 0 ? simdKernels() : null;
  if (kernels) {
    const [partial, out] = tensorsFromFill([[c], [c]], () => {}); // the kernel writes both
    kernels.columnSums(heapOffset(x), n * h * w, c, SUM_BLOCK, heapOffset(partial), heapOffset(out));
    partial.dispose();
    return keepDims ? tf.tidy(() => tf.reshape(out, [1, 1, 1, c])) : out;
  }
  return tf.tidy(() => {
    const perImage = tf.depthwiseConv2d(x, onesFilter(h, w, c), 1, 'valid'); // [N, 1, 1, C]
    return tf.sum(perImage, [0, 1, 2], keepDims);
  });
}
