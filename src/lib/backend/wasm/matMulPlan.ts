import * as tf from '@tensorflow/tfjs';
import { transpose2d } from './transpose2d';

/**
 * Costs per value on wasm, measured on the reference VAE's dense layers: a transpose ~3 ns;
 * XNNPACK packing the right-hand operand of a GEMM (on every call, as it is new each step)
 * 5–20 ns. The product's arithmetic is the same either way.
 */
const TRANSPOSE_COST = 3;
const PACK_COST = 8;

/**
 * Whether op(a)·op(b) [m, n] is cheaper as the transposed product (op(b)ᵀ·op(a)ᵀ)ᵀ: that packs
 * the [k, m] operand instead of the [k, n] one, at the price of the transposes each way needs.
 */
export function prefersTransposedProduct(m: number, k: number, n: number, transposeA: boolean, transposeB: boolean): boolean {
  const direct = TRANSPOSE_COST * ((transposeA ? m * k : 0) + (transposeB ? k * n : 0)) + PACK_COST * k * n;
  const swapped = TRANSPOSE_COST * ((transposeB ? 0 : k * n) + (transposeA ? 0 : m * k) + m * n) + PACK_COST * k * m;
  return swapped < direct;
}

/**
 * op(a)·op(b) for 2D operands through `gemm`, a row-major [m, k]·[k, n] product (on wasm an
 * XNNPACK fully connected operator), in whichever of the two orders costs less.
 */
export function plannedMatMul(
  a: tf.Tensor2D,
  b: tf.Tensor2D,
  transposeA: boolean,
  transposeB: boolean,
  gemm: (left: tf.Tensor2D, right: tf.Tensor2D) => tf.Tensor2D,
): tf.Tensor2D {
  return tf.tidy(() => {
    const [m, k] = transposeA ? [a.shape[1], a.shape[0]] : a.shape;
    const n = transposeB ? b.shape[0] : b.shape[1];
    if (!prefersTransposedProduct(m, k, n, transposeA, transposeB)) {
      return gemm(transposeA ? transpose2d(a) : a, transposeB ? transpose2d(b) : b);
    }
    // op(b)ᵀ is b itself when transposeB, op(a)ᵀ is a itself when transposeA.
    return transpose2d(gemm(transposeB ? b : transpose2d(b), transposeA ? a : transpose2d(a)));
  });
}
