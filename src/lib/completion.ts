import * as tf from '@tensorflow/tfjs';
import { reparameterise, type Vae } from './models/vae';
import { subSeed, tfSeed } from './rng';
import { CELEBA_ATTRIBUTES } from './data/attributes';
import { completionMethod } from './models/config';

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
 * What the encoder of a Gibbs step sees:
 * - `estimate` (the paper's chain, the default): the current estimate x'_t, observed pixels plus
 *   the last fill (with the mask channel for models that have one), z_t ~ q(z | x'_t);
 * - `observed`: only m ⊙ x every step, so each step is an independent draw from one posterior
 *   (an ablation: with z = μ it makes every step the same).
 */
export type EncoderInput = 'estimate' | 'observed';

/**
 * One encode–decode pass from the current estimate x'_t. The one-shot model's decoder also
 * sees x' and m.
 */
export function reconstructOnce(
  model: Vae,
  current: tf.Tensor4D,
  obs: Observation,
  y: tf.Tensor2D | null,
  latent: LatentMode,
  seed: number,
  encoderInput: EncoderInput = 'estimate',
  fromPrior: tf.Tensor2D | null = null,
): { xHat: tf.Tensor4D; mu: tf.Tensor2D; logVar: tf.Tensor2D } {
  const c = model.config;
  const { mu, logVar } = model.encode(encoderInput === 'estimate' ? current : obs.x, c.trainInput === 'masked' ? obs.mask : null, y);
  let z = latent === 'mean' ? mu : reparameterise(mu, logVar, seed);
  // Training only: images marked in fromPrior [B, 1] decode a z ~ N(0, I) instead (see priorMixing).
  if (fromPrior) z = tf.add(tf.mul(z, tf.sub(1, fromPrior)), tf.mul(tf.randomNormal(z.shape, 0, 1, 'float32', tfSeed(seed + 1)), fromPrior)) as tf.Tensor2D;
  const xHat = model.decode(z, y, c.decoderSeesObserved ? obs : null);
  return { xHat, mu, logVar };
}

/** x'_{t+1} = m ⊙ x'_t + (1 − m) ⊙ x_t: observed pixels are copied, never generated. */
export function fillHole(obs: Observation, generated: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => tf.add(obs.x, tf.mul(tf.sub(1, obs.mask), generated)) as tf.Tensor4D);
}

export interface CompletionOptions {
  /**
   * `gibbs`: iterative variational Gibbs sampling (Rezende et al. 2014); `oneshot`: one pass.
   * Default: the model's own (its config knows: completionMethod); `gibbs` on a one-shot model
   * iterates it, as the chain figures do.
   */
  method?: 'gibbs' | 'oneshot';
  steps: number;
  latent: LatentMode;
  seed: number;
  /** What each Gibbs step encodes (default `estimate`, the paper's chain). */
  encoderInput?: EncoderInput;
  /** Keep every iterate (for figures). */
  trajectory?: boolean;
  /** Called with each iterate x'_t (t = 1..T) before the next step, e.g. to measure the chain. */
  onStep?: (t: number, iterate: tf.Tensor4D) => void;
}

export const DEFAULT_COMPLETION: Required<Pick<CompletionOptions, 'steps' | 'latent' | 'seed'>> = { steps: 10, latent: 'sample', seed: 0 };

/**
 * Complete the hole of x (only m ⊙ x is read). Returns the completion (observed pixels equal the
 * input's) and, if asked, the iterates x'_1..x'_T. The hole starts at 0 (as in training).
 */
export function complete(model: Vae, x: tf.Tensor4D, mask: tf.Tensor4D, y: tf.Tensor2D | null, options: CompletionOptions): { completed: tf.Tensor4D; iterates: tf.Tensor4D[] } {
  const method = options.method ?? completionMethod(model.config);
  const steps = method === 'oneshot' ? 1 : options.steps;
  if (!Number.isInteger(steps) || steps < 1) throw new Error(`completion steps ${options.steps} must be a positive integer`);
  const obs = observe(x, mask);
  const iterates: tf.Tensor4D[] = [];
  let current = obs.x;
  for (let t = 0; t < steps; t++) {
    const next = tf.tidy(() => {
      const { xHat } = reconstructOnce(model, current, obs, y, options.latent, subSeed(options.seed, `gibbs-${t}`), options.encoderInput);
      return fillHole(obs, xHat);
    });
    if (options.trajectory) iterates.push(tf.keep(next.clone()));
    options.onStep?.(t + 1, next);
    if (current !== obs.x) current.dispose();
    current = next;
  }
  if (current === obs.x) current = obs.x.clone();
  obs.x.dispose();
  return { completed: current, iterates };
}

/** K independent completions of each input (diversity), seeds derived from options.seed. */
export function completeSamples(model: Vae, x: tf.Tensor4D, mask: tf.Tensor4D, y: tf.Tensor2D | null, options: CompletionOptions, samples: number): tf.Tensor4D[] {
  return Array.from({ length: samples }, (_, k) => sampleCompletion(model, x, mask, y, options, k));
}

/** At most this many images (faces × samples) go through one batched chain. */
const SPREAD_BATCH = 256;

/**
 * K completions of each input, drawn in batches (the input tiled, each copy its own z ~ q and
 * chain): `onChunk` receives [samples × faces] completions, sample-major, and disposes nothing.
 * Batching is what makes K = 16 completions of a face cost about one batched chain on a CPU.
 */
export function forEachSpreadChunk(model: Vae, x: tf.Tensor4D, mask: tf.Tensor4D, y: tf.Tensor2D | null, options: CompletionOptions, samples: number, onChunk: (completions: tf.Tensor4D, count: number) => void): void {
  const faces = x.shape[0];
  const per = Math.max(1, Math.floor(SPREAD_BATCH / faces));
  for (let k0 = 0; k0 < samples; k0 += per) {
    const count = Math.min(per, samples - k0);
    const tiled = tf.tidy(() => [tf.tile(x, [count, 1, 1, 1]), tf.tile(mask, [count, 1, 1, 1]), ...(y ? [tf.tile(y, [count, 1])] : [])]) as tf.Tensor[];
    const c = complete(model, tiled[0] as tf.Tensor4D, tiled[1] as tf.Tensor4D, (tiled[2] as tf.Tensor2D | undefined) ?? null, { ...options, trajectory: false, onStep: undefined, seed: subSeed(options.seed, `spread-${k0}`) }).completed;
    tf.dispose(tiled);
    try {
      onChunk(c, count);
    } finally {
      c.dispose();
    }
  }
}

/**
 * The per-pixel mean and standard deviation of K completions of the same input: where the
 * completions disagree the fill is least determined by what is observed. Welford's running
 * moments keep memory at a few images per face whatever K; observed pixels, copied in every
 * completion, have std 0.
 */
export function completionSpread(model: Vae, x: tf.Tensor4D, mask: tf.Tensor4D, y: tf.Tensor2D | null, options: CompletionOptions, samples: number): { mean: tf.Tensor4D; std: tf.Tensor4D } {
  if (!Number.isInteger(samples) || samples < 2) throw new Error(`completionSpread: ${samples} samples; expected an integer ≥ 2 (a spread needs two)`);
  const faces = x.shape[0];
  let mean = tf.zerosLike(x) as tf.Tensor4D;
  let m2 = tf.zerosLike(x) as tf.Tensor4D;
  let seen = 0;
  forEachSpreadChunk(model, x, mask, y, options, samples, (chunk, count) => {
    for (let j = 0; j < count; j++) {
      const [nextMean, nextM2] = tf.tidy(() => {
        const c = tf.slice(chunk, [j * faces, 0, 0, 0], [faces, -1, -1, -1]);
        const delta = tf.sub(c, mean);
        const m = tf.add(mean, tf.div(delta, seen + 1));
        return [m, tf.add(m2, tf.mul(delta, tf.sub(c, m)))] as tf.Tensor4D[];
      });
      tf.dispose([mean, m2]);
      [mean, m2] = [nextMean, nextM2];
      seen++;
    }
  });
  const std = tf.tidy(() => tf.sqrt(tf.div(m2, samples - 1)) as tf.Tensor4D);
  m2.dispose();
  return { mean, std };
}

/** Sample k of completeSamples alone (its own seed; onStep follows the first sample's chain only), for writing samples as they are made. */
export function sampleCompletion(model: Vae, x: tf.Tensor4D, mask: tf.Tensor4D, y: tf.Tensor2D | null, options: CompletionOptions, k: number): tf.Tensor4D {
  return complete(model, x, mask, y, { ...options, trajectory: false, onStep: k === 0 ? options.onStep : undefined, seed: subSeed(options.seed, `sample-${k}`) }).completed;
}

/** The strength of a forced attribute when none is given: 1, the labels the model was trained on. */
export const DEFAULT_ATTRIBUTE_STRENGTH = 1;

/** A strength must be a finite number > 0; a clear one-line error names the value otherwise. */
export function checkAttributeStrength(strength: number, what = 'attribute strength'): number {
  if (!(Number.isFinite(strength) && strength > 0)) throw new Error(`${what} ${strength}: expected a number > 0 (1: the training labels; above 1 pushes the forced attribute further)`);
  return strength;
}

/**
 * y with some attributes forced (value 1 = on, 0 = off), the rest kept: e.g. Smiling=1 for every
 * face. `names` are the model's attribute columns, in y's order. `strength` s places a forced
 * value at 0.5 + s·(v − 0.5): s = 1 gives the 0/1 labels of training (the paper); s > 1 goes past
 * them, as a guidance scale does (more of the attribute where the observed pixels hold it back,
 * at the cost of artefacts the decoder never learned: the sweeps' grids show them).
 */
export function forceAttributes(y: tf.Tensor2D, names: readonly string[], forced: Record<string, number>, strength: number = DEFAULT_ATTRIBUTE_STRENGTH): tf.Tensor2D {
  checkAttributeStrength(strength);
  return tf.tidy(() => {
    const keep = names.map((n) => (n in forced ? 0 : 1));
    const value = names.map((n) => (n in forced ? 0.5 + strength * (forced[n] - 0.5) : 0));
    return tf.add(tf.mul(y, tf.tensor1d(keep)), tf.tensor1d(value)) as tf.Tensor2D;
  });
}

/**
 * `Smiling=1,Male=-1` → { Smiling: 1, Male: 0 } (CelebA's ±1 labels, stored as 1/0). Whether the
 * model is conditioned on them is checked where the model is known.
 */
export function parseAttributeSettings(text: string, flag = '--set'): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of text.split(',').filter(Boolean)) {
    const [name, value] = part.split('=');
    if (!name || (value !== '1' && value !== '-1')) throw new Error(`${flag} "${part}": expected ATTRIBUTE=1 or ATTRIBUTE=-1`);
    if (!(CELEBA_ATTRIBUTES as readonly string[]).includes(name)) throw new Error(`${flag} ${name}: not a CelebA attribute; known: ${CELEBA_ATTRIBUTES.join(', ')}`);
    if (name in out) throw new Error(`${flag} sets ${name} twice; give each attribute once`);
    out[name] = value === '1' ? 1 : 0;
  }
  return out;
}
