import * as tf from '@tensorflow/tfjs';
import { complete, type CompletionOptions } from '../completion';
import type { Vae } from '../models/vae';
import { maskedL1 } from '../metrics/ssim';

/**
 * Records the masked L1 of every Gibbs iterate x'_t against the ground truth, over any number
 * of batches: pass `onStep` to `complete`, then `means(images)` reads the per-step means once
 * (one asynchronous read, no stall per step).
 */
export function chainRecorder() {
  const sums: tf.Scalar[][] = [];
  let truth: { x: tf.Tensor4D; mask: tf.Tensor4D } | null = null;
  return {
    /** The ground truth and mask of the batch about to be completed. */
    batch(x: tf.Tensor4D, mask: tf.Tensor4D) {
      truth = { x, mask };
    },
    onStep(t: number, iterate: tf.Tensor4D) {
      const { x, mask } = truth!;
      (sums[t - 1] ??= []).push(tf.tidy(() => tf.sum(maskedL1(iterate, x, mask)) as tf.Scalar));
    },
    /** Mean masked L1 after each step t = 1..T over `images` images; frees what it held. */
    async means(images: number): Promise<number[]> {
      if (sums.length === 0 || images === 0) return [];
      const m = tf.tidy(() => tf.div(tf.stack(sums.map((s) => tf.addN(s))), images));
      tf.dispose(sums.flat());
      sums.length = 0;
      const values = Array.from(await m.data());
      m.dispose();
      return values;
    },
  };
}

/** The chain's masked L1 after each of `steps` Gibbs steps on one batch (z = μ or sampled). */
export async function gibbsChainL1(model: Vae, x: tf.Tensor4D, mask: tf.Tensor4D, y: tf.Tensor2D | null, options: Omit<CompletionOptions, 'method' | 'onStep' | 'trajectory'>): Promise<number[]> {
  const recorder = chainRecorder();
  recorder.batch(x, mask);
  complete(model, x, mask, y, { ...options, method: 'gibbs', onStep: recorder.onStep }).completed.dispose();
  return recorder.means(x.shape[0]);
}
