import * as tf from '@tensorflow/tfjs';
import { FusedAdamOptimizer } from '../backend/selectBackend';
import type { NamedTensor } from '../models/checkpoint';
import { tfSeed } from '../rng';

/**
 * The adversarial term (ModelConfig.adversarial = λ_adv; VAE-GAN, Larsen et al. 2016): a patch
 * discriminator D (PatchGAN, Isola et al. 2017) judges the completed image — the decoder's fill in
 * the hole, the observed pixels around it — with the mask as a fourth channel (as DeepFill v2's
 * SN-PatchGAN), one logit per 8×8-pixel cell. Hinge loss (Lim & Ye 2017; Miyato et al. 2018), each
 * cell weighted by its share of hole pixels (cells without hole pixels are real in both images);
 * spectral normalisation of D's three hidden layers (one power iteration a step) keeps its features
 * 1-Lipschitz. The output layer is left free: with all four normalised, D alone learning to tell the
 * perceptual model's fills from real faces reached a logit gap of 0.2–0.35 after 140 steps (hinge
 * 0.9–1.6), with the hidden three 0.4 (hinge 0.9–1.1), with none 1.2 (hinge 0.1–0.4)
 * (results/logs/sharp64/discriminator-probe.log): in a 448-step fine-tune a fully normalised D
 * stayed at chance (hinge ≈ 1.9) and gave the VAE no direction.
 *   D:  Σ_p w_p [relu(1 − D_p(x, m)) + relu(1 + D_p(x̃, m))] / Σ_p w_p
 *   VAE: λ_adv · D_px · (−Σ_p w_p D_p(x̃, m) / Σ_p w_p),   D_px = pixels × 3, like a perceptual layer.
 * The VAE's step differentiates its loss only with respect to the VAE's weights and D's step only
 * with respect to D's, on the completion detached from the VAE: neither network's gradient
 * reaches the other's weights (tested).
 */
export interface Discriminator {
  /** Conv kernels and biases, in layer order (checkpointed as discriminator/i). */
  weights: tf.Variable[];
  /** Power-iteration vectors of the spectral norms, one per layer (checkpointed as discriminator/u_i). */
  u: tf.Variable[];
  optimizer: FusedAdamOptimizer;
  /** Patch logits [B, S/8, S/8, 1] of images [B, S, S, 3] with masks [B, S, S, 1] (1 = observed). */
  logits(x: tf.Tensor4D, mask: tf.Tensor4D): tf.Tensor4D;
  /** One power iteration of every layer's spectral norm (outside any gradient). */
  updateSpectralNorms(): void;
  dispose(): void;
}

/**
 * D's widths: three 4×4/2 convs (leaky ReLU 0.2) and a 3×3 conv to one logit per cell. The
 * encoder's widths, not pix2pix's 64/128/256: D runs three times a step (the VAE's term, real, fake),
 * and at 64/128/256 it tripled a 64×64 step on 2 cores (0.95 → 2.75 s).
 */
const WIDTHS = [32, 64, 128];
/** D's Adam: β1 = 0.5 as in DCGAN and SN-GAN (momentum chases a moving target less); the learning rate is the run's. */
const D_BETA1 = 0.5;
const D_BETA2 = 0.999;

/** The checkpoint names of D's tensors; D's Adam state is stored in the optimizer file under this prefix. */
export const DISCRIMINATOR_PREFIX = 'discriminator';

interface Layer {
  kernel: tf.Variable;
  bias: tf.Variable;
  u: tf.Variable;
  stride: number;
  leaky: boolean;
}

/** Variable names must be unique in a process (two runs may live side by side); checkpoints name D's tensors by position. */
let instances = 0;

export function buildDiscriminator(learningRate: number, seed: number): Discriminator {
  const id = `${DISCRIMINATOR_PREFIX}${instances++}`;
  let counter = 0;
  const next = () => tfSeed(seed * 1000 + 500 + counter++);
  const spec = [...WIDTHS.map((w, i) => ({ inC: i === 0 ? 4 : WIDTHS[i - 1], outC: w, k: 4, stride: 2, leaky: true })), { inC: WIDTHS[WIDTHS.length - 1], outC: 1, k: 3, stride: 1, leaky: false }];
  const layers: Layer[] = spec.map((s, i) => ({
    kernel: tf.variable(tf.initializers.glorotUniform({ seed: next() }).apply([s.k, s.k, s.inC, s.outC]) as tf.Tensor4D, true, `${id}/conv${i}/kernel`),
    bias: tf.variable(tf.zeros([s.outC]), true, `${id}/conv${i}/bias`),
    u: tf.variable(tf.tidy(() => unit(tf.randomNormal([s.outC, 1], 0, 1, 'float32', next()) as tf.Tensor2D)), false, `${id}/conv${i}/u`),
    stride: s.stride,
    leaky: s.leaky,
  }));
  const optimizer = new FusedAdamOptimizer(learningRate, D_BETA1, D_BETA2);
  return {
    weights: layers.flatMap((l) => [l.kernel, l.bias]),
    u: layers.map((l) => l.u),
    optimizer,
    logits(x, mask) {
      return tf.tidy(() => {
        let h: tf.Tensor4D = tf.concat([x, mask], 3);
        for (const l of layers) {
          h = tf.add(tf.conv2d(h, l.leaky ? spectrallyNormalised(l) : (l.kernel as tf.Tensor4D), l.stride, 'same'), l.bias) as tf.Tensor4D;
          if (l.leaky) h = tf.leakyRelu(h, 0.2);
        }
        return h;
      });
    },
    updateSpectralNorms() {
      for (const l of layers) {
        tf.tidy(() => {
          const w = matrix(l.kernel);
          const v = unit(tf.matMul(w, l.u));
          l.u.assign(unit(tf.matMul(w, v, true, false)));
        });
      }
    },
    dispose() {
      for (const l of layers) tf.dispose([l.kernel, l.bias, l.u]);
      optimizer.dispose();
    },
  };
}

/** The kernel as a [k·k·in, out] matrix. */
function matrix(kernel: tf.Variable): tf.Tensor2D {
  const [kh, kw, cin, cout] = kernel.shape as number[];
  return tf.reshape(kernel, [kh * kw * cin, cout]);
}

function unit(v: tf.Tensor2D): tf.Tensor2D {
  return tf.div(v, tf.add(tf.norm(v), 1e-12));
}

/** W / σ(W), σ ≈ vᵀWu with u from the last power iteration (u is not differentiated, as in Miyato et al.). */
function spectrallyNormalised(l: Layer): tf.Tensor4D {
  // With v = Wu / ‖Wu‖, vᵀWu = ‖Wu‖.
  return tf.div(l.kernel, tf.norm(tf.matMul(matrix(l.kernel), l.u))) as tf.Tensor4D;
}

/** Each logit cell's share of hole pixels [B, S/8, S/8, 1] (all 1 for a model trained on complete images: mask all 1s → no hole, so the whole image is judged). */
export function patchWeights(mask: tf.Tensor4D, complete: boolean): tf.Tensor4D {
  return tf.tidy(() => (complete ? tf.onesLike(tf.avgPool(mask, 8, 8, 'valid')) : tf.avgPool(tf.sub(1, mask) as tf.Tensor4D, 8, 8, 'valid')) as tf.Tensor4D);
}

function weightedMean(values: tf.Tensor4D, weights: tf.Tensor4D): tf.Scalar {
  return tf.div(tf.sum(tf.mul(values, weights)), tf.maximum(tf.sum(weights), 1e-6)) as tf.Scalar;
}

/** The VAE's adversarial term (before λ_adv · D_px): −weighted mean logit of the completions. */
export function generatorLoss(d: Discriminator, completed: tf.Tensor4D, mask: tf.Tensor4D, weights: tf.Tensor4D): tf.Scalar {
  return tf.tidy(() => tf.neg(weightedMean(d.logits(completed, mask), weights)) as tf.Scalar);
}

/** D's hinge loss on real images and (detached) completions with the same masks. */
export function discriminatorLoss(d: Discriminator, real: tf.Tensor4D, completed: tf.Tensor4D, mask: tf.Tensor4D, weights: tf.Tensor4D): tf.Scalar {
  return tf.tidy(() => {
    const onReal = weightedMean(tf.relu(tf.sub(1, d.logits(real, mask))) as tf.Tensor4D, weights);
    const onFake = weightedMean(tf.relu(tf.add(1, d.logits(completed, mask))) as tf.Tensor4D, weights);
    return tf.add(onReal, onFake) as tf.Scalar;
  });
}

/**
 * One step of D: a power iteration, then Adam on its hinge loss. Returns the loss (a scalar the
 * caller reads) and D's gradients, applied only when the caller says (a non-finite loss must
 * leave D untouched).
 */
export function discriminatorGradients(d: Discriminator, real: tf.Tensor4D, completed: tf.Tensor4D, mask: tf.Tensor4D, weights: tf.Tensor4D): { loss: tf.Scalar; grads: tf.NamedTensorMap } {
  d.updateSpectralNorms();
  // `completed` was made outside this tape: D's loss reaches only D's weights.
  const { value, grads } = tf.variableGrads(() => discriminatorLoss(d, real, completed, mask, weights), d.weights);
  return { loss: value, grads };
}

/** D's tensors for a checkpoint: weights and u vectors (the weights file), Adam state (the optimizer file, prefixed). */
export async function discriminatorState(d: Discriminator): Promise<{ weights: NamedTensor[]; optimizer: NamedTensor[] }> {
  const weights = [...d.weights.map((w, i) => ({ name: `${DISCRIMINATOR_PREFIX}/${i}`, tensor: w as tf.Tensor })), ...d.u.map((u, i) => ({ name: `${DISCRIMINATOR_PREFIX}/u${i}`, tensor: u as tf.Tensor }))];
  const optimizer = (await d.optimizer.getExactState()).map((s) => ({ name: `${DISCRIMINATOR_PREFIX}:${s.name}`, tensor: s.tensor }));
  return { weights, optimizer };
}

/** Restore discriminatorState's tensors (from a checkpoint's weights map and optimizer list); false when the checkpoint has no D. */
export async function restoreDiscriminator(d: Discriminator, weights: tf.NamedTensorMap, optimizer: NamedTensor[] | null, source: string): Promise<boolean> {
  if (!(`${DISCRIMINATOR_PREFIX}/0` in weights)) return false;
  const set = (v: tf.Variable, name: string) => {
    const t = weights[name];
    if (!t || t.shape.join() !== v.shape.join()) throw new Error(`${source}: discriminator tensor ${name} has shape ${t?.shape ?? 'missing'}, expected ${v.shape}`);
    v.assign(t);
  };
  d.weights.forEach((w, i) => set(w, `${DISCRIMINATOR_PREFIX}/${i}`));
  d.u.forEach((u, i) => set(u, `${DISCRIMINATOR_PREFIX}/u${i}`));
  const prefix = `${DISCRIMINATOR_PREFIX}:`;
  const state = (optimizer ?? []).filter((s) => s.name.startsWith(prefix)).map((s) => ({ name: s.name.slice(prefix.length), tensor: s.tensor }));
  if (optimizer && state.length) await d.optimizer.setExactState(state);
  return true;
}

/** The optimizer entries that are not D's (the VAE's Adam state). */
export function withoutDiscriminatorState(optimizer: NamedTensor[]): NamedTensor[] {
  return optimizer.filter((s) => !s.name.startsWith(`${DISCRIMINATOR_PREFIX}:`));
}
