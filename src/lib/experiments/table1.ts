import { DEFAULT_SPEC } from '../spec/experimentSpec';
import * as fs from 'fs';
import * as path from 'path';
import type { FaceDataset } from '../data/faceDataset';
import { loadTrainedModel } from '../weights/loadModel';
import { loadMobileNetV2 } from '../weights/featureNet';
import { activePerceptualLayers, completionMethod, MOBILENET_LAYERS, type ModelConfig } from '../models/config';
import { inceptionPoolFrechetNet, nsfwjsInceptionFrechetNet, type FrechetNet } from '../metrics/frechetNet';
import { unlearnedPerceptualDistance, type PerceptualDistance } from '../metrics/lpips';
import { disposeClassifier, SCORE_ATTRIBUTES } from '../metrics/attributeClassifier';
import { judgeFor, type JudgeName } from '../metrics/judges';
import { teleaComplete, teleaUnavailable } from '../metrics/telea';
import { meanFill } from '../metrics/meanFill';
import { formatMaskSpec, parseMaskSpec } from '../masks';
import { evaluateRow, evaluationIndices, generationScores, modelCompleter, type GenerationScores, realFeatureSets, type EvalSettings, type RowMetrics } from './evaluate';
import { writeTable, type ResultTable } from '../export/table';
import { writeJsonAtomic } from '../io/atomicWrite';
import type { RealMetrics } from '../metrics/realMetrics';
import { DEFAULT_COMPLETION } from '../completion';

export interface Table1Options {
  data: FaceDataset & { origin?: string };
  /** Model rows: display name → run folder (checkpoints); `extra` rows go below a rule, after Real images and Telea. */
  models: { name: string; runDir: string; extra?: boolean }[];
  mask?: string;
  seed?: number;
  limit?: number;
  steps?: number;
  outBase: string;
  perceptual?: PerceptualDistance;
  /** LPIPS (VGG, v0.1) and the Inception score under their real names, where their weights are present. */
  real?: RealMetrics;
  /** The Fréchet substitute's network (default: nsfwjs' InceptionV3); FID is added when `real.inception` is there. */
  frechetSubstitute?: FrechetNet;
  /** The judge of AS and attribute accuracy (default: the pretrained InceptionV3 probes; plain: the small CNN of the older tables). */
  judge?: JudgeName;
  /** Fréchet columns (default true): InceptionV3 features of every completion and prior sample, most of Table 1's time on a CPU. */
  frechet?: boolean;
  onLine?: (line: string) => void;
  log?: (m: string) => void;
}

/**
 * The Table 1 reproduction: every model row, the real images and OpenCV Telea, on the same
 * held-out images and masks. Written as CSV, Markdown and LaTeX (+ JSON with every number).
 */
export async function buildTable1(o: Table1Options): Promise<{ rows: RowMetrics[]; files: string[]; table: ResultTable }> {
  const log = o.log ?? ((m: string) => console.log(m));
  const seed = o.seed ?? 0;
  const mask = parseMaskSpec(o.mask ?? 'centre:0.5');
  const perceptual = o.perceptual ?? unlearnedPerceptualDistance(await loadMobileNetV2([...MOBILENET_LAYERS]));
  const classifier = await judgeFor(o.data, o.judge ?? DEFAULT_SPEC.evaluation.judge, o.onLine);
  log(`[vii] ${classifier.description}`);
  const real = o.real ?? { lpips: null, inception: null, missing: [] };
  for (const m of real.missing) log(`[vii] real metric not computed: ${m}`);
  const settings: EvalSettings = { data: o.data, split: 'test', mask, seed, limit: o.limit, batchSize: 100, perceptual, real, classifier, diversitySamples: 3, diversityImages: 100, onLine: o.onLine };
  const withFrechet = o.frechet ?? true;
  const substitute = withFrechet ? (o.frechetSubstitute ?? (await nsfwjsInceptionFrechetNet())) : null;
  const frechetNets = substitute ? [...(real.inception ? [inceptionPoolFrechetNet(real.inception)] : []), substitute] : [];
  settings.frechet = frechetNets.length ? await realFeatureSets(settings, frechetNets) : [];
  const generation = new Map<string, GenerationScores | null>();
  const throughPd = new Set<string>();
  const rows: RowMetrics[] = [];
  const notes: string[] = [];
  const ordered = [...o.models.filter((m) => !m.extra), ...o.models.filter((m) => m.extra)];
  const extraNames = new Set(o.models.filter((m) => m.extra).map((m) => m.name));

  for (const m of ordered) {
    const { model, meta, checkpoint } = loadTrainedModel(m.runDir);
    if (meta.model.imageSize !== o.data.preprocess.size) throw new Error(`${checkpoint}: a ${meta.model.imageSize}×${meta.model.imageSize} model cannot be evaluated on ${o.data.preprocess.size}×${o.data.preprocess.size} images`);
    const method = completionMethod(meta.model);
    const row = await evaluateRow(m.name, modelCompleter(model, o.data.attributeNames, o.steps ?? DEFAULT_COMPLETION.steps), settings);
    rows.push(row);
    generation.set(m.name, await generationScores(model, settings));
    if (trainedThroughPdNet(meta.model)) throughPd.add(m.name);
    notes.push(`${m.name}: ${checkpoint} (epoch ${meta.epoch}, step ${meta.step}, ${method}${method === 'gibbs' ? ` ${o.steps ?? DEFAULT_COMPLETION.steps} steps` : ''}, perceptual net ${meta.featureNet})`);
    model.dispose();
    log(`[vii] ${m.name}: SSIM ${row.ssim.mean.toFixed(3)} PD ${row.perceptual.mean.toFixed(3)} AS ${row.score!.mean.toFixed(3)} sharpness ${row.sharpness.mean.toFixed(3)}${substitute ? ` ${substitute.name} ${row.frechet[substitute.name].toFixed(2)}` : ''}`);
  }
  const paperRows = rows.length - extraNames.size;
  const baselines = [await evaluateRow('Real images', (x) => x.clone(), { ...settings, diversitySamples: 0 })];
  const telea = teleaUnavailable();
  if (telea) log(`[vii] Telea row skipped: ${telea}`);
  else baselines.push(await evaluateRow('OpenCV Telea', (x, maskT) => teleaComplete(x, maskT), { ...settings, diversitySamples: 0 }));
  baselines.push(await evaluateRow('Mean fill', (x, maskT) => meanFill(x, maskT), { ...settings, diversitySamples: 0 }));
  rows.splice(paperRows, 0, ...baselines);

  const n = evaluationIndices(settings).length;
  const size = o.data.preprocess.size;
  const caption =
    `Completion of ${formatMaskSpec(mask)} holes on ${n} held-out ${o.data.kind === 'celeba' ? 'real CelebA' : 'SYNTHETIC (not CelebA)'} faces ` +
    `(${o.data.root}, ${o.data.partition} test split), ${size}×${size}, seed ${seed}. ` +
    `AS: the Inception-score formula with the attribute judge (16 joint classes of ${SCORE_ATTRIBUTES.join('×')}) in place of Inception-v3's classes (substitute, not the Inception score). ` +
    `PD: ${perceptual.description} (substitute, not LPIPS)${throughPd.size ? '; ‡ = the model was trained with a perceptual loss through this network, so its PD is not an independent judgement' : ''}. ` +
    `Sharpness: mean |Laplacian| of the fill's luma in the hole's interior over the photograph's (1 = as sharp as the photograph; network-free). ` +
    `Checkerboard: the luma energy at the stride-2 (Nyquist) frequencies, the fills' in the hole over the photographs' in the same hole, and prior samples' over the real test faces' (1 = as a photograph; network-free). ` +
    (frechetNets.length
      ? `${frechetNets.map((f) => `${f.name}: ${f.description}`).join('. ')}; "completions" against the ${n} real test images, "prior" for ${n} prior samples z ~ N(0, I) (with those images' attributes; — for the one-shot models, whose decoder needs observed pixels).`
      : 'Fréchet distances not computed here (`vii table1` computes them).') +
    ` Attr. acc.: ${classifier.description}. Diversity: mean pairwise PD of 3 completions of the first 100 inputs.` +
    (real.inception ? ` IS: the Inception score (10 splits) with ${real.inception.description}, images resized to 299×299.` : '') +
    (real.lpips ? ` LPIPS: ${real.lpips.description}.` : '');
  const isReal = (r: RowMetrics) => r.name === 'Real images';
  const table: ResultTable = {
    caption,
    columns: [
      ...(real.inception ? ['IS ↑'] : []), ...(real.lpips ? [`${real.lpips.name} ↓`] : []), 'AS ↑', `${perceptual.name} ↓`, 'SSIM ↑', 'PSNR (dB) ↑', 'masked L1 ↓', 'sharpness (1 = real)', 'checkerboard (1 = real)', 'checkerboard prior',
      ...frechetNets.flatMap((f) => [`${f.name} completions ↓`, `${f.name} prior ↓`]), 'attr. acc. ↑', 'diversity',
    ],
    digits: [...(real.inception ? [3] : []), ...(real.lpips ? [4] : []), 3, 4, 3, 2, 4, 3, 2, 2, ...frechetNets.flatMap(() => [2, 2]), 3, 4],
    rows: rows.map((r, i) => ({
      name: r.name,
      rule: i === paperRows + baselines.length && extraNames.size > 0,
      cells: [
        ...(real.inception ? [r.inceptionScore] : []),
        ...(real.lpips ? [isReal(r) ? null : r.lpips] : []),
        r.score,
        isReal(r) ? null : throughPd.has(r.name) ? { ...r.perceptual, note: '‡' } : r.perceptual,
        isReal(r) ? null : r.ssim, isReal(r) ? null : r.psnr, isReal(r) ? null : r.maskedL1, isReal(r) ? null : r.sharpness,
        isReal(r) ? null : r.checkerboard, generation.get(r.name)?.checkerboard ?? null,
        ...frechetNets.flatMap((f) => [isReal(r) ? null : r.frechet[f.name], generation.get(r.name)?.frechet[f.name] ?? null]),
        r.attributeAccuracy, r.diversity,
      ],
    })),
  };
  fs.mkdirSync(path.dirname(o.outBase), { recursive: true });
  const files = writeTable(o.outBase, table);
  writeJsonAtomic(`${o.outBase}.json`, { caption, rows: rows.map((r) => ({ ...r, generationFrechet: generation.get(r.name)?.frechet ?? null, priorCheckerboard: generation.get(r.name)?.checkerboard ?? null, trainedThroughPd: throughPd.has(r.name) })), notes, frechet: frechetNets.map((f) => f.description), classifier: classifier.description, perceptual: perceptual.description, lpips: real.lpips?.description ?? null, inception: real.inception?.description ?? null, mask: formatMaskSpec(mask), seed, images: n, size, data: { kind: o.data.kind, root: o.data.root, origin: o.data.origin } });
  files.push(path.resolve(`${o.outBase}.json`));
  disposeClassifier(classifier);
  if (substitute && !o.frechetSubstitute) substitute.dispose();
  return { rows, files, table };
}

/** Whether a model's perceptual loss ran through the network the PD column uses (MobileNetV2). */
export function trainedThroughPdNet(model: ModelConfig): boolean {
  return model.perceptual.net === 'mobilenetv2' && activePerceptualLayers(model).length > 0;
}
