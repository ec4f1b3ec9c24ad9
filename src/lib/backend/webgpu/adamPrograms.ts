import type * as tf from '@tensorflow/tfjs';
// Types only: importing tfjs-backend-webgpu before navigator.gpu exists would stop it registering.
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import type { FusedAdamAttrs } from '../fusedAdamKernel';
import { ElementwiseProgram } from './elementwiseProgram';

/** m' = β·m + (1 − β)·g (first moment) or β·v + (1 − β)·g² (second), tf.AdamOptimizer's order. */
class MomentProgram extends ElementwiseProgram {
  variableNames = ['moment', 'gradient'];
  uniforms = 'beta : f32, oneMinusBeta : f32,';
  shaderKey: string;

  constructor(shape: number[], private readonly squared: boolean) {
    super(shape);
    this.shaderKey = `viiAdamMoment_${squared}`;
  }

  getUserCode(): string {
    const g = this.squared ? 'gradient[index] * gradient[index]' : 'gradient[index]';
    return `
      fn main(index : i32) {
        if (index < uniforms.size) {
          setOutputAtIndex(index, moment[index] * uniforms.beta + ${g} * uniforms.oneMinusBeta);
        }
      }
    `;
  }
}

/** w' = (m' / (1 − β1^t)) / (√(v' / (1 − β2^t)) + ε) · (−lr) + w. */
class ValueProgram extends ElementwiseProgram {
  variableNames = ['value', 'firstMoment', 'secondMoment', 'accBeta1', 'accBeta2'];
  uniforms = 'epsilon : f32, negLearningRate : f32,';
  shaderKey = 'viiAdamValue';

  getUserCode(): string {
    return `
      fn main(index : i32) {
        if (index < uniforms.size) {
          let first = firstMoment[index] / (1.0 - accBeta1[0]);
          let second = secondMoment[index] / (1.0 - accBeta2[0]);
          setOutputAtIndex(index, first / (sqrt(second) + uniforms.epsilon) * uniforms.negLearningRate + value[index]);
        }
      }
    `;
  }
}

/**
 * FUSED_ADAM_KERNEL on webgpu: three dispatches a variable (m', v', w') where tf.AdamOptimizer
 * makes about 13; the step's Adam was half of its 587 dispatches on an H200 (../shared/PLATFORM.md).
 */
export const fusedAdamKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const gpu = backend as unknown as WebGPUBackend;
  const { gradient, firstMoment, secondMoment, value, accBeta1, accBeta2 } = inputs as Record<string, tf.TensorInfo>;
  const a = attrs as unknown as FusedAdamAttrs;
  const f32 = (...data: number[]) => data.map((d) => ({ type: 'float32', data: [d] }));
  // (1 − β) in float32, as tf.AdamOptimizer's scalar tensor of 1 − β.
  const m = gpu.runWebGPUProgram(new MomentProgram(value.shape, false), [firstMoment, gradient], 'float32', f32(a.beta1, Math.fround(1 - a.beta1)));
  const v = gpu.runWebGPUProgram(new MomentProgram(value.shape, true), [secondMoment, gradient], 'float32', f32(a.beta2, Math.fround(1 - a.beta2)));
  const w = gpu.runWebGPUProgram(new ValueProgram(value.shape), [value, m, v, accBeta1, accBeta2], 'float32', f32(a.epsilon, -a.learningRate));
  return [m, v, w];
};
