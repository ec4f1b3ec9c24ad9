import * as tf from '@tensorflow/tfjs';
import { reparameterise, type Vae } from '../models/vae';
import type { AttributeClassifier } from '../metrics/attributeClassifier';
import { createRng, subSeed, tfSeed } from '../rng';

/** The guide classifier and which of its 40 outputs are the model's attributes, in the model's order. */
export interface AttributeGuide {
  classifier: AttributeClassifier;
  columns: number[];
}

/**
 * Target attributes y' for the guidance images, in the data's encoding (CelebA's ±1 stored as
 * 1/0): another face's attributes (the batch rolled by one, so combinations stay realistic), each
 * redrawn as a random 1 or 0 with probability 1/(2A) for A attributes — about one attribute
 * switched in every other image, against the rest of a real face, as in a sweep.
 */
export function guidanceTargets(y: tf.Tensor2D, seed: number): tf.Tensor2D {
  const [batch, count] = y.shape;
  const rng = createRng(subSeed(seed, 'guidance-targets'));
  const redraw = 0.5 / count;
  const replace = Array.from({ length: batch * count }, () => (rng.next() < redraw ? 1 : 0));
  const values = Array.from({ length: batch * count }, () => (rng.next() < 0.5 ? 1 : 0));
  return tf.tidy(() => {
    const rolled = batch > 1 ? tf.concat([tf.slice(y, [1, 0], [-1, -1]), tf.slice(y, [0, 0], [1, -1])], 0) : y;
    const r = tf.tensor2d(replace, [batch, count]);
    return tf.add(tf.mul(rolled, tf.sub(1, r)), tf.mul(tf.tensor2d(values, [batch, count]), r)) as tf.Tensor2D;
  });
}

/**
 * λ_a Σ_a BCE(guide(x), y'_a) per image (batch mean) for images decoded with targets y' from
 * z ~ N(0, I) (a sweep at test time) or, for half the images, from the batch's own posterior
 * z ~ q(z | x) (a completion with forced attributes: the decoder must follow y' even when z comes
 * from a real face). Differentiable in the decoder and, through the posterior z, the encoder; the
 * guide is frozen. `observed` is the one-shot model's decoder input.
 */
export function attributeGuidanceLoss(
  model: Vae,
  guide: AttributeGuide,
  y: tf.Tensor2D,
  posterior: { mu: tf.Tensor2D; logVar: tf.Tensor2D },
  observed: { x: tf.Tensor4D; mask: tf.Tensor4D } | null,
  seed: number,
  /** The masked model's observation (x' = m ⊙ x, m), for guidanceOn `completion`. */
  hole: { x: tf.Tensor4D; mask: tf.Tensor4D } | null = null,
): tf.Scalar {
  return tf.tidy(() => {
    const target = guidanceTargets(y, seed);
    const [batch, latent] = posterior.mu.shape;
    const prior = tf.randomNormal([batch, latent], 0, 1, 'float32', tfSeed(subSeed(seed, 'guidance-z')));
    const rng = createRng(subSeed(seed, 'guidance-source'));
    const usePosterior = tf.tensor2d(Array.from({ length: batch }, () => (rng.next() < 0.5 ? 1 : 0)), [batch, 1]);
    const completion = model.config.guidanceOn === 'completion';
    if (completion && !hole) throw new Error('guidanceOn completion needs the masked observation');
    // As `vii complete --set` does: the posterior of the masked face with the target y' in the encoder.
    const forced = completion ? model.encode(hole!.x, hole!.mask, target) : posterior;
    const fromPosterior = reparameterise(forced.mu, forced.logVar, subSeed(seed, 'guidance-eps'));
    const z = tf.add(tf.mul(fromPosterior, usePosterior), tf.mul(prior, tf.sub(1, usePosterior))) as tf.Tensor2D;
    const decoded = model.decode(z, target, observed);
    // Completions keep the observed pixels: only the hole can show y'. Prior samples are judged whole.
    const x = completion ? (tf.add(tf.mul(decoded, tf.sub(1, tf.mul(hole!.mask, usePosterior.reshape([batch, 1, 1, 1])))), tf.mul(hole!.x, usePosterior.reshape([batch, 1, 1, 1]))) as tf.Tensor4D) : decoded;
    // Columns picked by a one-hot matrix: gather's gradient (UnsortedSegmentSum) has no wasm kernel.
    const all = guide.classifier.model.apply(x) as tf.Tensor2D;
    const pick = tf.oneHot(tf.tensor1d(guide.columns, 'int32'), all.shape[1]).transpose().toFloat();
    const logits = tf.matMul(all, pick);
    // sigmoid cross-entropy per attribute, summed over attributes, mean over images
    const bce = tf.losses.sigmoidCrossEntropy(target, logits, undefined, 0, tf.Reduction.NONE);
    return tf.mul(tf.mean(tf.sum(bce, 1)), model.config.attributeGuidance) as tf.Scalar;
  });
}
