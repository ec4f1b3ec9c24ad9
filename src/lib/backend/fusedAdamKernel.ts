/**
 * A custom tfjs kernel: one Adam update of one variable, registered by backends that have it
 * (webgpu: src/lib/backend/webgpu/adamPrograms.ts). The optimizer asks tf.getKernel whether the
 * current backend has it; the arithmetic is tf.AdamOptimizer's, in its order:
 *   m' = β1·m + (1 − β1)·g,  v' = β2·v + (1 − β2)·g²,
 *   w' = (m' / (1 − β1^t)) / (√(v' / (1 − β2^t)) + ε) · (−lr) + w.
 * Inputs: gradient, firstMoment, secondMoment, value, accBeta1 (β1^t), accBeta2 (β2^t), float32.
 * Outputs: [m', v', w'].
 */
export const FUSED_ADAM_KERNEL = 'ViiFusedAdam';

export interface FusedAdamAttrs {
  beta1: number;
  beta2: number;
  epsilon: number;
  learningRate: number;
}
