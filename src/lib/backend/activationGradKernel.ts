import * as tf from '@tensorflow/tfjs';

/**
 * A custom tfjs kernel: dL/dx of an activation from dy and the saved x in one pass, registered by
 * backends that have it (webgpu: src/lib/backend/webgpu/activationGradProgram.ts), where tfjs-core's
 * gradient takes 2–5 elementwise dispatches:
 *   relu6:     dy where 0 < x ≤ 6, else 0;
 *   leakyRelu: dy where x > 0, else α·dy.
 * Inputs: dy, x (float32, one shape). Output: dx.
 */
export const ACTIVATION_GRAD_KERNEL = 'ViiActivationGrad';

export interface ActivationGradAttrs {
  activation: 'relu6' | 'leakyRelu';
  alpha: number;
}

/** dx by the backend's fused kernel, or null where it has none (or the inputs do not fit it). */
export function fusedActivationGrad(dy: tf.Tensor, x: tf.Tensor, attrs: ActivationGradAttrs): tf.Tensor | null {
  if (tf.getKernel(ACTIVATION_GRAD_KERNEL, tf.getBackend()) === undefined) return null;
  if (dy.dtype !== 'float32' || x.dtype !== 'float32' || dy.shape.join() !== x.shape.join()) return null;
  return tf.engine().runKernel(ACTIVATION_GRAD_KERNEL, { dy, x }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
}
