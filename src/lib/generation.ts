import * as tf from '@tensorflow/tfjs';
import { tfSeed } from './rng';
import type { Vae } from './models/vae';
import { decoderAttributes } from './models/config';

/** z ~ N(0, I), seeded. */
export function samplePrior(n: number, latentDim: number, seed: number): tf.Tensor2D {
  return tf.randomNormal([n, latentDim], 0, 1, 'float32', tfSeed(seed)) as tf.Tensor2D;
}

/**
 * Decode prior samples. Models whose decoder takes y get `y` (e.g. real attribute rows); the
 * one-shot model's decoder also needs x', which a prior sample does not have: it gets an empty
 * observation (mask 0 everywhere).
 */
export function generate(model: Vae, z: tf.Tensor2D, y: tf.Tensor2D | null): tf.Tensor4D {
  return tf.tidy(() => {
    const c = model.config;
    const n = z.shape[0];
    const needsY = decoderAttributes(c);
    if (needsY && !y) throw new Error(`model "${c.name}" generates from z and attributes y; pass y`);
    const empty = c.decoderSeesObserved ? { x: tf.zeros([n, c.imageSize, c.imageSize, 3]) as tf.Tensor4D, mask: tf.zeros([n, c.imageSize, c.imageSize, 1]) as tf.Tensor4D } : null;
    return model.decode(z, needsY ? y : null, empty);
  });
}
