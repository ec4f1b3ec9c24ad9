import * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { FilterGradientProgram, FilterGradientSumProgram, planSplits } from './filterGradientProgram';
import { convShape, type ConvShape } from './convShape';

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

/** The Conv2DBackpropFilter attributes tfjs passes (tfjs-core's Conv2DBackpropFilterAttrs). */
interface FilterGradientAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
}

/** The shape of one filter gradient in the GEMM's terms, or null where the stock kernel must run (NCHW; non-float32 inputs are checked by the caller). */
export function filterGradientShape(xShape: number[], attrs: FilterGradientAttrs): ConvShape | null {
  if (attrs.dataFormat === 'NCHW') return null;
  return convShape(tf.backend_util.computeConv2DInfo(xShape as [number, number, number, number], attrs.filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode));
}

/**
 * Conv2DBackpropFilter on webgpu through the tiled split-K GEMM; `stock` (tfjs' kernel) serves
 * what it does not cover.
 */
export function makeFilterGradientKernel(stock: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args as KernelArgs;
    const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
    const a = attrs as unknown as FilterGradientAttrs;
    const shape = filterGradientShape(x.shape, a);
    if (!shape || x.dtype !== 'float32' || dy.dtype !== 'float32') return stock(args);
    const gpu = backend as WebGPUBackend;
    const plan = planSplits(shape);
    const uniforms = [
      { type: 'int32', data: [shape.padTop, shape.padLeft] },
      { type: 'int32', data: [shape.strideHeight, shape.strideWidth] },
      { type: 'int32', data: [shape.filterWidth] },
      { type: 'int32', data: [shape.inChannels] },
      { type: 'int32', data: [plan.k] },
      { type: 'int32', data: [plan.n] },
      { type: 'int32', data: [plan.m] },
      { type: 'int32', data: [plan.chunk] },
    ];
    const partials = gpu.runWebGPUProgram(new FilterGradientProgram(plan, a.filterShape), [x, dy], 'float32', uniforms);
    if (plan.splits === 1) return partials;
    const sum = gpu.runWebGPUProgram(new FilterGradientSumProgram(a.filterShape), [partials], 'float32', [{ type: 'int32', data: [plan.splits] }]);
    gpu.disposeData(partials.dataId);
    return sum;
  };
}
