import * as tf from '@tensorflow/tfjs';

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

/** Crop (negative) or zero-pad (positive) the trailing end of a spatial axis. */
function fitTrailing(t: tf.Tensor4D, axis: 1 | 2, extra: number): tf.Tensor4D {
  if (extra >= 0) return t;
  const size = t.shape.slice() as number[];
  size[axis] += extra;
  return tf.slice(t, [0, 0, 0, 0], size);
}

/**
 * dL/dW of a stride-s conv = a conv of the input (batch and channels swapped) with the output
 * gradient as the filter, dilated by s.
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
    const [, h, w] = x.shape;
    const [, oh, ow] = dy.shape;
    const { top, left } = info.padInfo;
    const bottom = kh + (oh - 1) * strides[0] - h - top;
    const right = kw + (ow - 1) * strides[1] - w - left;
    let xt = tf.transpose(x, [3, 1, 2, 0]); // [Ci, H, W, N]
    xt = fitTrailing(fitTrailing(xt, 1, bottom), 2, right);
    const dyt = tf.transpose(dy, [1, 2, 0, 3]); // [OH, OW, N, Co]
    const explicit: tf.backend_util.ExplicitPadding = [
      [0, 0],
      [top, Math.max(bottom, 0)],
      [left, Math.max(right, 0)],
      [0, 0],
    ];
    const g = tf.conv2d(xt, dyt, 1, explicit, 'NHWC', strides); // [Ci, KH, KW, Co]
    return tf.transpose(g, [1, 2, 0, 3]);
  });
}

/**
 * Taps rh, rh+sh, ... × rw, rw+sw, ... of a [KH, KW, A, B] filter, reversed (so the phase is a
 * correlation). Rearranged in JS: wasm's StridedSlice and Reverse are generic element loops that
 * cost more than the convolutions of small layers.
 */
function phaseFilter(data: Float32Array, [kh, kw, A, B]: number[], rh: number, rw: number, sh: number, sw: number): tf.Tensor4D {
  const kr = Math.ceil((kh - rh) / sh);
  const kc = Math.ceil((kw - rw) / sw);
  const inner = A * B;
  const out = new Float32Array(kr * kc * inner);
  for (let a = 0; a < kr; a++) {
    for (let b = 0; b < kc; b++) {
      const src = ((rh + (kr - 1 - a) * sh) * kw + (rw + (kc - 1 - b) * sw)) * inner;
      out.set(data.subarray(src, src + inner), (a * kc + b) * inner);
    }
  }
  return tf.tensor4d(out, [kr, kc, A, B]);
}

/**
 * dL/dx of a stride-s conv (also the forward of a transposed conv), split into s×s phases:
 * output rows with (h + top) mod s = r only see filter taps r, r+s, ..., so each phase is a
 * stride-1 conv of dy with a sub-filter, and the phases interleave. No multiply touches an
 * inserted zero, unlike the zero-upsampling formulation. With `depthwise`, the same for a
 * depthwise conv (channel multiplier 1), whose phases are depthwise convs.
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
    const ci = inputShape[3];
    const [n, h, w] = inputShape;
    const [sh, sw] = strides;
    const info = padInfoOf(inputShape, filter.shape, strides, pad, dimRoundingMode);
    const { top, left } = info.padInfo;
    const [, oh, ow] = dy.shape;
    const qh = Math.ceil((h + top) / sh);
    const qw = Math.ceil((w + left) / sw);
    // [KH, KW, Ci, Co] -> [KH, KW, Co, Ci]: dy's channels are the conv's input channels here.
    // A depthwise filter [KH, KW, C, 1] already maps each dy channel to its own input channel.
    const ft = depthwise ? filter : tf.transpose(filter, [0, 1, 3, 2]);
    const conv = (src: tf.Tensor4D, f: tf.Tensor4D, p: tf.backend_util.ExplicitPadding) => (depthwise ? tf.depthwiseConv2d(src, f, 1, p) : tf.conv2d(src, f, 1, p));
    if (sh === 1 && sw === 1) {
      // One phase: a correlation of dy with the flipped filter, padded to give exactly h×w.
      const pt = kh - 1 - top;
      const pl = kw - 1 - left;
      const pb = h - oh + top;
      const pr = w - ow + left;
      if (pt >= 0 && pl >= 0 && pb >= 0 && pr >= 0) return conv(dy, tf.reverse(ft, [0, 1]) as tf.Tensor4D, [[0, 0], [pt, pb], [pl, pr], [0, 0]]);
    }
    const padBottom = qh - oh;
    const padRight = qw - ow;
    const src = fitTrailing(fitTrailing(dy, 1, padBottom), 2, padRight);
    const [A, B] = [ft.shape[2], ft.shape[3]];
    const filterData = ft.dataSync() as Float32Array;
    const rows: tf.Tensor[] = [];
    for (let rh = 0; rh < sh; rh++) {
      const cols: tf.Tensor[] = [];
      for (let rw = 0; rw < sw; rw++) {
        const kr = Math.ceil((kh - rh) / sh);
        const kc = Math.ceil((kw - rw) / sw);
        if (kr <= 0 || kc <= 0) {
          cols.push(tf.zeros([n, qh, qw, ci]));
          continue;
        }
        // Taps rh, rh+sh, ... reversed, so the phase is a correlation.
        const sub = phaseFilter(filterData, [kh, kw, A, B], rh, rw, sh, sw);
        const explicit: tf.backend_util.ExplicitPadding = [
          [0, 0],
          [kr - 1, Math.max(padBottom, 0)],
          [kc - 1, Math.max(padRight, 0)],
          [0, 0],
        ];
        cols.push(conv(src, sub, explicit)); // [N, qh, qw, Ci]
      }
      rows.push(tf.stack(cols, 3)); // [N, qh, qw, sw, Ci]
    }
    const interleaved = tf.reshape(tf.stack(rows, 2), [n, qh * sh, qw * sw, ci]);
    return tf.slice(interleaved, [0, top, left, 0], [n, h, w, ci]) as tf.Tensor4D;
  });
}
