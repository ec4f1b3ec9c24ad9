import * as tf from '@tensorflow/tfjs';
import type { Vae } from './models/vae';

/** z ~ N(0, I), seeded. */
export function samplePrior(n: number, latentDim: number, seed: number): tf.Tensor2D {
  return tf.randomNormal([n, latentDim], 0, 1, 'float32', seed) as tf.Tensor2D;
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
    const needsY = c.placement === 'decoder' || c.placement === 'both';
    if (needsY && !y) throw new Error(`model "${c.name}" generates from z and attributes y; pass y`);
    const empty = c.decoderSeesObserved ? { x: tf.zeros([n, c.imageSize, c.imageSize, 3]) as tf.Tensor4D, mask: tf.zeros([n, c.imageSize, c.imageSize, 1]) as tf.Tensor4D } : null;
    return model.decode(z, needsY ? y : null, empty);
  });
}

/**
 * Attribute sweep (paper Figure 6): the same z decoded with y where one attribute at a time is
 * set to 0 and to 1. Returns images ordered row by row: for each z, [base, attr1=0, attr1=1, ...].
 */
export function attributeSweep(model: Vae, z: tf.Tensor2D, baseY: tf.Tensor2D, attributes: string[]): tf.Tensor4D {
  const names = model.config.attributes;
  return tf.tidy(() => {
    const n = z.shape[0];
    const variants: tf.Tensor2D[] = [baseY];
    for (const a of attributes) {
      const col = names.indexOf(a);
      if (col < 0) throw new Error(`attribute "${a}" is not one of the model's: ${names.join(', ')}`);
      const onehot = tf.tensor2d(Array.from({ length: n }, () => names.map((_, j) => (j === col ? 1 : 0)))); // tf.oneHot needs depth ≥ 2
      const off = tf.mul(baseY, tf.sub(1, onehot)) as tf.Tensor2D;
      variants.push(off, tf.add(off, onehot) as tf.Tensor2D);
    }
    const images = variants.map((y) => generate(model, z, y)); // each [n, S, S, 3]
    const [, h, w, c] = images[0].shape;
    return tf.reshape(tf.stack(images, 1), [n * variants.length, h, w, c]) as tf.Tensor4D;
  });
}
