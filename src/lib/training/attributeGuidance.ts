import * as tf from '@tensorflow/tfjs';
import type { Vae } from '../models/vae';
import type { AttributeClassifier } from '../metrics/attributeClassifier';
import { createRng, subSeed } from '../rng';

/** The guide classifier and which of its 40 outputs are the model's attributes, in the model's order. */
export interface AttributeGuide {
  classifier: AttributeClassifier;
  columns: number[];
}

/**
 * Target attributes y' (±1) for the guidance images: another face's attributes (the batch rolled
 * by one, so combinations stay realistic), each then set to a random ±1 with probability 1/2, so
 * single attributes are also switched on and off against the rest of a face.
 */
export function guidanceTargets(y: tf.Tensor2D, seed: number): tf.Tensor2D {
  const [batch, count] = y.shape;
  const rng = createRng(subSeed(seed, 'guidance-targets'));
  const replace = Array.from({ length: batch * count }, () => (rng.next() < 0.5 ? 1 : 0));
  const values = Array.from({ length: batch * count }, () => (rng.next() < 0.5 ? 1 : -1));
  return tf.tidy(() => {
    const rolled = batch > 1 ? tf.concat([tf.slice(y, [1, 0], [-1, -1]), tf.slice(y, [0, 0], [1, -1])], 0) : y;
    const r = tf.tensor2d(replace, [batch, count]);
    return tf.add(tf.mul(rolled, tf.sub(1, r)), tf.mul(tf.tensor2d(values, [batch, count]), r)) as tf.Tensor2D;
  });
}

/**
 * λ_a Σ_a BCE(guide(x), y'_a) per image (batch mean) for images decoded from z ~ N(0, I) with
 * targets y' — what a sweep does at test time. Differentiable in the decoder; the guide is frozen.
 * `observed` is the one-shot model's decoder input (it decodes with the observation).
 */
export function attributeGuidanceLoss(model: Vae, guide: AttributeGuide, y: tf.Tensor2D, observed: { x: tf.Tensor4D; mask: tf.Tensor4D } | null, seed: number): tf.Scalar {
  return tf.tidy(() => {
    const target = guidanceTargets(y, seed);
    const z = tf.randomNormal([y.shape[0], model.config.latentDim], 0, 1, 'float32', subSeed(seed, 'guidance-z')) as tf.Tensor2D;
    const x = model.decode(z, target, observed);
    // Columns picked by a one-hot matrix: gather's gradient (UnsortedSegmentSum) has no wasm kernel.
    const all = guide.classifier.model.apply(x) as tf.Tensor2D;
    const pick = tf.oneHot(tf.tensor1d(guide.columns, 'int32'), all.shape[1]).transpose().toFloat();
    const logits = tf.matMul(all, pick);
    const labels = tf.div(tf.add(target, 1), 2);
    // sigmoid cross-entropy, summed over attributes, mean over images
    const bce = tf.add(tf.sub(tf.relu(logits), tf.mul(logits, labels)), tf.log1p(tf.exp(tf.neg(tf.abs(logits)))));
    return tf.mul(tf.mean(tf.sum(bce, 1)), model.config.attributeGuidance) as tf.Scalar;
  });
}
