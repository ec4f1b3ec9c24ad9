import * as tf from '@tensorflow/tfjs';
import { conv2dFilterGradient, conv2dInputGradient } from './convGradients';

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

/** Kernels this project adds to (or replaces on) the wasm backend; each is tested against cpu. */
export const WASM_KERNEL_OVERRIDES: tf.KernelConfig[] = [
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
  {
    // wasm's own kernel is a scalar loop (also the forward of conv2dTranspose); this one runs on XNNPACK.
    kernelName: 'Conv2DBackpropInput',
    backendName: 'wasm',
    kernelFunc: ({ inputs, attrs }) => {
      const a = attrs as unknown as ConvAttrs & { inputShape: [number, number, number, number] };
      requireNHWC('Conv2DBackpropInput', a.dataFormat);
      const { dy, filter } = inputs as { dy: tf.Tensor4D; filter: tf.Tensor4D };
      return conv2dInputGradient(dy, filter, a.inputShape, pair(a.strides), a.pad, a.dimRoundingMode);
    },
  },
  {
    // Missing on wasm: the perceptual loss backpropagates through MobileNetV2's depthwise convs.
    kernelName: 'DepthwiseConv2dNativeBackpropInput',
    backendName: 'wasm',
    kernelFunc: ({ inputs, attrs }) => {
      const a = attrs as unknown as ConvAttrs & { inputShape: [number, number, number, number]; dilations: [number, number] | number };
      requireNHWC('DepthwiseConv2dNativeBackpropInput', a.dataFormat);
      if (pair(a.dilations ?? 1).some((d) => d !== 1)) throw new Error('DepthwiseConv2dNativeBackpropInput on wasm: dilations other than 1 are not supported');
      const { dy, filter } = inputs as { dy: tf.Tensor4D; filter: tf.Tensor4D };
      return conv2dInputGradient(dy, filter, a.inputShape, pair(a.strides), a.pad, a.dimRoundingMode, true);
    },
  },
];

let registered = false;

/** Register the overrides once per process (wasm backend must be imported first). */
export function registerWasmKernels(): void {
  if (registered) return;
  for (const config of WASM_KERNEL_OVERRIDES) {
    if (tf.getKernel(config.kernelName, 'wasm')) tf.unregisterKernel(config.kernelName, 'wasm');
    tf.registerKernel(config);
  }
  registered = true;
}
