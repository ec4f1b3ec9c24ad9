import * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { InputGradientProgram, planInputGradient } from './inputGradientProgram';
import { convShape, type ConvShape } from './convShape';

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

/** The Conv2DBackpropInput attributes tfjs passes (tfjs-core's Conv2DBackpropInputAttrs). */
interface InputGradientAttrs {
  inputShape: [number, number, number, number];
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/** The shape of one input gradient, or null where the stock kernel must run (NCHW). */
export function inputGradientShape(filterShape: number[], attrs: InputGradientAttrs): ConvShape | null {
  if (attrs.dataFormat === 'NCHW') return null;
  return convShape(tf.backend_util.computeConv2DInfo(attrs.inputShape, filterShape as [number, number, number, number], attrs.strides, 1, attrs.pad, attrs.dimRoundingMode));
}

/** Conv2DBackpropInput on webgpu through the per-phase GEMM; `stock` (tfjs' kernel) serves what it does not cover. */
export function makeInputGradientKernel(stock: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args as KernelArgs;
    const { dy, filter } = inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
    const shape = inputGradientShape(filter.shape, attrs as unknown as InputGradientAttrs);
    if (!shape || dy.dtype !== 'float32' || filter.dtype !== 'float32') return stock(args);
    const plan = planInputGradient(shape);
    const uniforms = [
      { type: 'int32', data: [shape.padTop, shape.padLeft] },
      { type: 'int32', data: [shape.strideHeight, shape.strideWidth] },
      { type: 'int32', data: plan.taps },
      { type: 'int32', data: plan.phaseRows },
      { type: 'int32', data: [plan.k] },
      { type: 'int32', data: [plan.n] },
      { type: 'int32', data: [plan.m] },
    ];
    return (backend as WebGPUBackend).runWebGPUProgram(new InputGradientProgram(plan, shape), [dy, filter], 'float32', uniforms);
  };
}
