import * as tf from '@tensorflow/tfjs';
import { readValues, tensorFromFill } from './tensorMemory';
import { simdKernels } from './simd/simdKernels';

/** Loop counts and strides (in float32 values) of a three-level strided copy of equal runs. */
export interface RunLayout {
  /** values per run */
  len: number;
  /** [count, source stride, destination stride] from the outermost loop in */
  loops: [[number, number, number], [number, number, number], [number, number, number]];
  srcStart?: number;
  dstStart?: number;
}

/**
 * Copy runs of `src`'s values into `out` (a tensor's values being filled):
 *   for i1, i2, i3: out[dstStart + Σ i·dstStride ..+len] = src[srcStart + Σ i·srcStride ..+len].
 * On wasm one call of simd/copyRuns.wat (16-byte moves, no per-run JS call); elsewhere the same
 * loops in JS. The layout changes of the conv gradients are all of this form.
 */
export function copyRuns(out: Float32Array, src: tf.Tensor, layout: RunLayout): void {
  const from = readValues(src);
  const { len, loops, srcStart = 0, dstStart = 0 } = layout;
  const [[n1, s1, d1], [n2, s2, d2], [n3, s3, d3]] = loops;
  const kernels = out.buffer === from.buffer ? simdKernels() : null;
  if (kernels) {
    kernels.copyRuns(from.byteOffset + 4 * srcStart, out.byteOffset + 4 * dstStart, 4 * len, n1, 4 * s1, 4 * d1, n2, 4 * s2, 4 * d2, n3, 4 * s3, 4 * d3);
    return;
  }
  for (let i1 = 0; i1 < n1; i1++) {
    for (let i2 = 0; i2 < n2; i2++) {
      let a = srcStart + i1 * s1 + i2 * s2;
      let b = dstStart + i1 * d1 + i2 * d2;
      for (let i3 = 0; i3 < n3; i3++, a += s3, b += d3) {
        for (let k = 0; k < len; k++) out[b + k] = from[a + k];
      }
    }
  }
}

/** A new tensor of `shape` filled by copyRuns from each (source, layout) pair, which together write every value. */
export function tensorFromRuns<R extends tf.Rank>(shape: tf.ShapeMap[R], parts: { src: tf.Tensor; layout: RunLayout }[]): tf.Tensor<R> {
  return tensorFromFill<R>(shape, (out) => {
    for (const { src, layout } of parts) copyRuns(out, src, layout);
  });
}

/**
 * A slice (begin, size) of a tensor of rank ≤ 4 as runs: the innermost axis's `size` values are
 * a run, and the other axes (padded to three at the front) are the loops.
 */
export function sliceAsRuns(shape: number[], begin: number[], size: number[]): RunLayout {
  const pad = 4 - shape.length;
  const [d, b, s] = [shape, begin, size].map((v, i) => [...Array(pad).fill(i === 1 ? 0 : 1), ...v]);
  const stride = [d[1] * d[2] * d[3], d[2] * d[3], d[3], 1];
  const outStride = [s[1] * s[2] * s[3], s[2] * s[3], s[3], 1];
  return {
    len: s[3],
    srcStart: b.reduce((acc, bi, i) => acc + bi * stride[i], 0),
    loops: [
      [s[0], stride[0], outStride[0]],
      [s[1], stride[1], outStride[1]],
      [s[2], stride[2], outStride[2]],
    ],
  };
}
