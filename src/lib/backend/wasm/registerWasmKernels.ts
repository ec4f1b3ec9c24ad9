import * as tf from '@tensorflow/tfjs';
import { conv2dFilterGradient, conv2dInputGradient } from './convGradients';
import { plannedMatMul } from './matMulPlan';
import { leakyReluSlope } from './activationGradients';
import { batchSpatialSum, isBatchSpatialSum } from './spatialSum';
import { sliceAsRuns, tensorFromRuns } from './copyRuns';
import { simdKernels } from './simd/simdKernels';

type ConvAttrs = {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat?: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
};

const pair = (v: [number, number] | number): [number, number] => (typeof v === 'number' ? [v, v] : v);

function requireNHWC(kernel: string, dataFormat: string | undefined): void {
  // Depthwise kernels carry no dataFormat attribute: they are always NHWC.
  if (dataFormat !== undefined && dataFormat !== 'NHWC') throw new Error(`${kernel} on wasm: only NHWC is supported, got ${dataFormat}`);
}

/** wasm's own kernels that the overrides replace, for the cases they hand back. */
const replacedKernels = new Map<string, tf.KernelFunc>();

export function wasmOwn(kernelName: string): tf.KernelFunc {
  const f = replacedKernels.get(kernelName);
  if (!f) throw new Error(`wasm has no kernel ${kernelName} of its own to fall back to`);
  return f;
}

function xnnGemm(left: tf.Tensor2D, right: tf.Tensor2D): tf.Tensor2D {
  const [m, k] = left.shape;
  const n = right.shape[1];
  // wasm's own BatchMatMul runs untransposed [1, m, k]·[1, k, n] on XNNPACK's fully connected
  // operator (and everything else as a scalar loop).
  const info = wasmOwn('BatchMatMul')({
    inputs: { a: tf.reshape(left, [1, m, k]), b: tf.reshape(right, [1, k, n]) },
    backend: tf.backend(),
    attrs: { transposeA: false, transposeB: false },
  }) as tf.TensorInfo;
  return tf.reshape(tf.engine().makeTensorFromTensorInfo(info), [m, n]);
}

/** A single (unbatched) product, with any transposes done outside the GEMM (see plannedMatMul). */
function unbatchedMatMul(a: tf.Tensor, b: tf.Tensor, transposeA: boolean, transposeB: boolean): tf.Tensor {
  return tf.tidy(() => {
    const a2 = tf.reshape(a, a.shape.slice(-2) as [number, number]) as tf.Tensor2D;
    const b2 = tf.reshape(b, b.shape.slice(-2) as [number, number]) as tf.Tensor2D;
    const out = plannedMatMul(a2, b2, transposeA, transposeB, xnnGemm);
    // Same rank as the inputs, leading (size-1) batch dimensions kept.
    return tf.reshape(out, [...a.shape.slice(0, -2), ...out.shape]);
  });
}

/** The input gradient of a conv (or depthwise conv) through conv2dInputGradient. */
function inputGradientKernel(kernelName: 'Conv2DBackpropInput' | 'DepthwiseConv2dNativeBackpropInput', depthwise: boolean): tf.KernelConfig {
  return {
    kernelName,
    backendName: 'wasm',
    kernelFunc: ({ inputs, attrs }) => {
      const a = attrs as unknown as ConvAttrs & { inputShape: [number, number, number, number]; dilations?: [number, number] | number };
      requireNHWC(kernelName, a.dataFormat);
      if (pair(a.dilations ?? 1).some((d) => d !== 1)) throw new Error(`${kernelName} on wasm: dilations other than 1 are not supported`);
      const { dy, filter } = inputs as { dy: tf.Tensor4D; filter: tf.Tensor4D };
      return conv2dInputGradient(dy, filter, a.inputShape, pair(a.strides), a.pad, a.dimRoundingMode, depthwise);
    },
  };
}

/** Kernels this project adds to (or replaces on) the wasm backend; each is tested against cpu. */
export const WASM_KERNEL_OVERRIDES: tf.KernelConfig[] = [
  {
    // wasm's own Slice is an element loop (~8 ns per value); the gradient of every Pad is one.
    kernelName: 'Slice',
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { x } = args.inputs as { x: tf.Tensor };
      const { begin, size } = args.attrs as unknown as { begin: number | number[]; size: number | number[] };
      const [b, s] = tf.slice_util.parseSliceParams(x, begin, size);
      const runs = x.dtype === 'float32' && x.rank >= 1 && x.rank <= 4 && s.every((d) => d > 0) && simdKernels() ? sliceAsRuns(x.shape, b, s) : null;
      return runs ? tensorFromRuns(s, [{ src: x, layout: runs }]) : (wasmOwn('Slice')(args) as tf.TensorInfo);
    },
  },
  {
    // Bias gradients: a sum over batch and space per channel (see batchSpatialSum).
    kernelName: 'Sum',
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { x } = args.inputs as { x: tf.Tensor };
      const { axis, keepDims } = args.attrs as unknown as { axis: number | number[]; keepDims: boolean };
      // Height 1 goes to wasm's own: the depthwise route ends in a sum of [N, 1, 1, C] itself.
      const spatial = x.dtype === 'float32' && x.shape[1]! > 1 && isBatchSpatialSum(Array.isArray(axis) ? axis : [axis], x.shape.length);
      return spatial ? batchSpatialSum(x as tf.Tensor4D, keepDims) : (wasmOwn('Sum')(args) as tf.TensorInfo);
    },
  },
  {
    // wasm's own is a scalar loop (~5 ns per value); x · slope runs on two vectorised kernels
    // and gives the same values (x·1 = x, and the same float32 product x·alpha).
    kernelName: 'LeakyRelu',
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { x } = args.inputs as { x: tf.Tensor };
      const { alpha } = args.attrs as unknown as { alpha: number };
      if (x.dtype !== 'float32') return wasmOwn('LeakyRelu')(args) as tf.TensorInfo;
      return tf.tidy(() => tf.mul(x, leakyReluSlope(x, alpha)));
    },
  },
  {
    // wasm's own copies the values; tensors are immutable, so sharing them (as the cpu backend
    // does) is enough. Gradients pass through Identity many times a step.
    kernelName: 'Identity',
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { inputs, backend } = args;
      const { x } = inputs as { x: tf.TensorInfo };
      if (x.dtype === 'string') return wasmOwn('Identity')(args);
      (backend as unknown as { incRef(dataId: object): void }).incRef(x.dataId);
      return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
    },
  },
  {
    kernelName: 'BatchMatMul',
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { a, b } = args.inputs as { a: tf.Tensor; b: tf.Tensor };
      const { transposeA, transposeB } = args.attrs as unknown as { transposeA: boolean; transposeB: boolean };
      const batch = (t: tf.Tensor) => t.shape.slice(0, -2).reduce((p, d) => p * d, 1);
      if (batch(a) === 1 && batch(b) === 1 && a.dtype === 'float32' && b.dtype === 'float32') return unbatchedMatMul(a, b, transposeA, transposeB);
      return wasmOwn('BatchMatMul')(args) as tf.TensorInfo;
    },
  },
  {
    // Missing on wasm: without it no conv net can be trained there.
    kernelName: 'Conv2DBackpropFilter',
    backendName: 'wasm',
    kernelFunc: ({ inputs, attrs }) => {
      const a = attrs as unknown as ConvAttrs & { filterShape: [number, number, number, number] };
      requireNHWC('Conv2DBackpropFilter', a.dataFormat);
      const { x, dy } = inputs as { x: tf.Tensor4D; dy: tf.Tensor4D };
      return conv2dFilterGradient(x, dy, a.filterShape, pair(a.strides), a.pad, a.dimRoundingMode);
    },
  },
  // wasm's own kernel is a scalar loop (also the forward of conv2dTranspose); this one runs on XNNPACK.
  inputGradientKernel('Conv2DBackpropInput', false),
  // Missing on wasm: the perceptual loss backpropagates through MobileNetV2's depthwise convs.
  inputGradientKernel('DepthwiseConv2dNativeBackpropInput', true),
];

let registered = false;

/** Register the overrides once per process (wasm backend must be imported first). */
export function registerWasmKernels(): void {
  if (registered) return;
  for (const config of WASM_KERNEL_OVERRIDES) {
    const replaced = tf.getKernel(config.kernelName, 'wasm');
    if (replaced) {
      replacedKernels.set(config.kernelName, replaced.kernelFunc);
      tf.unregisterKernel(config.kernelName, 'wasm');
    }
    // Keep the replaced kernel's setup (it binds wasm functions the fallback path still calls).
    tf.registerKernel(replaced?.setupFunc ? { ...config, setupFunc: replaced.setupFunc } : config);
  }
  registered = true;
}
