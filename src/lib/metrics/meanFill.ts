import * as tf from '@tensorflow/tfjs';

/**
 * The simplest inpainting baseline: each hole filled with the mean colour of that image's
 * observed pixels. A model that does not beat it has learnt nothing about faces (a collapsed
 * VAE's gray box scores about the same).
 */
export function meanFill(x: tf.Tensor4D, mask: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const observed = tf.sum(mask, [1, 2], true);
    const mean = tf.div(tf.sum(tf.mul(x, mask), [1, 2], true), tf.maximum(observed, 1));
    return tf.add(tf.mul(x, mask), tf.mul(tf.sub(1, mask), mean)) as tf.Tensor4D;
  });
}
