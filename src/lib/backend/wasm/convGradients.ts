import * as tf from '@tensorflow/tfjs';
import { readValues, tensorFromFill } from './tensorMemory';
import { tensorFromRuns, type RunLayout } from './copyRuns';
import { transpose2d } from './transpose2d';

/**
 * Convolution gradients expressed through the forward Conv2D kernel, which on wasm runs on
 * XNNPACK. Pure functions of tensors (NHWC), so they can be checked against any backend.
 */

type Pad = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;

function padInfoOf(
  xShape: [number, number, number, number],
  filterShape: [number, number, number, number],
  strides: [number, number],
  pad: Pad,
  dimRoundingMode?: 'floor' | 'round' | 'ceil',
) {
  return tf.backend_util.computeConv2DInfo(xShape, filterShape, strides, 1, pad, dimRoundingMode);
}

/** Crop the trailing end of a spatial axis by -extra values (extra < 0); a positive extra is left to the conv's own padding. */
function fitTrailing(t: tf.Tensor4D, axis: 1 | 2, extra: number): tf.Tensor4D {
  if (extra >= 0) return t;
  const size = t.shape.slice() as number[];
  size[axis] += extra;
  return tf.slice(t, [0, 0, 0, 0], size);
}

/**
 * Output channels per filter-gradient conv. XNNPACK packs a conv's filter on every call (here the
 * output gradient, new each step), and on wasm that packing costs 10–16 ns per value for 32+
 * output channels but ~4 ns for 8; the convs of 8 channels cost about the same arithmetic. Large
 * gradients are split (measured on the reference VAE: the 2M-value one 28 → 14 ms); small ones
 * are not (there the extra passes over the input cost more than the packing saves).
 */
const FILTER_GRADIENT_CHUNK = 8;
const CHUNK_FROM_VALUES = 1 << 19;

/** dy [N, OH, OW, Co] as [OH, OW, N, c] tensors of consecutive output-channel chunks c. */
function batchInnerChunks(dy: tf.Tensor4D, chunk: number): tf.Tensor4D[] {
  const [n, oh, ow, co] = dy.shape;
  const p = oh * ow;
  const chunks: tf.Tensor4D[] = [];
  for (let c0 = 0; c0 < co; c0 += chunk) {
    const c = Math.min(chunk, co - c0);
    const layout: RunLayout = { len: c, srcStart: c0, loops: [[1, 0, 0], [p, co, n * c], [n, p * co, c]] };
    chunks.push(tensorFromRuns<tf.Rank.R4>([oh, ow, n, c], [{ src: dy, layout }]));
  }
  return chunks;
}

/** x [N, H, W, C] as [C, H, W, N]: a 2D transpose to [H·W·C, N], then whole N-runs moved to [C, H·W, N]. */
function channelsFirstBatchLast(x: tf.Tensor4D): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const p = h * w;
  const batchLast = transpose2d(tf.reshape(x, [n, p * c]) as tf.Tensor2D); // [P·C, N] = [P, C, N]
  return tensorFromRuns<tf.Rank.R4>([c, h, w, n], [{ src: batchLast, layout: { len: n, loops: [[1, 0, 0], [c, n, p * n], [p, c * n, n]] } }]);
}

/**
 * dL/dW of a stride-s conv = a conv of the input (batch and channels swapped) with the output
 * gradient as the filter, dilated by s; for large gradients one conv per output-channel chunk.
 */
export function conv2dFilterGradient(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: [number, number, number, number],
  strides: [number, number],
  pad: Pad,
  dimRoundingMode?: 'floor' | 'round' | 'ceil',
): tf.Tensor4D {
  return tf.tidy(() => {
    const info = padInfoOf(x.shape, filterShape, strides, pad, dimRoundingMode);
    const [kh, kw] = filterShape;
    const [, h, w, ci] = x.shape;
    const [, oh, ow, co] = dy.shape;
    const { top, left } = info.padInfo;
    const bottom = kh + (oh - 1) * strides[0] - h - top;
    const right = kw + (ow - 1) * strides[1] - w - left;
    let xt = channelsFirstBatchLast(x);
    xt = fitTrailing(fitTrailing(xt, 1, bottom), 2, right);
    const explicit: tf.backend_util.ExplicitPadding = [
      [0, 0],
      [top, Math.max(bottom, 0)],
      [left, Math.max(right, 0)],
      [0, 0],
    ];
    const chunk = dy.size >= CHUNK_FROM_VALUES ? FILTER_GRADIENT_CHUNK : co;
    const parts = batchInnerChunks(dy, chunk).map((d) => tf.conv2d(xt, d, 1, explicit, 'NHWC', strides)); // [Ci, KH, KW, c]
    // [Ci, KH, KW, c] chunks -> [KH, KW, Ci, Co]
    const taps = kh * kw;
    return tensorFromRuns<tf.Rank.R4>(
      [kh, kw, ci, co],
      parts.map((part, j) => {
        const c = part.shape[3];
        return { src: part, layout: { len: c, dstStart: j * chunk, loops: [[1, 0, 0], [ci, taps * c, co], [taps, c, ci * co]] } };
      }),
    );
  });
}

/**
 * Taps rh, rh+sh, ... × rw, rw+sw, ... of a [KH, KW, Ci, Co] filter, reversed (so the phase is a
 * correlation), as [kr, kc, Co, Ci] when `swapChannels` (dy's channels are the conv's outputs),
 * else [kr, kc, Ci, Co]. Rearranged in JS: wasm's StridedSlice, Reverse and this Transpose are
 * element loops that cost more than the convolutions of small layers.
 */
function phaseFilter(filter: tf.Tensor4D, rh: number, rw: number, sh: number, sw: number, swapChannels: boolean): tf.Tensor4D {
  const [kh, kw, ci, co] = filter.shape;
  const kr = Math.ceil((kh - rh) / sh);
  const kc = Math.ceil((kw - rw) / sw);
  const inner = ci * co;
  return tensorFromFill<tf.Rank.R4>(swapChannels ? [kr, kc, co, ci] : [kr, kc, ci, co], (out) => {
    const data = readValues(filter);
    for (let a = 0; a < kr; a++) {
      for (let b = 0; b < kc; b++) {
        const src = ((rh + (kr - 1 - a) * sh) * kw + (rw + (kc - 1 - b) * sw)) * inner;
        const dst = (a * kc + b) * inner;
        if (!swapChannels) {
          out.set(data.subarray(src, src + inner), dst);
          continue;
        }
        for (let i = 0; i < ci; i++) {
          for (let o = 0; o < co; o++) out[dst + o * ci + i] = data[src + i * co + o];
        }
      }
    }
  });
}

/**
 * A depthwise phase conv. XNNPACK has fast depthwise kernels for 2×2 and 3×3 taps but not for
 * 2×1 or 1×2 (the side phases of a stride-2 3×3 conv: ~6 ms instead of <1 for MobileNetV2's
 * 96-channel layer), so those get a zero tap and one more padded row or column of input.
 */
function depthwisePhase(src: tf.Tensor4D, sub: tf.Tensor4D, p: tf.backend_util.ExplicitPadding): tf.Tensor4D {
  const [kr, kc] = sub.shape;
  if (kr * kc !== 2) return tf.depthwiseConv2d(src, sub, 1, p);
  const padded = tf.pad(sub, [[0, 2 - kr], [0, 2 - kc], [0, 0], [0, 0]]);
  const more: tf.backend_util.ExplicitPadding = [p[0], [p[1][0], p[1][1] + 2 - kr], [p[2][0], p[2][1] + 2 - kc], p[3]];
  return tf.depthwiseConv2d(src, padded, 1, more);
}

/** One phase of one spatial axis of an input gradient (see conv2dInputGradient). */
interface AxisPhase {
  /** taps of the sub-filter: r, r+s, ... < k */
  taps: number;
  /** the first output index y (in phase index units j, y = j*s + r - before) and how many */
  first: number;
  count: number;
  /** dy rows [srcStart, srcEnd) feed it, zero-padded by padBefore / padAfter */
  srcStart: number;
  srcEnd: number;
  padBefore: number;
  padAfter: number;
}

/**
 * Output index y (0 <= y < size) of the input gradient sits at padded position p = y + before;
 * phase r = p mod s sees filter taps r, r+s, ... and dy index j - a for tap r + a*s, j = floor(p/s).
 * Each phase computes exactly the outputs it owns, so nothing is cropped afterwards.
 */
function axisPhase(r: number, size: number, outSize: number, k: number, s: number, before: number): AxisPhase {
  const taps = Math.max(0, Math.ceil((k - r) / s));
  const first = Math.max(0, Math.ceil((before - r) / s));
  const last = Math.floor((size - 1 + before - r) / s);
  const count = Math.max(0, last - first + 1);
  // dy indices first-taps+1 .. first+count-1; those outside [0, outSize) are zero padding.
  const lo = first - taps + 1;
  const hi = first + count - 1;
  const srcStart = Math.min(Math.max(lo, 0), outSize);
  const srcEnd = Math.max(Math.min(hi + 1, outSize), srcStart);
  return { taps, first, count, srcStart, srcEnd, padBefore: srcStart - lo, padAfter: hi + 1 - srcEnd };
}

/**
 * dL/dx of a stride-s conv (also the forward of a transposed conv), split into s×s phases:
 * each is a stride-1 conv of dy with a sub-filter of taps r, r+s, ..., and the phases interleave.
 * No multiply touches an inserted zero, unlike the zero-upsampling formulation, and each phase
 * computes only the outputs it owns. One strided run copy per phase interleaves them (wasm's
 * Pack and Slice had cost more than the convolutions of small layers). With `depthwise`, the same
 * for a depthwise conv (channel multiplier 1), whose phases are depthwise convs.
 */
export function conv2dInputGradient(
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  inputShape: [number, number, number, number],
  strides: [number, number],
  pad: Pad,
  dimRoundingMode?: 'floor' | 'round' | 'ceil',
  depthwise = false,
): tf.Tensor4D {
  if (depthwise && filter.shape[3] !== 1) {
    throw new Error(`depthwise input gradient: channel multiplier ${filter.shape[3]} is not supported (only 1)`);
  }
  return tf.tidy(() => {
    const [kh, kw] = filter.shape;
    const [n, h, w, ci] = inputShape;
    const [sh, sw] = strides;
    const info = padInfoOf(inputShape, filter.shape, strides, pad, dimRoundingMode);
    const { top, left } = info.padInfo;
    const [, oh, ow] = dy.shape;
    const phases: { values: tf.Tensor4D; origin: [number, number] }[] = [];
    for (let rh = 0; rh < sh; rh++) {
      const ph = axisPhase(rh, h, oh, kh, sh, top);
      for (let rw = 0; rw < sw; rw++) {
        const pw = axisPhase(rw, w, ow, kw, sw, left);
        if (ph.count === 0 || pw.count === 0) continue;
        const covered = ph.taps > 0 && pw.taps > 0 && ph.srcEnd > ph.srcStart && pw.srcEnd > pw.srcStart;
        let values: tf.Tensor4D;
        if (!covered) {
          values = tf.zeros([n, ph.count, pw.count, ci]); // no tap or no dy value reaches these outputs
        } else {
          const whole = ph.srcStart === 0 && ph.srcEnd === oh && pw.srcStart === 0 && pw.srcEnd === ow;
          const src = whole ? dy : tf.slice(dy, [0, ph.srcStart, pw.srcStart, 0], [n, ph.srcEnd - ph.srcStart, pw.srcEnd - pw.srcStart, dy.shape[3]]);
          // dy's channels are the conv's outputs; a depthwise filter [KH, KW, C, 1] already maps
          // each dy channel to its own input channel.
          const sub = phaseFilter(filter, rh, rw, sh, sw, !depthwise);
          const p: tf.backend_util.ExplicitPadding = [[0, 0], [ph.padBefore, ph.padAfter], [pw.padBefore, pw.padAfter], [0, 0]];
          values = depthwise ? depthwisePhase(src, sub, p) : tf.conv2d(src, sub, 1, p);
        }
        phases.push({ values, origin: [ph.first * sh + rh - top, pw.first * sw + rw - left] });
      }
    }
    if (sh === 1 && sw === 1) return phases[0]?.values ?? tf.zeros(inputShape);
    // Every output belongs to exactly one phase, so the phases write all of it.
    return tensorFromRuns<tf.Rank.R4>(
      inputShape,
      phases.map(({ values, origin }) => ({ src: values, layout: interleaveLayout(inputShape, values.shape, origin, strides) })),
    );
  });
}

/** Where a phase's outputs [N, R, C, ch] go: rows y0 + j*sh, columns x0 + i*sw of [N, H, W, ch]. */
function interleaveLayout([n, h, w, ch]: number[], [, rows, cols]: number[], [y0, x0]: [number, number], [sh, sw]: [number, number]): RunLayout {
  return {
    len: ch,
    dstStart: (y0 * w + x0) * ch,
    loops: [
      [n, rows * cols * ch, h * w * ch],
      [rows, cols * ch, sh * w * ch],
      [cols, ch, sw * ch],
    ],
  };
}
