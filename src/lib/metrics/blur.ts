import * as tf from '@tensorflow/tfjs';

/**
 * x blurred by a factor f: bilinear down to 1/f of its side and up again (f = 1: x itself). How the
 * judge sees a VAE's softness: its decodes carry less detail than a photograph, not a different face.
 */
export function blurred(x: tf.Tensor4D, f: number): tf.Tensor4D {
  if (f === 1) return x.clone();
  const [, h, w] = x.shape;
  return tf.tidy(() => tf.image.resizeBilinear(tf.image.resizeBilinear(x, [Math.round(h / f), Math.round(w / f)], false, true), [h, w], false, true));
}
