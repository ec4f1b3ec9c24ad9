import * as tf from '@tensorflow/tfjs';
import { simdKernels } from './simd/simdKernels';
import { heapOffset, tensorFromFill } from './tensorMemory';
import { fusedActivationGrad } from '../activationGradKernel';

/**
 * leakyRelu's slope: 1 where x > 0, alpha elsewhere (NaN for NaN). On wasm, Step and Multiply are
 * vectorised (~0.2 ns per value) while LeakyRelu, Greater and Select are scalar loops (4–6 ns).
 */
export function leakyReluSlope(x: tf.Tensor, alpha: number): tf.Tensor {
  return tf.step(x, alpha);
}

/**
 * dL/dx of leakyRelu = dy · slope: the values of tfjs-core's where(x > 0, dy, dy·alpha) (they
 * differ only where x is NaN), in two fast kernels instead of three slow ones.
 */
export function leakyReluBackward(dy: tf.Tensor, x: tf.Tensor, alpha: number): tf.Tensor {
  // One dispatch where the backend has the fused kernel (webgpu).
  return fusedActivationGrad(dy, x, { activation: 'leakyRelu', alpha }) ?? tf.tidy(() => tf.mul(dy, leakyReluSlope(x, alpha)));
}

export const leakyReluGradConfig: tf.GradConfig = {
  kernelName: 'LeakyRelu',
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved;
    const { alpha } = attrs as unknown as { alpha: number };
    return { x: () => leakyReluBackward(dy as tf.Tensor, x, alpha) };
  },
};

/**
 * dL/dx of relu6 = dy where 0 < x ≤ 6, else 0: the values of tfjs-core's
 * dy·cast(lessEqual(x, 6)·step(x)) (they differ only where x is NaN), with the mask as
 * step(x) − step(x − 6) (x − 6 is exact near 6) on vectorised kernels; LessEqual, its bool
 * product and Cast are scalar loops on wasm (~110 ms of a perceptual-loss step through MobileNetV2).
 */
export function relu6Backward(dy: tf.Tensor, x: tf.Tensor): tf.Tensor {
  // On wasm one SIMD pass (simd/relu6Grad.wat) does the five kernels' work (~40 ms of a 64×64
  // perceptual step, bench/profileStep.ts); the same values, but +0 where dy·0 gave −0.
  const kernels = x.size % 4 === 0 && x.dtype === 'float32' && dy.dtype === 'float32' && x.shape.join() === dy.shape.join() ? simdKernels() : null;
  if (kernels) {
    const out = tensorFromFill(x.shape, () => {}); // the kernel writes every value
    kernels.relu6Grad(heapOffset(dy), heapOffset(x), heapOffset(out), x.size);
    return out;
  }
  const fused = fusedActivationGrad(dy, x, { activation: 'relu6', alpha: 0 });
  if (fused) return fused;
  return tf.tidy(() => tf.mul(dy, tf.sub(tf.step(x), tf.step(tf.sub(x, 6)))));
}

export const relu6GradConfig: tf.GradConfig = {
  kernelName: 'Relu6',
  inputsToSave: ['x'],
  gradFunc: (dy, saved) => {
    const [x] = saved;
    return { x: () => relu6Backward(dy as tf.Tensor, x) };
  },
};
