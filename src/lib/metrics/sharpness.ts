import * as tf from '@tensorflow/tfjs';

/** ITU-R BT.601 luma weights: sharpness is measured on brightness, where blur shows. */
const LUMA = [0.299, 0.587, 0.114];
const LAPLACIAN = [0, 1, 0, 1, -4, 1, 0, 1, 0];

/** |∇²Y| of each image ([N, H−2, W−2]: valid positions only, so the image border adds no edge). */
function laplacianEnergy(x: tf.Tensor4D): tf.Tensor3D {
  const luma = tf.sum(tf.mul(x, tf.tensor1d(LUMA)), 3, true) as tf.Tensor4D;
  return tf.squeeze(tf.abs(tf.conv2d(luma, tf.tensor4d(LAPLACIAN, [3, 3, 1, 1]), 1, 'valid')), [3]) as tf.Tensor3D;
}

/**
 * The hole's interior: pixels whose whole 3×3 neighbourhood is in the hole (m = 0), cropped like
 * the valid Laplacian. The seam between observed pixels and the fill is left out, so a blurry fill
 * cannot score detail from the step at the hole's edge. [N, H−2, W−2].
 */
function holeInterior(mask: tf.Tensor4D): tf.Tensor3D {
  const touchesObserved = tf.maxPool(mask, 3, 1, 'valid');
  return tf.squeeze(tf.sub(1, touchesObserved), [3]) as tf.Tensor3D;
}

/**
 * Hole sharpness (network-free): mean |Laplacian| of the completion's luma inside the hole over
 * the ground truth's at the same pixels, one ratio per image. 1 = as much fine detail as the
 * photograph, < 1 blurrier, > 1 noisier. a = completion, truth = the photograph, mask [N, H, W, 1]
 * (1 = observed). Images whose hole has no interior or a flat ground truth get NaN (left out by
 * the caller's mean).
 */
export function holeSharpness(a: tf.Tensor4D, truth: tf.Tensor4D, mask: tf.Tensor4D): tf.Tensor1D {
  if (a.shape.join() !== truth.shape.join()) throw new Error(`holeSharpness: shapes differ (${a.shape} vs ${truth.shape})`);
  return tf.tidy(() => {
    const interior = holeInterior(mask);
    const energy = (x: tf.Tensor4D) => tf.sum(tf.mul(laplacianEnergy(x), interior), [1, 2]);
    const real = energy(truth);
    // 0/0 and x/0 become NaN: no interior or no detail in the photograph to compare with.
    return tf.where(tf.greater(real, 1e-6), tf.div(energy(a), tf.maximum(real, 1e-6)), tf.fill(real.shape, NaN)) as tf.Tensor1D;
  });
}
