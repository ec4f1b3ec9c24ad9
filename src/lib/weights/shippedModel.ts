import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { loadCheckpoint } from '../models/checkpoint';
import { writeTensors } from '../io/tensorFiles';
import { writeFileAtomic, writeJsonAtomic } from '../io/atomicWrite';
import { buildVae, type Vae } from '../models/vae';
import { setModelWeights } from '../models/checkpoint';
import { checkAttributeStrength, complete, DEFAULT_ATTRIBUTE_STRENGTH } from '../completion';
import { makeMaskBatch, parseMaskSpec } from '../masks';

/**
 * Trained models that ship with the project (`models/NAME/`): inference-only checkpoint folders —
 * config.json (the training checkpoint's config), weights.{bin,json} in float16 (half the bytes;
 * read back as float32), no Adam state — so every command that takes a checkpoint takes them, and
 * `--model NAME` finds them by name. card.json says what the model is, how it was trained (its log)
 * and what it scores; reference.bin holds the float32 checkpoint's completions of generated inputs,
 * so a test can check the float16 weights against the weights they came from.
 */
export const MODELS_DIR = path.resolve(__dirname, '..', '..', '..', 'models');

export interface ModelCard {
  name: string;
  /** The paper's row (or the row it extends). */
  row: string;
  description: string;
  /** The run it was exported from, its step and epoch, and the committed training log. */
  source: { checkpoint: string; step: number; epoch: number; log: string };
  data: string;
  /** Scores of the shipped (float16) weights, on held-out faces as `evaluation` says. */
  metrics: Record<string, number>;
  evaluation: string;
  /** The generated inputs of reference.bin: seed, count, mask, steps (z = μ). */
  reference: { seed: number; count: number; mask: string; steps: number };
  /**
   * How far this model's forced attributes go when no strength is given (forceAttributes), chosen
   * from the control table in `log`: the forced completions it measured against real pairs and real
   * fills, per hole and strength, with what each costs.
   */
  forcedAttributes?: { strength: number; why: string; log: string };
}

/** `--model NAME` → models/NAME, with the names there when it is not one. */
export function shippedModelDir(name: string): string {
  const dir = path.join(MODELS_DIR, name);
  if (!fs.existsSync(path.join(dir, 'config.json'))) {
    const known = fs.existsSync(MODELS_DIR) ? fs.readdirSync(MODELS_DIR).filter((n) => fs.existsSync(path.join(MODELS_DIR, n, 'config.json'))) : [];
    throw new Error(`--model ${name}: no shipped model of that name in ${MODELS_DIR}; known: ${known.join(', ') || 'none'}`);
  }
  return dir;
}

/** The reference inputs: seeded uniform-noise "images" (no faces in the repository) and the model's mask. */
export function referenceInputs(model: Vae, ref: ModelCard['reference']): { x: tf.Tensor4D; mask: tf.Tensor4D; y: tf.Tensor2D | null } {
  const S = model.config.imageSize;
  const x = tf.randomUniform([ref.count, S, S, 3], 0, 1, 'float32', ref.seed) as tf.Tensor4D;
  const mask = makeMaskBatch(parseMaskSpec(ref.mask), ref.count, S, 0);
  const A = model.config.attributes.length;
  const y = A ? (tf.tidy(() => tf.cast(tf.greater(tf.randomUniform([ref.count, A], 0, 1, 'float32', ref.seed + 1), 0.5), 'float32')) as tf.Tensor2D) : null;
  return { x, mask, y };
}

/** The model's completion of the reference inputs (z = μ, so deterministic). */
export function referenceCompletion(model: Vae, ref: ModelCard['reference']): tf.Tensor4D {
  const { x, mask, y } = referenceInputs(model, ref);
  const { completed } = complete(model, x, mask, y, { steps: ref.steps, latent: 'mean', seed: ref.seed });
  tf.dispose([x, mask, ...(y ? [y] : [])]);
  return completed;
}

/** Write models/NAME from a trained run: float16 weights, its config, the card and the float32 reference. */
export async function exportShippedModel(checkpointDir: string, outDir: string, card: Omit<ModelCard, 'source'> & { log: string }): Promise<ModelCard> {
  const ckpt = loadCheckpoint(checkpointDir, { optimizer: false });
  const model = buildVae(ckpt.meta.model, ckpt.meta.train.seed);
  try {
    setModelWeights(model, ckpt.weights, ckpt.dir);
    fs.mkdirSync(outDir, { recursive: true });
    const weights = [
      ...model.encoder.getWeights().map((tensor, i) => ({ name: `encoder/${i}`, tensor })),
      ...model.decoder.getWeights().map((tensor, i) => ({ name: `decoder/${i}`, tensor })),
    ];
    await writeTensors(path.join(outDir, 'weights'), weights, { float16: true });
    // A fine-tune's parent as a path relative to the project (the training-time path is absolute): its
    // weights' digest, which names the model's settings, is then read from the same files on every clone.
    const parent = ckpt.meta.train.initFrom;
    const meta = parent && path.isAbsolute(parent.checkpoint) ? { ...ckpt.meta, train: { ...ckpt.meta.train, initFrom: { ...parent, checkpoint: path.relative(process.cwd(), parent.checkpoint) } } } : ckpt.meta;
    writeJsonAtomic(path.join(outDir, 'config.json'), meta);
    const reference = referenceCompletion(model, card.reference);
    writeFileAtomic(path.join(outDir, 'reference.bin'), new Uint8Array(((await reference.data()) as Float32Array).buffer));
    reference.dispose();
    const { log, ...rest } = card;
    const full: ModelCard = { ...rest, source: { checkpoint: path.relative(process.cwd(), ckpt.dir), step: ckpt.meta.step, epoch: ckpt.meta.epoch, log } };
    writeJsonAtomic(path.join(outDir, 'card.json'), full);
    return full;
  } finally {
    tf.dispose(Object.values(ckpt.weights));
    model.dispose();
  }
}

export function readCard(dir: string): ModelCard {
  return JSON.parse(fs.readFileSync(path.join(dir, 'card.json'), 'utf8')) as ModelCard;
}

/**
 * The strength of a model's forced attributes where none is given: its card's
 * forcedAttributes.strength where the folder is a shipped model that has one, else 1 (the
 * training labels: a run folder has no card). One rule for `vii complete --set`, `vii sweep`,
 * specs and notebooks; a given --strength (or spec completion.attributeStrength) overrides it.
 */
export function modelAttributeStrength(dir: string): number {
  const file = path.join(dir, 'card.json');
  if (!fs.existsSync(file)) return DEFAULT_ATTRIBUTE_STRENGTH;
  let card: ModelCard;
  try {
    card = readCard(dir);
  } catch (e) {
    throw new Error(`${file}: not a model card (${(e as Error).message})`);
  }
  const s = card.forcedAttributes?.strength;
  return s === undefined ? DEFAULT_ATTRIBUTE_STRENGTH : checkAttributeStrength(s, `${file}: forcedAttributes.strength`);
}
