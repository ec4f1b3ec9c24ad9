import * as tf from '@tensorflow/tfjs';
import { heapOffset, readValues, tensorFromFill } from './tensorMemory';
import { simdKernels } from './simd/simdKernels';

/** Edge of the square tiles the JS transpose walks, so reads and writes both stay in cache. */
const TILE = 16;

/**
 * [r, c] -> [c, r]. On wasm with both sides multiples of 4: 4×4 SIMD blocks (simd/transpose.wat).
 * Otherwise wasm's Transpose where it is fast (few rows: ~1 ns per value for 64) and a tiled JS
 * loop reading the heap in place (a steady ~3 ns) where wasm's walks memory badly (8–10 ns for
 * [4096, 128] or [65536, 32]).
 */
export function transpose2d(t: tf.Tensor2D): tf.Tensor2D {
  const [r, c] = t.shape;
  const kernels = r % 4 === 0 && c % 4 === 0 && t.dtype === 'float32' ? simdKernels() : null;
  if (kernels) return tensorFromFill<tf.Rank.R2>([c, r], (out) => kernels.transpose(heapOffset(t), out.byteOffset, r, c));
  if (r <= 64 || tf.getBackend() !== 'wasm') return tf.transpose(t);
  return tensorFromFill<tf.Rank.R2>([c, r], (out) => {
    const src = readValues(t);
    for (let i0 = 0; i0 < r; i0 += TILE) {
      const i1 = Math.min(i0 + TILE, r);
      for (let j0 = 0; j0 < c; j0 += TILE) {
        const j1 = Math.min(j0 + TILE, c);
        for (let i = i0; i < i1; i++) {
          const row = i * c;
          for (let j = j0; j < j1; j++) out[j * r + i] = src[row + j];
        }
      }
    }
  });
}
