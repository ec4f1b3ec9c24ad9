import * as tf from '@tensorflow/tfjs';
import { reparameterise, type Vae } from './models/vae';
import { subSeed } from './rng';

/** z = μ (deterministic) or z ~ q(z | ·) (a sample, for diverse completions). */
export type LatentMode = 'mean' | 'sample';

export interface Observation {
  /** x' = m ⊙ x: the observed pixels, the hole zero. */
  x: tf.Tensor4D;
  /** m = 1 on observed pixels. */
  mask: tf.Tensor4D;
}

export function observe(x: tf.Tensor4D, mask: tf.Tensor4D): Observation {
  return { x: tf.mul(x, mask) as tf.Tensor4D, mask };
}

/**
 * One encode–decode pass from the current estimate x'_t:
 * - complete-image models encode the whole estimate, q(z | x'_t);
 * - partial-observation models encode only the observed pixels and the mask, q(z | m ⊙ x, m), so
 *   each Gibbs step is a fresh draw from the same posterior;
 * - the one-shot model encodes the estimate with the mask and its decoder also sees x' and m.
 */
export function reconstructOnce(
  model: Vae,
  current: tf.Tensor4D,
  obs: Observation,
  y: tf.Tensor2D | null,
  latent: LatentMode,
  seed: number,
): { xHat: tf.Tensor4D; mu: tf.Tensor2D; logVar: tf.Tensor2D } {
  const c = model.config;
  const encoderInput = c.trainInput === 'complete' || c.decoderSeesObserved ? current : obs.x;
  const { mu, logVar } = model.encode(encoderInput, c.trainInput === 'masked' ? obs.mask : null, y);
  const z = latent === 'mean' ? mu : reparameterise(mu, logVar, seed);
  const xHat = model.decode(z, y, c.decoderSeesObserved ? obs : null);
  return { xHat, mu, logVar };
}

/** x'_{t+1} = m ⊙ x'_t + (1 − m) ⊙ x_t: observed pixels are copied, never generated. */
export function fillHole(obs: Observation, generated: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => tf.add(obs.x, tf.mul(tf.sub(1, obs.mask), generated)) as tf.Tensor4D);
}

export interface CompletionOptions {
  /** `gibbs`: iterative variational Gibbs sampling (Rezende et al. 2014); `oneshot`: one pass. */
  method: 'gibbs' | 'oneshot';
  steps: number;
  latent: LatentMode;
  seed: number;
  /** Keep every iterate (for figures). */
  trajectory?: boolean;
}

export const DEFAULT_COMPLETION: CompletionOptions = { method: 'gibbs', steps: 10, latent: 'sample', seed: 0 };

/**
 * Complete the hole of x (only m ⊙ x is read). Returns the completion (observed pixels equal the
 * input's) and, if asked, the iterates x'_1..x'_T. The hole starts at 0 (as in training).
 */
export function complete(model: Vae, x: tf.Tensor4D, mask: tf.Tensor4D, y: tf.Tensor2D | null, options: CompletionOptions): { completed: tf.Tensor4D; iterates: tf.Tensor4D[] } {
  const steps = options.method === 'oneshot' ? 1 : options.steps;
  if (!Number.isInteger(steps) || steps < 1) throw new Error(`completion steps ${options.steps} must be a positive integer`);
  const obs = observe(x, mask);
  const iterates: tf.Tensor4D[] = [];
  let current = obs.x;
  for (let t = 0; t < steps; t++) {
    const next = tf.tidy(() => {
      const { xHat } = reconstructOnce(model, current, obs, y, options.latent, subSeed(options.seed, `gibbs-${t}`));
      return fillHole(obs, xHat);
    });
    if (options.trajectory) iterates.push(tf.keep(next.clone()));
    if (current !== obs.x) current.dispose();
    current = next;
  }
  if (current === obs.x) current = obs.x.clone();
  obs.x.dispose();
  return { completed: current, iterates };
}

/** K independent completions of each input (diversity), seeds derived from options.seed. */
export function completeSamples(model: Vae, x: tf.Tensor4D, mask: tf.Tensor4D, y: tf.Tensor2D | null, options: CompletionOptions, samples: number): tf.Tensor4D[] {
  return Array.from({ length: samples }, (_, k) => complete(model, x, mask, y, { ...options, trajectory: false, seed: subSeed(options.seed, `sample-${k}`) }).completed);
}
