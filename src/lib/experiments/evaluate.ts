import * as tf from '@tensorflow/tfjs';
import { gatherBatch, type FaceDataset, type SplitName } from '../data/faceDataset';
import { makeMaskBatch, type MaskSpec } from '../masks';
import { ssim, psnr, maskedL1 } from '../metrics/ssim';
import { classifierScore } from '../metrics/classifierScore';
import { jointClassProbabilities, predictAttributes, SCORE_ATTRIBUTES, type AttributeClassifier } from '../metrics/attributeClassifier';
import type { PerceptualDistance } from '../metrics/lpips';
import type { InceptionNet } from '../metrics/inceptionNet';
import { subSeed } from '../rng';
import { meanStd, type MeanStd } from '../metrics/meanStd';
import { ProgressBar } from '../progress';
import { readAndDispose } from '../tensorReads';
import { holeSharpness } from '../metrics/sharpness';
import { checkerboardRatio, nyquistFraction } from '../metrics/checkerboard';
import { FeatureSet, type FrechetNet } from '../metrics/frechetNet';
import { generate, samplePrior } from '../generation';
import type { Vae } from '../models/vae';
import { attributeIndices } from '../data/attributes';
import { complete, DEFAULT_COMPLETION } from '../completion';

/** Completes a batch: x [B,S,S,3], mask [B,S,S,1], y [B,40], seed → completion (caller disposes). */
export type Completer = (x: tf.Tensor4D, mask: tf.Tensor4D, y: tf.Tensor2D, seed: number) => tf.Tensor4D | Promise<tf.Tensor4D>;

export interface EvalSettings {
  data: FaceDataset;
  split: SplitName;
  mask: MaskSpec;
  seed: number;
  /** Images evaluated (the first N of the split; all when undefined). */
  limit?: number;
  batchSize: number;
  perceptual: PerceptualDistance;
  /** The real metrics, computed next to the substitutes when their weights are present. */
  real?: { lpips: PerceptualDistance | null; inception: InceptionNet | null };
  /** The attribute classifier of AS and attribute accuracy; null leaves both out (quick comparisons). */
  classifier: AttributeClassifier | null;
  /**
   * Fréchet distances of the completions to the real images of the split, one per network (the
   * substitute always, FID when its weights are present); `reference` holds the real images'
   * features (realFeatureSets).
   */
  frechet?: { net: FrechetNet; reference: FeatureSet }[];
  /** Completions per input for the diversity column, on the first `diversityImages` inputs. */
  diversitySamples: number;
  diversityImages: number;
  onLine?: (line: string) => void;
}

export type Stat = MeanStd;

export interface RowMetrics {
  name: string;
  images: number;
  /** AS and attribute accuracy: null without a classifier. */
  score: Stat | null;
  perceptual: Stat;
  /** Real LPIPS (VGG, v0.1) and Inception score, where their weights were given. */
  lpips: Stat | null;
  inceptionScore: Stat | null;
  ssim: Stat;
  psnr: Stat;
  maskedL1: Stat;
  /** Hole sharpness: the fill's Laplacian energy over the photograph's, per image (1 = as sharp). */
  sharpness: Stat;
  /** Checkerboard: the fills' energy at the stride-2 (Nyquist) frequencies over the photographs' in the same holes (1 = as a photograph). */
  checkerboard: Stat;
  /** Fréchet distance of the completions to the real images, by network name. */
  frechet: Record<string, number>;
  attributeAccuracy: number | null;
  diversity: Stat | null;
}


export function evaluationIndices(s: EvalSettings): number[] {
  const all = s.data.splits[s.split];
  return s.limit ? all.slice(0, s.limit) : all;
}

/**
 * Every metric of one row on the same images and masks (mask i belongs to image i of the split,
 * so every row sees identical holes). Deterministic for a given seed on a given backend.
 */
export async function evaluateRow(name: string, complete: Completer, s: EvalSettings): Promise<RowMetrics> {
  const indices = evaluationIndices(s);
  const size = s.data.preprocess.size;
  const per = { ssim: [] as number[], psnr: [] as number[], l1: [] as number[], pd: [] as number[], lpips: [] as number[], sharp: [] as number[], nyquist: [] as number[], realNyquist: [] as number[] };
  const features = (s.frechet ?? []).map((f) => new FeatureSet(f.net));
  const probs: number[] = [];
  const inceptionProbs: number[] = [];
  let attrHits = 0;
  let attrTotal = 0;
  const pairwise: number[] = [];
  const bar = new ProgressBar(`evaluate ${name}`, indices.length, s.onLine ?? null);
  for (let start = 0; start < indices.length; start += s.batchSize) {
    const idx = indices.slice(start, start + s.batchSize);
    const batch = gatherBatch(s.data, idx);
    const mask = makeMaskBatch(s.mask, idx.length, size, start);
    const out = await complete(batch.x, mask, batch.y, subSeed(s.seed, `eval-${start}`));
    const computed = tf.tidy(() => [
      ssim(out, batch.x),
      psnr(out, batch.x),
      maskedL1(out, batch.x, mask),
      s.perceptual.distance(out, batch.x),
      s.classifier ? jointClassProbabilities(s.classifier, out) : tf.zeros([0]),
      s.classifier ? tf.sum(tf.equal(tf.greater(predictAttributes(s.classifier, out), 0.5), tf.greater(batch.y, 0.5))) : tf.zeros([1]),
      s.real?.lpips ? s.real.lpips.distance(out, batch.x) : tf.zeros([0]),
      s.real?.inception ? s.real.inception.probabilities(out) : tf.zeros([0]),
      holeSharpness(out, batch.x, mask),
      nyquistFraction(out, tf.sub(1, mask) as tf.Tensor4D),
      nyquistFraction(batch.x, tf.sub(1, mask) as tf.Tensor4D),
    ]);
    const [vSsim, vPsnr, vL1, vPd, vProbs, vHits, vLpips, vInception, vSharp, vNyquist, vRealNyquist] = await readAndDispose(computed);
    per.nyquist.push(...vNyquist);
    per.realNyquist.push(...vRealNyquist);
    // Holes without interior or over a flat photograph have no sharpness ratio (NaN).
    per.sharp.push(...Array.from(vSharp).filter(Number.isFinite));
    for (const f of features) await f.add(out);
    per.ssim.push(...vSsim);
    per.psnr.push(...vPsnr);
    per.l1.push(...vL1);
    per.pd.push(...vPd);
    per.lpips.push(...vLpips);
    probs.push(...vProbs);
    inceptionProbs.push(...vInception);
    attrHits += vHits[0];
    attrTotal += batch.y.size;
    const diverse = Math.max(0, Math.min(idx.length, s.diversityImages - start));
    if (s.diversitySamples > 1 && diverse > 0) {
      const dx = batch.x.slice(0, diverse);
      const dm = mask.slice(0, diverse);
      const dy = batch.y.slice(0, diverse);
      const samples: tf.Tensor4D[] = [];
      for (let k = 0; k < s.diversitySamples; k++) samples.push(await complete(dx, dm, dy, subSeed(s.seed, `diversity-${start}-${k}`)));
      const distances: tf.Tensor[] = [];
      for (let a = 0; a < samples.length; a++) for (let b = a + 1; b < samples.length; b++) distances.push(s.perceptual.distance(samples[a], samples[b]));
      for (const d of await readAndDispose(distances)) pairwise.push(...d);
      tf.dispose([dx, dm, dy, ...samples]);
    }
    tf.dispose([batch.x, batch.y, mask, out]);
    bar.update(Math.min(start + s.batchSize, indices.length));
  }
  bar.stop();
  const classes = 2 ** SCORE_ATTRIBUTES.length;
  return {
    name,
    images: indices.length,
    score: s.classifier ? classifierScore(Float32Array.from(probs), classes, 10) : null,
    perceptual: meanStd(per.pd),
    lpips: per.lpips.length ? meanStd(per.lpips) : null,
    inceptionScore: inceptionProbs.length ? classifierScore(Float32Array.from(inceptionProbs), inceptionProbs.length / indices.length, 10) : null,
    ssim: meanStd(per.ssim),
    psnr: meanStd(per.psnr),
    maskedL1: meanStd(per.l1),
    sharpness: per.sharp.length ? meanStd(per.sharp) : { mean: NaN, std: NaN },
    checkerboard: checkerboardRatio(per.nyquist, per.realNyquist),
    frechet: Object.fromEntries(features.map((f, i) => [f.net.name, f.distanceTo(s.frechet![i].reference)])),
    attributeAccuracy: s.classifier ? attrHits / attrTotal : null,
    diversity: pairwise.length ? meanStd(pairwise) : null,
  };
}

/** The real images' features for each Fréchet network, on the images evaluateRow evaluates. */
export async function realFeatureSets(s: EvalSettings, nets: FrechetNet[]): Promise<{ net: FrechetNet; reference: FeatureSet }[]> {
  const sets = nets.map((net) => new FeatureSet(net));
  const indices = evaluationIndices(s);
  const bar = new ProgressBar('features of the real images', indices.length, s.onLine ?? null);
  for (let start = 0; start < indices.length; start += s.batchSize) {
    const batch = gatherBatch(s.data, indices.slice(start, start + s.batchSize));
    for (const set of sets) await set.add(batch.x);
    tf.dispose([batch.x, batch.y]);
    bar.update(Math.min(start + s.batchSize, indices.length));
  }
  bar.stop();
  return nets.map((net, i) => ({ net, reference: sets[i] }));
}

/** Prior samples' quality: their Fréchet distance to the real images (by network) and their checkerboard against the same real faces'. */
export interface GenerationScores {
  frechet: Record<string, number>;
  checkerboard: Stat;
}

/**
 * Generation quality: as many prior samples z ~ N(0, I) as evaluated images (attribute models
 * decode them with those images' attributes): their Fréchet distance to the real images, and
 * their checkerboard over the real images' (whole images). Null for the one-shot models, whose
 * decoder needs observed pixels a prior sample does not have.
 */
export async function generationScores(model: Vae, s: EvalSettings): Promise<GenerationScores | null> {
  if (model.config.decoderSeesObserved) return null;
  const indices = evaluationIndices(s);
  const cols = attributeIndices(s.data.attributeNames, model.config.attributes);
  const sets = (s.frechet ?? []).map((f) => new FeatureSet(f.net));
  const nyquist: number[] = [];
  const realNyquist: number[] = [];
  for (let start = 0; start < indices.length; start += s.batchSize) {
    const batch = gatherBatch(s.data, indices.slice(start, start + s.batchSize), cols);
    const z = samplePrior(batch.x.shape[0], model.config.latentDim, subSeed(s.seed, `prior-${start}`));
    const images = generate(model, z, batch.y);
    for (const set of sets) await set.add(images);
    const [fake, real] = await readAndDispose([nyquistFraction(images), nyquistFraction(batch.x)]);
    nyquist.push(...fake);
    realNyquist.push(...real);
    tf.dispose([batch.x, batch.y, z, images]);
  }
  return { frechet: Object.fromEntries(sets.map((set, i) => [set.net.name, set.distanceTo(s.frechet![i].reference)])), checkerboard: checkerboardRatio(nyquist, realNyquist) };
}

/** A model's Completer for evaluateRow: its own method (Gibbs chain or one pass), sampled z, y from the faces' attributes. */
export function modelCompleter(model: Vae, attributeNames: readonly string[], steps = DEFAULT_COMPLETION.steps): Completer {
  const cols = attributeIndices(attributeNames, model.config.attributes);
  return (x, mask, y, seed) => {
    const yIn = cols.length ? (tf.gather(y, cols, 1) as tf.Tensor2D) : null;
    const out = complete(model, x, mask, yIn, { steps, latent: 'sample', seed }).completed;
    yIn?.dispose();
    return out;
  };
}
