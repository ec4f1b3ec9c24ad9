import * as tf from '@tensorflow/tfjs';
import { gatherBatch } from '../data/faceDataset';
import { generate, samplePrior } from '../generation';
import { epochMeans } from '../training/history';
import type { TrainingRun } from '../training/trainer';

/**
 * Collapse checks of a trained model: the KL per image of its last epoch (≈ 0 nats: z is
 * ignored) and the spread of its prior samples, the mean absolute pixel difference between
 * pairs of decoded z ~ N(0, I) (≈ 0: every sample is the same face).
 */
export async function collapseChecks(run: TrainingRun, samples = 16, seed = 1): Promise<{ klPerImage: number; priorSpread: number }> {
  const means = epochMeans(run.history);
  const klPerImage = means.length ? means[means.length - 1].kl : NaN;
  const c = run.modelConfig;
  const batch = gatherBatch(run.data, run.data.splits.val.slice(0, samples), run.attributeColumns);
  const n = batch.x.shape[0];
  const z = samplePrior(n, c.latentDim, seed);
  const spread = tf.tidy(() => {
    const images = tf.reshape(generate(run.model, z, batch.y), [n, -1]);
    const diffs = tf.mean(tf.abs(tf.sub(tf.expandDims(images, 0), tf.expandDims(images, 1))), 2); // [n, n], zero diagonal
    return tf.div(tf.sum(diffs), n * (n - 1));
  });
  const priorSpread = (await spread.data())[0];
  tf.dispose([spread, z, batch.x, batch.y]);
  return { klPerImage, priorSpread };
}
