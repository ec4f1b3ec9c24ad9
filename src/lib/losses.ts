import * as tf from '@tensorflow/tfjs';
import type { FeatureNet } from './weights/featureNet';

/**
 * The negative ELBO of the paper, per image (batch mean):
 *   ‖x̂ − x‖² + Σ_l λ_l ‖η_l(x̂) − η_l(x)‖² · D / |η_l| + β KL(q(z|·) ‖ N(0, I)),
 * D = pixels × 3. Each perceptual layer is a mean over its elements scaled to the pixel term's
 * size, so λ_l = 1 weighs a layer like the pixel term whatever its resolution and width.
 */
export interface LossTerms {
  total: tf.Scalar;
  recon: tf.Scalar;
  perceptual: tf.Scalar;
  kl: tf.Scalar;
}

/**
 * KL(N(μ, σ²) ‖ N(0, I)) summed over latent dimensions, averaged over the batch. `weights` [B]
 * scales each image's KL (0 for images whose z came from the prior: their q is p(z), KL 0).
 */
export function klDivergence(mu: tf.Tensor2D, logVar: tf.Tensor2D, weights: tf.Tensor1D | null = null): tf.Scalar {
  return tf.tidy(() => {
    const perImage = tf.mul(tf.sum(tf.sub(tf.add(tf.square(mu), tf.exp(logVar)), tf.add(logVar, 1)), 1), 0.5);
    return tf.mean(weights ? tf.mul(perImage, weights) : perImage) as tf.Scalar;
  });
}

/** Σ over pixels and channels of the squared error, averaged over the batch. */
export function reconstructionError(xHat: tf.Tensor4D, x: tf.Tensor4D): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.sum(tf.squaredDifference(xHat, x), [1, 2, 3])) as tf.Scalar);
}

export function perceptualError(net: FeatureNet | null, lambdas: number[], xHat: tf.Tensor4D, x: tf.Tensor4D): tf.Scalar {
  if (!net || lambdas.every((l) => l === 0)) return tf.scalar(0);
  return tf.tidy(() => {
    const d = x.shape[1] * x.shape[2] * x.shape[3];
    const a = net.features(xHat);
    const b = net.features(x);
    const terms = a.map((fa, i) => tf.mul(tf.mean(tf.squaredDifference(fa, b[i])), lambdas[i] * d));
    return tf.addN(terms) as tf.Scalar;
  });
}

export function negativeElbo(parts: { xHat: tf.Tensor4D; x: tf.Tensor4D; mu: tf.Tensor2D; logVar: tf.Tensor2D; beta: number; net: FeatureNet | null; lambdas: number[]; klWeights?: tf.Tensor1D | null }): LossTerms {
  const recon = reconstructionError(parts.xHat, parts.x);
  const perceptual = perceptualError(parts.net, parts.lambdas, parts.xHat, parts.x);
  const kl = klDivergence(parts.mu, parts.logVar, parts.klWeights ?? null);
  const total = tf.addN([recon, perceptual, tf.mul(kl, parts.beta)]) as tf.Scalar;
  return { total, recon, perceptual, kl };
}
