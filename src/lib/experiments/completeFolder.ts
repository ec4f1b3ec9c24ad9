import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { loadTrainedModel } from '../weights/loadModel';
import { modelAttributeStrength } from '../weights/shippedModel';
import { completionMethod } from '../models/config';
import { loadFaceImage, ImageDecodeError, mapLimited } from '../data/preprocess';
import { parseAttributeFile, attributeIndices } from '../data/attributes';
import { formatMaskSpec, makeMaskBatch, parseMaskSpec, validateMaskForSize } from '../masks';
import { complete, completionSpread, sampleCompletion, forceAttributes, checkAttributeStrength, DEFAULT_ATTRIBUTE_STRENGTH, type CompletionOptions, type EncoderInput, type LatentMode, DEFAULT_COMPLETION } from '../completion';
import { imagePngs } from '../plots/imageGrid';
import { writeFileAtomic, writeJsonAtomic } from '../io/atomicWrite';
import { ssim, psnr, maskedL1 } from '../metrics/ssim';
import { meanStd } from '../metrics/meanStd';
import type { PerceptualDistance } from '../metrics/lpips';
import { ProgressBar } from '../progress';
import { holeSharpness } from '../metrics/sharpness';
import { checkerboardRatio, nyquistFraction } from '../metrics/checkerboard';
import { FeatureSet, type FrechetNet } from '../metrics/frechetNet';
import { readAndDispose } from '../tensorReads';
import { subSeed } from '../rng';
import { chainRecorder } from './gibbsChain';
import sharp from 'sharp';
import { ERROR_VMAX, inferno, UNCERTAINTY_VMAX } from '../plots/colormap';
import { calibrationSummary, holeStdMap, holeValues, meanFaceRankCorrelation, poolHoles, type HoleValues } from '../metrics/calibration';
import { ERROR_MODEL_FILE, readErrorModel, withErrorModel, type ErrorModel } from '../metrics/errorModel';
import { readSigmaNetFiles, sigmaNetSigma, SIGMA_NET_FILE, type SigmaNetModel } from '../metrics/sigmaNet';

export interface CompleteFolderOptions {
  checkpoint: string;
  images: string;
  out: string;
  mask?: string;
  method?: 'gibbs' | 'oneshot';
  steps?: number;
  /** z = μ or z ~ q(z | x'_t) at each step (default `sample`). */
  latent?: LatentMode;
  /** What each Gibbs step encodes (default `estimate`, the paper's chain). */
  encoderInput?: EncoderInput;
  /** Force attributes of an attribute model, e.g. { Smiling: 1 } (1 = on, 0 = off). */
  set?: Record<string, number>;
  /** How far the attributes of `set` are pushed (forceAttributes; default 1, the training labels). */
  strength?: number;
  samples?: number;
  /**
   * K ≥ 2: also the per-pixel std over K completions (z ~ q along the chain): uncertainty/NAME.png
   * (inferno over the hole, the observed pixels grey), NAME.f32 (std per pixel, channel-averaged,
   * float32 row-major H×W) and, against the folder's photographs, its calibration in run.json.
   */
  uncertainty?: number;
  /**
   * With `uncertainty`: an error model file (metrics/errorModel.ts) for the calibrated σ maps
   * (NAME-calibrated.png / .f32); default the model folder's error-model.json when it has one; null: none.
   */
  errorModel?: string | null;
  /** With `uncertainty`: a σ network's files (STEM.bin/.json + STEM-card.json; metrics/sigmaNet.ts) for learned σ maps; default the model folder's `sigma-net`, null for none. */
  sigmaNet?: string | null;
  /** CelebA-format attribute file, required by attribute-conditioned models. */
  attrs?: string;
  seed?: number;
  limit?: number;
  skipBad?: boolean;
  /** Redo images whose completion already exists in `out` (default: skip them, so a rerun resumes). */
  force?: boolean;
  /** Perceptual distance for scoring; scores are computed when given. */
  score?: PerceptualDistance | null;
  /** With `score`: the Fréchet distance of the completions to the photographs of the folder on this network. */
  frechet?: FrechetNet | null;
  batchSize?: number;
  onLine?: (line: string) => void;
  log?: (m: string) => void;
}

export interface CompleteFolderResult {
  completed: string[];
  /** Images skipped because `out` already held their completion (a resumed run). */
  existing: string[];
  skipped: { image: string; reason: string }[];
  scores: Record<string, { mean: number; std: number }> | null;
  /** Mean masked L1 of x'_t against the ground truth after each Gibbs step t = 1..T (first sample). */
  chainMaskedL1: number[];
  /** With `uncertainty`: the calibration of the per-pixel std against the folder's photographs. */
  uncertainty?: ReturnType<SpreadRecorder['summary']>;
  seconds: number;
}

const IMAGE_EXT = /\.(jpe?g|png|webp)$/i;
export const MAX_SAMPLES = 256;
export const MAX_STEPS = 1000;

/** The photographs of a folder (sorted by name, the first `limit`); a missing or empty folder is an error naming it. */
export function imageFiles(dir: string, limit?: number): string[] {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new Error(`--images ${dir}: folder not found`);
  const files = fs.readdirSync(dir).filter((f) => IMAGE_EXT.test(f)).sort().slice(0, limit);
  if (files.length === 0) throw new Error(`--images ${dir}: no .jpg/.png/.webp images`);
  return files;
}

/**
 * Complete every image of a folder with a trained checkpoint, preprocessed exactly as in training
 * (the crop and size recorded in the checkpoint). Writes gt/, masked/, mask/ (white = observed),
 * completed/ and run.json under `out`. Every check (checkpoint, mask, attributes, folder) happens
 * before any work.
 */
export async function completeFolder(o: CompleteFolderOptions): Promise<CompleteFolderResult> {
  const t0 = performance.now();
  const log = o.log ?? ((m: string) => console.warn(m));
  if (!fs.existsSync(o.checkpoint)) throw new Error(`checkpoint ${o.checkpoint} does not exist`);
  const { model, meta, checkpoint } = loadTrainedModel(o.checkpoint);
  let sigmaNet: SigmaNetModel | null = null;
  try {
    const size = meta.preprocess.size;
    const maskSpec = parseMaskSpec(o.mask ?? meta.model.mask);
    validateMaskForSize(maskSpec, size);
    const method = o.method ?? completionMethod(meta.model);
    if (method === 'oneshot' && !meta.model.decoderSeesObserved) log(`[vii] note: ${meta.model.name} is not the one-shot model; --method oneshot runs one Gibbs step`);
    const steps = o.steps ?? DEFAULT_COMPLETION.steps;
    const samples = o.samples ?? 1;
    if (!Number.isInteger(samples) || samples < 1) throw new Error(`--samples ${samples} must be a positive integer`);
    // Each sample is a whole chain of every image: beyond these the run is a mistake, not a study.
    if (samples > MAX_SAMPLES) throw new Error(`--samples ${samples}: at most ${MAX_SAMPLES} (each sample is another ${steps}-step chain of every image)`);
    if (!Number.isInteger(steps) || steps < 1 || steps > MAX_STEPS) throw new Error(`--steps ${steps}: expected an integer in 1..${MAX_STEPS} (the chain settles within about 10)`);
    const spreadK = o.uncertainty ?? 0;
    if (o.uncertainty !== undefined && !(Number.isInteger(spreadK) && spreadK >= 2 && spreadK <= MAX_SAMPLES)) throw new Error(`--uncertainty ${o.uncertainty}: expected an integer in 2..${MAX_SAMPLES} (the completions whose spread is measured)`);
    // A model folder's error model (the uncertainty stage's fit) gives the calibrated σ too.
    const errorModelFile = o.errorModel === undefined ? path.join(o.checkpoint, ERROR_MODEL_FILE) : o.errorModel;
    const errorModel = spreadK && errorModelFile && fs.existsSync(errorModelFile) ? readErrorModel(errorModelFile, size * size * 3) : null;
    if (spreadK && o.errorModel && !errorModel) throw new Error(`--error-model ${o.errorModel}: file not found`);
    if (errorModel) log(`[vii] calibrated σ from ${errorModelFile} (fitted on ${errorModel.faces} validation faces)`);
    // And its σ network (the uncertainty stage's learned σ), where it ships one.
    const sigmaNetStem = o.sigmaNet === undefined ? path.join(o.checkpoint, SIGMA_NET_FILE) : o.sigmaNet;
    sigmaNet = spreadK && sigmaNetStem ? readSigmaNetFiles(sigmaNetStem, size) : null;
    if (spreadK && o.sigmaNet && !sigmaNet) throw new Error(`--sigma-net ${o.sigmaNet}: no σ network there (expected ${o.sigmaNet}.json, .bin and -card.json)`);
    if (sigmaNet) log(`[vii] learned σ from ${sigmaNetStem} (trained on ${sigmaNet.card.trainFaces} training faces' completions, scale ${sigmaNet.card.scale.toFixed(2)})`);
    const files = imageFiles(o.images, o.limit);
    // face.jpg and face.png would both write face.png: one result would silently replace the other.
    const byOutput = new Map<string, string>();
    for (const f of files) {
      const other = byOutput.get(pngName(f));
      if (other) throw new Error(`--images ${o.images}: ${other} and ${f} would both be written as ${pngName(f)}; rename one of them`);
      byOutput.set(pngName(f), f);
    }
    let attrRows: Map<string, Uint8Array> | null = null;
    const cols = meta.model.attributes.length ? meta.model.attributes : [];
    const forced = o.set ?? {};
    for (const a of Object.keys(forced)) if (!cols.includes(a)) throw new Error(`--set ${a}: model "${meta.model.name}" is not conditioned on ${a}`);
    // A given strength, else the model's own (its card's; 1 for a run folder).
    if (o.strength !== undefined && !Object.keys(forced).length) throw new Error(`--strength ${o.strength}: it scales the attributes --set forces; give --set too`);
    const strength = Object.keys(forced).length ? checkAttributeStrength(o.strength ?? modelAttributeStrength(o.checkpoint), '--strength') : DEFAULT_ATTRIBUTE_STRENGTH;
    const allForced = cols.length > 0 && cols.every((a) => a in forced);
    if (cols.length && !allForced) {
      if (!o.attrs) throw new Error(`${checkpoint}: model "${meta.model.name}" is conditioned on ${cols.length} attribute(s); give --attrs FILE (list_attr_celeba.txt format)`);
      const table = parseAttributeFile(o.attrs);
      const idx = attributeIndices(table.names, cols);
      attrRows = new Map(table.images.map((name, r) => [name, Uint8Array.from(idx, (c) => table.values[r * table.names.length + c])]));
      const missing = files.find((f) => !attrRows!.has(f));
      if (missing) throw new Error(`${o.attrs}: no attribute row for image ${missing}`);
    }
    const chain = chainRecorder();
    const options: CompletionOptions = { method, steps, latent: o.latent ?? 'sample', encoderInput: o.encoderInput ?? 'estimate', seed: o.seed ?? 0 };
    // A rerun into the same folder with other settings would label old images with the new ones.
    const settings = { checkpoint: path.resolve(checkpoint), mask: formatMaskSpec(maskSpec), method, steps: method === 'oneshot' ? 1 : steps, latent: options.latent, encoderInput: options.encoderInput, set: Object.fromEntries(Object.entries(forced).map(([k, v]) => [k, v ? 1 : -1])), samples, uncertainty: spreadK || null, seed: options.seed, images: path.resolve(o.images), ...(strength !== DEFAULT_ATTRIBUTE_STRENGTH ? { strength } : {}) };
    const runFile = path.join(o.out, 'run.json');
    if (!o.force && fs.existsSync(runFile)) {
      let before: Record<string, unknown> = {};
      try {
        before = JSON.parse(fs.readFileSync(runFile, 'utf8')) as Record<string, unknown>;
      } catch {
        throw new Error(`${runFile}: not valid JSON; give another --out, or --force to redo every image`);
      }
      const changed = Object.keys(settings).filter((k) => JSON.stringify(before[k]) !== JSON.stringify((settings as Record<string, unknown>)[k]));
      if (changed.length) throw new Error(`${o.out} holds completions made with other settings (${changed.map((k) => `${k}: ${JSON.stringify(before[k])} there, ${JSON.stringify((settings as Record<string, unknown>)[k])} now`).join('; ')}); give another --out, or --force to redo every image with these`);
    }
    // The last check, after every other: it creates the folder.
    assertWritable(o.out);
    for (const d of ['gt', 'masked', 'mask', 'completed', ...(spreadK ? ['uncertainty'] : [])]) fs.mkdirSync(path.join(o.out, d), { recursive: true });
    const spread = spreadK ? new SpreadRecorder(errorModel, sigmaNet) : null;
    const skipped: { image: string; reason: string }[] = [];
    const done: string[] = [];
    const existing: string[] = [];
    const memory = () => ({ rssMB: Math.round(process.memoryUsage().rss / 2 ** 20), tensors: tf.memory().numTensors });
    const memoryStart = memory();
    log(`[vii] complete: ${files.length} images; at start RSS ${memoryStart.rssMB} MB, ${memoryStart.tensors} tensors`);
    const metrics = { ssim: [] as number[], psnr: [] as number[], maskedL1: [] as number[], perceptual: [] as number[], sharpness: [] as number[], nyquist: [] as number[], realNyquist: [] as number[] };
    const features = o.score && o.frechet ? { completed: new FeatureSet(o.frechet), real: new FeatureSet(o.frechet) } : null;
    const batchSize = o.batchSize ?? 64;
    const bar = new ProgressBar('complete', files.length, o.onLine ?? null);
    for (let start = 0; start < files.length; start += batchSize) {
      const names: string[] = [];
      const pixels: Uint8Array[] = [];
      const fileIndex: number[] = [];
      // Decode the batch in parallel (sharp's thread pool), keeping file order.
      const decoded = await mapLimited(files.slice(start, start + batchSize), 8, async (f) => {
        if (!o.force && fs.existsSync(path.join(o.out, 'completed', pngName(f))) && (samples === 1 || fs.existsSync(path.join(o.out, 'completed', pngName(f, samples - 1))))) return { f, existing: true };
        try {
          return { f, px: await loadFaceImage(path.join(o.images, f), meta.preprocess) };
        } catch (e) {
          if (!(e instanceof ImageDecodeError) || !o.skipBad) throw e;
          return { f, error: e.message };
        }
      });
      decoded.forEach((d, k) => {
        if ('existing' in d) existing.push(d.f);
        else if ('px' in d && d.px) {
          pixels.push(d.px);
          names.push(d.f);
          fileIndex.push(start + k);
        } else {
          skipped.push({ image: d.f, reason: d.error! });
          log(`[vii] warning: skipping ${d.error}`);
        }
      });
      if (names.length) {
        const n = names.length;
        const flat = new Float32Array(n * size * size * 3);
        pixels.forEach((p, i) => flat.set(Float32Array.from(p, (v) => v / 255), i * size * size * 3));
        const x = tf.tensor4d(flat, [n, size, size, 3]);
        // Mask i belongs to file i of the folder, whatever the batching.
        const mask = tf.tidy(() => tf.concat(fileIndex.map((fi) => makeMaskBatch(maskSpec, 1, size, fi))) as tf.Tensor4D);
        const rows = attrRows ? tf.tensor2d(names.flatMap((f) => Array.from(attrRows!.get(f)!)), [n, cols.length]) : cols.length ? (tf.zeros([n, cols.length]) as tf.Tensor2D) : null;
        const y = rows && Object.keys(forced).length ? forceAttributes(rows, cols, forced, strength) : rows;
        if (rows && y !== rows) rows.dispose();
        chain.batch(x, mask);
        const batchOptions = { ...options, onStep: chain.onStep, seed: subSeed(options.seed, `batch-${start}`) };
        const masked = tf.mul(x, mask) as tf.Tensor4D;
        const writes: [string, tf.Tensor4D][] = [['gt', x], ['masked', masked], ['mask', mask]];
        for (const [dir, t] of writes) (await imagePngs(t)).forEach((png, i) => writeFileAtomic(path.join(o.out, dir, pngName(names[i])), png));
        // Each sample is written as it is made (the seeds of completeSamples); only the first is kept for the scores.
        const outs: tf.Tensor4D[] = [];
        for (let k = 0; k < samples; k++) {
          const t = samples === 1 ? complete(model, x, mask, y, batchOptions).completed : sampleCompletion(model, x, mask, y, batchOptions, k);
          const pngs = await imagePngs(t);
          pngs.forEach((png, i) => {
            if (k === 0) writeFileAtomic(path.join(o.out, 'completed', pngName(names[i])), png);
            if (samples > 1) writeFileAtomic(path.join(o.out, 'completed', pngName(names[i], k)), png);
          });
          if (k === 0) outs.push(t);
          else t.dispose();
          if (samples > 1) bar.update(start, `sample ${k + 1}/${samples} of images ${start + 1}–${start + n}`);
        }
        if (spread) {
          const { mean, std } = completionSpread(model, x, mask, y, { ...batchOptions, onStep: undefined, seed: subSeed(batchOptions.seed, 'uncertainty') }, spreadK);
          await spread.add(x, mask, mean, std, names, path.join(o.out, 'uncertainty'));
          tf.dispose([mean, std]);
        }
        if (o.score) {
          const [s, p, l1, pd, sharp, nyq, realNyq] = await readAndDispose(
            tf.tidy(() => {
              const hole = tf.sub(1, mask) as tf.Tensor4D;
              return [ssim(outs[0], x), psnr(outs[0], x), maskedL1(outs[0], x, mask), o.score!.distance(outs[0], x), holeSharpness(outs[0], x, mask), nyquistFraction(outs[0], hole), nyquistFraction(x, hole)];
            }),
          );
          metrics.nyquist.push(...nyq);
          metrics.realNyquist.push(...realNyq);
          metrics.ssim.push(...s);
          metrics.psnr.push(...p);
          metrics.maskedL1.push(...l1);
          metrics.perceptual.push(...pd);
          metrics.sharpness.push(...Array.from(sharp).filter(Number.isFinite));
          if (features) {
            await features.completed.add(outs[0]);
            await features.real.add(x);
          }
        }
        tf.dispose([x, mask, masked, ...outs, ...(y ? [y] : [])]);
        done.push(...names);
      }
      bar.update(Math.min(start + batchSize, files.length));
    }
    bar.stop();
    const chainMaskedL1 = await chain.means(done.length);
    const memoryEnd = memory();
    log(`[vii] complete: ${done.length} completed, ${existing.length} already done, ${skipped.length} skipped; at end RSS ${memoryEnd.rssMB} MB, ${memoryEnd.tensors} tensors`);
    if (done.length === 0 && fs.existsSync(runFile)) {
      // Nothing new: the finished folder's run.json (its chain and scores) stays as it was.
      log(`[vii] complete: every image of ${o.images} is already in ${o.out} (--force redoes them); ${runFile} kept`);
      const previous = JSON.parse(fs.readFileSync(runFile, 'utf8')) as { scores?: CompleteFolderResult['scores']; chainMaskedL1?: number[] };
      return { completed: done, existing, skipped, scores: previous.scores ?? null, chainMaskedL1: previous.chainMaskedL1 ?? [], seconds: (performance.now() - t0) / 1000 };
    }
    const scores: Record<string, { mean: number; std: number }> | null =
      o.score && done.length ? { SSIM: meanStd(metrics.ssim), 'PSNR (dB)': meanStd(metrics.psnr), 'masked L1': meanStd(metrics.maskedL1), [o.score.name]: meanStd(metrics.perceptual) } : null;
    if (scores && metrics.sharpness.length) scores['hole sharpness (1 = real)'] = meanStd(metrics.sharpness);
    const checkerboard = checkerboardRatio(metrics.nyquist, metrics.realNyquist);
    if (scores && Number.isFinite(checkerboard.mean)) scores['checkerboard (1 = real)'] = checkerboard;
    // A Fréchet distance needs two covariances: at least 2 images (and is biased upwards for few).
    if (scores && features && features.real.count >= 2) scores[`${o.frechet!.name} (${features.real.count} images)`] = { mean: features.completed.distanceTo(features.real), std: NaN }; // one number, no spread (null in run.json)
    const seconds = (performance.now() - t0) / 1000;
    const uncertainty = spread?.summary() ?? null;
    writeJsonAtomic(runFile, {
      ...settings,
      model: meta.model.name,
      preprocess: meta.preprocess,
      chainMaskedL1,
      completed: done.length,
      existing: existing.length,
      skipped,
      memory: { start: memoryStart, end: memoryEnd },
      scores,
      perceptualDistance: o.score?.description ?? null,
      uncertaintyCalibration: uncertainty,
      frechet: features ? o.frechet!.description : null,
      seconds,
    });
    return { completed: done, existing, skipped, scores, chainMaskedL1, uncertainty, seconds };
  } finally {
    model.dispose();
    sigmaNet?.net.dispose();
  }
}

/** The output folder must take files: say so up front, not as a bare ENOENT/EACCES halfway. */
function assertWritable(out: string): void {
  const probe = path.join(out, `.write-test-${process.pid}`);
  try {
    fs.mkdirSync(out, { recursive: true });
    fs.writeFileSync(probe, '');
    fs.rmSync(probe);
  } catch (e) {
    throw new Error(`--out ${out} is not writable (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); choose another folder`);
  }
}

function pngName(file: string, k?: number): string {
  const base = file.replace(IMAGE_EXT, '');
  return k === undefined ? `${base}.png` : `${base}_${k}.png`;
}


/**
 * Writes each image's uncertainty map and raw std, and gathers the hole's pixels for the folder's
 * calibration: the per-face rank correlation of std with |error| (averaged), coverage at ±0.5, 1,
 * 2σ, ECE and sparsification over all the hole pixels.
 */
class SpreadRecorder {
  private readonly faces: HoleValues[] = [];
  private readonly calibrated: HoleValues[] = [];
  private readonly learned: HoleValues[] = [];

  /**
   * `errorModel`: also the calibrated σ (NAME-calibrated.png / .f32) and its calibration;
   * `sigmaNet`: the learned σ (NAME-network.png / .f32) and its calibration.
   */
  constructor(
    private readonly errorModel: ErrorModel | null,
    private readonly sigmaNet: SigmaNetModel | null = null,
  ) {}

  async add(x: tf.Tensor4D, mask: tf.Tensor4D, mean: tf.Tensor4D, std: tf.Tensor4D, names: string[], dir: string): Promise<void> {
    const [n, h, w] = x.shape;
    const [xs, ms, mus, sds, nets] = (await readAndDispose([x.clone(), mask.clone(), mean.clone(), std.clone(), ...(this.sigmaNet ? [sigmaNetSigma(this.sigmaNet, mean, std, mask)] : [])])) as Float32Array[];
    const faces = holeValues(xs, ms, mus, sds, n);
    this.faces.push(...faces);
    const learned = nets ? holeValues(xs, ms, mus, nets, n) : null;
    if (learned) this.learned.push(...learned);
    for (let i = 0; i < n; i++) {
      const stem = names[i].replace(/\.[^.]+$/, '');
      const grey = (p: number) => {
        const at = (i * h * w + p) * 3;
        return Math.round((0.299 * xs[at] + 0.587 * xs[at + 1] + 0.114 * xs[at + 2]) * 127 + 64);
      };
      const faceMask = ms.subarray(i * h * w, (i + 1) * h * w);
      await writeMap(dir, stem, holeStdMap(faces[i], h * w), faceMask, grey, w, h, UNCERTAINTY_VMAX);
      if (this.errorModel) {
        const c = withErrorModel(this.errorModel, faces[i]);
        this.calibrated.push(c);
        await writeMap(dir, `${stem}-calibrated`, holeStdMap(c, h * w), faceMask, grey, w, h, ERROR_VMAX);
      }
      if (learned) await writeMap(dir, `${stem}-network`, holeStdMap(learned[i], h * w), faceMask, grey, w, h, ERROR_VMAX);
    }
  }

  summary() {
    const pooled = poolHoles(this.faces);
    if (pooled.mean.length === 0) return null;
    // Pooled over every hole pixel, and the rank correlation per face averaged (faces differ in how hard they are).
    const { spearman: spearmanPooled, ...rest } = calibrationSummary(pooled);
    const of = (faces: HoleValues[]) => (faces.length ? { ...calibrationSummary(poolHoles(faces)), spearmanPerFace: meanFaceRankCorrelation(faces) } : null);
    return { vmax: UNCERTAINTY_VMAX, sigmaVmax: ERROR_VMAX, ...rest, spearmanPooled, spearmanPerFace: meanFaceRankCorrelation(this.faces), calibrated: of(this.calibrated), network: of(this.learned) };
  }
}

/** One σ map: inferno over the hole (σ / vmax: the std's scale, or a calibrated σ's), the photograph in grey around it; and the values as float32 H×W. */
async function writeMap(dir: string, stem: string, sigma: Float32Array, mask: Float32Array, grey: (p: number) => number, w: number, h: number, vmax: number): Promise<void> {
  const rgb = new Uint8Array(h * w * 3);
  for (let p = 0; p < h * w; p++) {
    const g = grey(p);
    rgb.set(mask[p] > 0.5 ? [g, g, g] : inferno(sigma[p] / vmax), p * 3);
  }
  writeFileAtomic(path.join(dir, `${stem}.f32`), Buffer.from(sigma.buffer));
  writeFileAtomic(path.join(dir, `${stem}.png`), await sharp(Buffer.from(rgb.buffer), { raw: { width: w, height: h, channels: 3 } }).png().toBuffer());
}
