import * as fs from 'fs';
import { tensorFileSha256 } from '../io/tensorFiles';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { gatherBatch, type FaceDataset } from '../data/faceDataset';
import { makeMaskBatch, parseMaskSpec } from '../masks';
import { attributeIndices } from '../data/attributes';
import { loadTrainedModel } from '../weights/loadModel';
import { modelAttributeStrength } from '../weights/shippedModel';
import { judgeFor, judgeIdentity } from '../metrics/judges';
import { disposeClassifier } from '../metrics/attributeClassifier';
import { writeFileAtomic, writeJsonAtomic } from '../io/atomicWrite';
import { tableMarkdown, type Cell, type ResultTable } from '../export/table';
import { completionSpread, complete, DEFAULT_ATTRIBUTE_STRENGTH } from '../completion';
import { readAndDispose } from '../tensorReads';
import { subSeed } from '../rng';
import type { Vae } from '../models/vae';
import { calibrationSummary, expectedCalibrationError, fitScale, holeValues, meanFaceRankCorrelation, poolHoles, reliabilityDiagram, sparsification, type HoleValues } from '../metrics/calibration';
import { fitErrorModel, idealTruths, withErrorModel, type ErrorModel } from '../metrics/errorModel';
import { disposeRealMetrics, loadRealMetrics } from '../metrics/realMetrics';
import { chainRecorder } from './gibbsChain';
import { buildTable1 } from './table1';
import { attributeControl, controlTable, meanControl, type AttributeControl } from './attributeControl';
import { comparisonGrids, quickCompare } from './fineTune';
import type { RowMetrics } from './evaluate';
import { chainCurves, tradeOff, type Figure } from '../plots/plotly';
import { exportFigure, exportGrid, findBrowser } from '../plots/exportFigure';
import { readSpread, spreadFile, writeSpread } from './spreadCache';
import { canonicalJson, resolvedModel, settingsHash, sweepAttributes, type ExperimentSpec, type ModelEntry } from '../spec/experimentSpec';

/** What `vii run` leaves, by stage (paths relative to the working directory). */
export interface ExperimentOutputs {
  runs: { entry: ModelEntry; name: string; runDir: string; row: string }[];
  chains: Record<string, { mean: number[]; sample: number[] }>;
  table: string | null;
  control: Record<string, AttributeControl[]>;
  /** Per compare pair: its table (Markdown file) and figures. */
  /** The names of the compared models (two, or a sweep's), its table and figures, and a sweep's pick. */
  compared: { pair: string[]; table: string; figures: string[]; pick?: { rule: string; name: string } }[];
  chainFigure: string[];
  /** Per model row: the uncertainty stage's calibration by completion method. */
  uncertainty: Record<string, UncertaintyRow[]>;
  /** The uncertainty stage's figures (reliability, sparsification, each model's maps), PNG. */
  uncertaintyFigures: string[];
  /** The learned σ against the std and the error model (sigmaNetStage's table), where it was measured. */
  uncertaintyNet: ResultTable | null;
  summary: string | null;
}

/** Where an experiment writes: its logs, figures and table under its own name. */
export function experimentPaths(spec: ExperimentSpec) {
  return {
    logs: path.join(spec.out.logs, spec.name),
    figures: path.join(spec.out.figures, spec.name),
    table: path.join(spec.out.tables, `${spec.name}`),
    summary: path.join(spec.out.logs, spec.name, 'summary.md'),
  };
}

export type Run = ExperimentOutputs['runs'][number];
export type Paths = ReturnType<typeof experimentPaths>;

/** A log file that keeps every message and every 20th progress line (as the shell pipeline's logs did). */
export function fileLogger(file: string) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  let progress = 0;
  return (line: string) => {
    const isProgress = /ms\/step$/.test(line);
    if (!isProgress || progress++ % 20 === 0) fs.appendFileSync(file, `${line}\n`);
  };
}

/**
 * What names a run's newest checkpoint, for the stages' stamps: a run folder's latest.json, or a
 * shipped model's weights digest (models/NAME has one checkpoint and no series).
 */
export function checkpointStamp(runDir: string): string {
  const latest = path.join(runDir, 'latest.json');
  if (fs.existsSync(latest)) return fs.readFileSync(latest, 'utf8');
  return `shipped ${tensorFileSha256(path.join(runDir, 'weights'))}`;
}

/**
 * Which faces a stage ran on, for its stamp: a shipped model evaluated on other data (generated
 * faces where CelebA is missing) must not find another data set's results. Counts, not paths, so a
 * committed result stays valid on another machine with the same data.
 */
export function dataIdentity(data: FaceDataset): { kind: string; images: number; test: number } {
  return { kind: data.kind, images: data.images.length, test: data.splits.test.length };
}

/** Is `file` a stage output made from exactly these inputs? */
export function upToDate(file: string, stamp: unknown): boolean {
  if (!fs.existsSync(file)) return false;
  try {
    return canonicalJson((JSON.parse(fs.readFileSync(file, 'utf8')) as { stamp?: unknown }).stamp) === canonicalJson(stamp);
  } catch {
    return false;
  }
}

/** The masked L1 after every Gibbs step on the first held-out test faces, z = μ and z ~ q. */
export async function chainStage(spec: ExperimentSpec, data: FaceDataset, runDir: string, file: string, log: (m: string) => void): Promise<{ mean: number[]; sample: number[] }> {
  const indices = data.splits.test.slice(0, spec.evaluation.chainImages);
  const stamp = { data: dataIdentity(data), checkpoint: checkpointStamp(runDir), images: indices.length, steps: spec.completion.steps, mask: spec.evaluation.mask, seed: spec.train.seed };
  // Checked before the weights are read: a finished chain costs one small file read.
  if (upToDate(file, stamp)) return JSON.parse(fs.readFileSync(file, 'utf8')) as { mean: number[]; sample: number[] };
  const { model, meta } = loadTrainedModel(runDir);
  const cols = attributeIndices(data.attributeNames, meta.model.attributes);
  const result: Record<'mean' | 'sample', number[]> = { mean: [], sample: [] };
  for (const latent of ['mean', 'sample'] as const) {
    const recorder = chainRecorder();
    for (let start = 0; start < indices.length; start += 100) {
      const idx = indices.slice(start, start + 100);
      const batch = gatherBatch(data, idx, cols);
      const mask = makeMaskBatch(parseMaskSpec(spec.evaluation.mask), idx.length, data.preprocess.size, start);
      recorder.batch(batch.x, mask);
      complete(model, batch.x, mask, batch.y, { method: 'gibbs', steps: spec.completion.steps, latent, seed: spec.train.seed, onStep: recorder.onStep }).completed.dispose();
      tf.dispose([batch.x, batch.y, mask]);
    }
    result[latent] = await recorder.means(indices.length);
  }
  model.dispose();
  writeJsonAtomic(file, { stamp, ...result });
  log(`[vii] chain ${path.basename(runDir)} (z = μ): ${chainCell(result.mean)}`);
  return result;
}

/** The chain figure: masked L1 after each Gibbs step, a line per model and latent (PNG and PDF beside its JSON when a browser is found). */
export async function chainFigure(spec: ExperimentSpec, runs: Run[], chains: ExperimentOutputs['chains'], p: Paths): Promise<{ figure: Figure; files: string[] }> {
  const series = runs.flatMap((r) => (['mean', 'sample'] as const).map((latent) => ({ name: `${r.row} (z ${latent === 'mean' ? '= μ' : '~ q'})`, values: chains[r.name][latent] })));
  const config = { spec: spec.name, runs: runs.map((r) => r.name), images: spec.evaluation.chainImages, mask: spec.evaluation.mask, steps: spec.completion.steps, series };
  const figure = chainCurves(series);
  if (runs.length === 0) return { figure, files: [] };
  if (await findBrowser()) return { figure, files: await exportFigure(figure, 'chain', config, p.figures) };
  writeJsonAtomic(path.join(p.figures, 'chain.json'), config);
  return { figure, files: [path.join(p.figures, 'chain.json')] };
}

/** A checkerboard up to this many times a photograph's (the checkerboard measure) counts as none. */
const NO_CHECKERBOARD = 1.1;

/**
 * A sweep's pick: among the models within 5 % of the first one's masked L1, those whose fills carry
 * no checkerboard (≤ 1.1× a photograph's energy at the stride-2 frequencies) first — the Laplacian
 * behind hole sharpness counts a checkerboard as detail — then the highest hole sharpness. None
 * within 5 %: the lowest masked L1. (For sweeps of transposed-conv decoders alone, all of which
 * carry one, this is the λ_l sweep's rule.)
 */
export function pickOf(rows: RowMetrics[]): { rule: string; name: string } {
  const within = rows.slice(1).filter((r) => r.maskedL1.mean <= 1.05 * rows[0].maskedL1.mean);
  const clean = within.filter((r) => r.checkerboard !== undefined && r.checkerboard.mean <= NO_CHECKERBOARD);
  const pool = clean.length ? clean : within;
  const chosen = pool.length ? pool.reduce((a, b) => (b.sharpness.mean > a.sharpness.mean ? b : a)) : rows.slice(1).reduce((a, b) => (b.maskedL1.mean < a.maskedL1.mean ? b : a));
  const why = !within.length ? ' (none qualified: lowest masked L1)' : clean.length ? `, among those whose fills carry no checkerboard (≤ ${NO_CHECKERBOARD}× a photograph's)` : '';
  return { rule: `highest hole sharpness with masked L1 ≤ 1.05 × ${rows[0].name}'s${why}`, name: chosen.name };
}

/**
 * Models side by side: the blur-sensitive metrics on the same held-out faces (masked L1, hole
 * sharpness, the Fréchet substitute, PD) and figures of the same faces, holes and z. With three or
 * more (a sweep), also the trade-off figure (masked L1 against sharpness) and the pick by the λ_l
 * sweep's rule (pickOf): the sharpest fill within 5 % of the first model's masked L1, fills without a
 * checkerboard first.
 */
export async function compareStage(spec: ExperimentSpec, data: FaceDataset, group: Run[], p: Paths, log: (m: string) => void): Promise<ExperimentOutputs['compared'][number]> {
  const names = group.map((r) => r.row);
  // Two runs keep their readable file name; a sweep's would pass a file name's length.
  const tag = group.length === 2 ? `${group[0].name}-vs-${group[1].name}` : `${group.length}-models-${settingsHash(group.map((r) => r.name))}`;
  const base = path.join(p.logs, `compare-${tag}`);
  const stamp = { data: dataIdentity(data), checkpoints: group.map((r) => checkpointStamp(r.runDir)), images: spec.evaluation.images, mask: spec.evaluation.mask, steps: spec.completion.steps, seed: spec.train.seed };
  const previous = `${base}.json`;
  if (upToDate(previous, stamp)) {
    // The pick is remade from the stored rows (the rule may have changed since; the rows cannot have).
    const saved = JSON.parse(fs.readFileSync(previous, 'utf8')) as { result: ExperimentOutputs['compared'][number]; rows: RowMetrics[] };
    const { pick: before, ...rest } = saved.result;
    const result: ExperimentOutputs['compared'][number] = group.length > 2 ? { ...rest, pick: pickOf(saved.rows) } : rest;
    if (JSON.stringify(before) !== JSON.stringify(result.pick)) writeJsonAtomic(previous, { ...saved, result });
    return result;
  }
  const models = group.map((r) => ({ name: r.row, model: loadTrainedModel(r.runDir).model }));
  try {
    const { table, rows } = await quickCompare(models, data, { images: spec.evaluation.images ?? data.splits.test.length, seed: spec.train.seed, mask: spec.evaluation.mask, steps: spec.completion.steps });
    const md = tableMarkdown(table);
    writeFileAtomic(`${base}.md`, md);
    log(md);
    const grids = await comparisonGrids(models, data, { count: 10, seed: spec.train.seed, mask: spec.evaluation.mask, steps: spec.completion.steps });
    const config = { rows: names, runs: group.map((r) => r.name), faces: 'first 10 test faces', mask: spec.evaluation.mask, latent: 'mean', steps: spec.completion.steps, seed: spec.train.seed };
    const figures = Object.entries(grids).map(([kind, png]) => exportGrid(png, `${tag}-${kind}`, config, p.figures)[0]);
    let pick: { rule: string; name: string } | undefined;
    if (group.length > 2) {
      const points = rows.map((r) => ({ name: r.name, x: r.maskedL1.mean, y: r.sharpness.mean }));
      const figure = tradeOff(points, { x: 'masked L1 ↓', y: 'hole sharpness (1 = real)' }, `${spec.name}: ${table.caption.split('.')[0]}`);
      figures.push(...(await findBrowser() ? (await exportFigure(figure, `${tag}-tradeoff`, { ...config, points }, p.figures)).filter((f) => f.endsWith('.png')) : []));
      pick = pickOf(rows);
      log(`[vii] compare ${spec.name}: picked ${pick.name} (${pick.rule})`);
    }
    const result = { pair: names, table: `${base}.md`, figures, ...(pick ? { pick } : {}) };
    writeJsonAtomic(previous, { stamp, result, rows });
    return result;
  } finally {
    for (const m of models) m.model.dispose();
  }
}

export async function table1Stage(spec: ExperimentSpec, data: FaceDataset & { origin?: string }, runs: Run[], p: Paths, log: (m: string) => void): Promise<string> {
  const stampFile = path.join(p.logs, 'table1.stamp.json');
  const stamp = {
    data: dataIdentity(data),
    checkpoints: runs.map((r) => checkpointStamp(r.runDir)),
    // Only what Table 1 depends on (the uncertainty stage's and the sweeps' strength are not: a stamp stays valid when they are added).
    evaluation: { ...spec.evaluation, uncertaintySamples: undefined, uncertaintyModels: undefined, sigmaNet: undefined },
    completion: { ...spec.completion, attributeStrength: undefined },
    seed: spec.train.seed,
  };
  if (upToDate(stampFile, stamp) && fs.existsSync(`${p.table}.md`)) return `${p.table}.md`;
  const real = await loadRealMetrics();
  const logLine = fileLogger(path.join(p.logs, 'table1.log'));
  try {
    await buildTable1({
      data,
      models: runs.map((r) => ({ name: r.row, runDir: r.runDir })),
      mask: spec.evaluation.mask,
      seed: spec.train.seed,
      limit: spec.evaluation.images ?? undefined,
      steps: spec.completion.steps,
      frechet: spec.evaluation.frechet,
      judge: spec.evaluation.judge,
      outBase: p.table,
      real,
      onLine: logLine,
      log: (m) => (logLine(m), log(m)),
    });
  } finally {
    disposeRealMetrics(real);
  }
  writeJsonAtomic(stampFile, { stamp });
  return `${p.table}.md`;
}

/** Decoder sweeps and forced completions of an attribute model, judged; null for models without the attributes. */
export async function sweepStage(spec: ExperimentSpec, data: FaceDataset, r: Run, p: Paths, log: (m: string) => void): Promise<AttributeControl[] | null> {
  const { model: config } = resolvedModel(spec, r.entry);
  const attributes = sweepAttributes(spec, r.entry, config);
  if (attributes.length === 0) return null;
  const file = path.join(p.logs, `sweep-${r.name}.control.json`);
  // The spec's strength, else the model's own (a shipped model's card; 1 for a run folder). Stamped
  // only when not 1, so sweeps made before the setting existed stay current.
  const strength = spec.completion.attributeStrength ?? modelAttributeStrength(r.runDir);
  const stamp = { data: dataIdentity(data), checkpoint: checkpointStamp(r.runDir), attributes, samples: spec.evaluation.sweepSamples, judge: judgeIdentity(spec.evaluation.judge), steps: spec.completion.steps, mask: spec.evaluation.mask, seed: spec.train.seed, ...(strength !== DEFAULT_ATTRIBUTE_STRENGTH ? { strength } : {}) };
  if (upToDate(file, stamp)) return (JSON.parse(fs.readFileSync(file, 'utf8')) as { control: AttributeControl[] }).control;
  const { model } = loadTrainedModel(r.runDir);
  const classifier = await judgeFor(data, spec.evaluation.judge);
  const out = path.join(spec.out.runs, `${r.name}-sweep`);
  try {
    const control = await attributeControl({ model, data, classifier, attributes, samples: Math.min(spec.evaluation.sweepSamples, data.splits.test.length), seed: spec.train.seed, out, mask: spec.evaluation.mask, gibbsSteps: spec.completion.steps, strength });
    fs.mkdirSync(p.figures, { recursive: true });
    for (const g of ['sweep-grid', 'completion-grid']) if (fs.existsSync(path.join(out, `${g}.png`))) fs.copyFileSync(path.join(out, `${g}.png`), path.join(p.figures, `${g}-${r.name}.png`));
    writeJsonAtomic(file, { stamp, judge: classifier.description, control });
    const mean = meanControl(control);
    log(`[vii] sweep ${r.row}: control (decoder) ${mean.decoder?.toFixed(3) ?? '—'}, (completion) ${mean.completion.toFixed(3)}`);
    return control;
  } finally {
    disposeClassifier(classifier);
    model.dispose();
  }
}

/**
 * Validation faces the σ scale and the error model are fitted on (at most): four weights, a scale and
 * a per-pixel mean over 300 faces' holes are settled, and the K-completion chains of the fit are a
 * third of the stage's time at 900.
 */
export const UNCERTAINTY_FIT_FACES = 300;

/** One σ's calibration on the test faces, and what a perfectly calibrated σ of the same spread would score there. */
export interface SigmaScores {
  /** Spearman of σ and |error| per face, averaged over faces. */
  spearmanPerFace: number;
  test: ReturnType<typeof calibrationSummary>;
  /** The same σ with truths drawn from N(mean, σ²): the most this σ's spread allows. */
  ideal: { spearmanPerFace: number; sparsificationRatio: number };
}

/** One completion method's calibration on the test faces: the raw std (and with σ scaled by the factor fitted on the validation faces), and the error model's σ. */
export interface UncertaintyRow extends SigmaScores {
  method: 'chain' | 'single';
  steps: number;
  /** The σ scale fitted on the validation faces (likelihood), and the test ECE and coverage with it. */
  scale: number;
  scaledEce: number;
  scaledCoverage: ReturnType<typeof reliabilityDiagram>;
  /** The error model (std, |∇ mean|, position prior) fitted on the validation faces, and its σ on the test faces. */
  errorModel: ErrorModel;
  calibrated: SigmaScores;
}

export function sigmaScores(faces: HoleValues[], seed: number): SigmaScores {
  const ideal = faces.map((f, i) => idealTruths(f, subSeed(seed, `ideal-${i}`)));
  const sp = sparsification(poolHoles(ideal));
  return {
    spearmanPerFace: meanFaceRankCorrelation(faces) ?? 0,
    test: calibrationSummary(poolHoles(faces)),
    ideal: { spearmanPerFace: meanFaceRankCorrelation(ideal) ?? 0, sparsificationRatio: sp.modelArea / sp.oracleArea },
  };
}

/** The error model with its map rounded (a stage's JSON stays small). */
function rounded(m: ErrorModel): ErrorModel {
  return { ...m, positionMap: m.positionMap.map((v) => Number(v.toPrecision(4))) };
}

/**
 * K completions of each of some faces, 50 at a time, as flat arrays (truth, mask, mean, std) with the
 * batch's first index: the one place the uncertainty stage and the σ network draw them, so both
 * measure the same completions (same batches, masks and seeds). With the model's `checkpoint`
 * stamp, each batch's mean and std are cached on disk (spreadCache.ts) under the experiment's
 * results folder, so the second stage (or a σ network retrained) reads what the first one drew.
 */
export async function forEachSpreadBatch(model: Vae, checkpoint: string | null, data: FaceDataset, indices: number[], cols: number[], spec: ExperimentSpec, steps: number, offset: number, k: number, onBatch: (arrays: Float32Array[], start: number, n: number) => void): Promise<void> {
  const cacheDir = path.join(path.dirname(spec.out.runs), 'cache', 'spreads');
  for (let start = 0; start < indices.length; start += 50) {
    const idx = indices.slice(start, start + 50);
    const batch = gatherBatch(data, idx, cols);
    const mask = makeMaskBatch(parseMaskSpec(spec.evaluation.mask), idx.length, data.preprocess.size, offset + start);
    const seed = subSeed(spec.train.seed, `uncertainty-${offset + start}`);
    const file = checkpoint === null ? null : spreadFile(cacheDir, { checkpoint, data: dataIdentity(data), indices: idx, mask: spec.evaluation.mask, maskSeed: offset + start, samples: k, steps, seed });
    const cached = file ? readSpread(file, batch.x.size) : null;
    let arrays: Float32Array[];
    if (cached) {
      arrays = [...(await readAndDispose([batch.x, mask])), cached.mean, cached.std];
    } else {
      const { mean, std } = completionSpread(model, batch.x, mask, cols.length ? batch.y : null, { steps, latent: 'sample', seed }, k);
      arrays = await readAndDispose([batch.x, mask, mean, std]);
      if (file) writeSpread(file, arrays[2], arrays[3]);
    }
    batch.y.dispose();
    onBatch(arrays, start, idx.length);
  }
}

/** The hole values of K completions of each of some faces (the calibration measures' input). */
async function holeSpread(model: Vae, checkpoint: string, data: FaceDataset, indices: number[], cols: number[], spec: ExperimentSpec, steps: number, offset: number): Promise<HoleValues[]> {
  const faces: HoleValues[] = [];
  await forEachSpreadBatch(model, checkpoint, data, indices, cols, spec, steps, offset, spec.evaluation.uncertaintySamples, ([xs, ms, mus, sds], _, n) => faces.push(...holeValues(xs, ms, mus, sds, n)));
  return faces;
}

/**
 * How far to trust each filled pixel: for each trained model, K completions of the held-out faces
 * with the Gibbs chain and with a single decode (z ~ q both), the per-pixel std against the actual
 * error — rank correlation per face, coverage at ±0.5, 1, 2σ, ECE, sparsification — and a single σ
 * scale and the error model fitted on up to UNCERTAINTY_FIT_FACES validation faces, applied to the test faces.
 */
export async function uncertaintyStage(spec: ExperimentSpec, data: FaceDataset, r: Run, p: Paths, log: (m: string) => void): Promise<UncertaintyRow[]> {
  const file = path.join(p.logs, `uncertainty-${r.name}.json`);
  const images = Math.min(spec.evaluation.images ?? data.splits.test.length, data.splits.test.length);
  const fitImages = Math.min(images, data.splits.val.length, UNCERTAINTY_FIT_FACES);
  const stamp = { data: dataIdentity(data), checkpoint: checkpointStamp(r.runDir), images, fitImages, k: spec.evaluation.uncertaintySamples, steps: spec.completion.steps, mask: spec.evaluation.mask, seed: spec.train.seed };
  if (upToDate(file, stamp)) return (JSON.parse(fs.readFileSync(file, 'utf8')) as { rows: UncertaintyRow[] }).rows;
  const { model, meta } = loadTrainedModel(r.runDir);
  try {
    const cols = attributeIndices(data.attributeNames, meta.model.attributes);
    const rows: UncertaintyRow[] = [];
    const methods = (meta.model.decoderSeesObserved ? [['single', 1]] : [['chain', spec.completion.steps], ['single', 1]]) as ['chain' | 'single', number][];
    for (const [method, steps] of methods) {
      const valFaces = await holeSpread(model, stamp.checkpoint, data, data.splits.val.slice(0, fitImages), cols, spec, steps, 100_000);
      const testFaces = await holeSpread(model, stamp.checkpoint, data, data.splits.test.slice(0, images), cols, spec, steps, 0);
      const test = poolHoles(testFaces);
      const scale = fitScale(poolHoles(valFaces));
      const errorModel = fitErrorModel(valFaces, data.preprocess.size ** 2 * 3);
      const seed = subSeed(spec.train.seed, `ideal-${method}`);
      const row: UncertaintyRow = {
        method,
        steps,
        ...sigmaScores(testFaces, seed),
        scale,
        scaledEce: expectedCalibrationError(test, scale),
        scaledCoverage: reliabilityDiagram(test, [0.5, 1, 2], scale),
        errorModel: rounded(errorModel),
        calibrated: sigmaScores(testFaces.map((f) => withErrorModel(errorModel, f)), seed),
      };
      rows.push(row);
      const ratio = (t: SigmaScores) => (t.test.sparsification.modelArea / t.test.sparsification.oracleArea).toFixed(2);
      log(`[vii] uncertainty ${r.row} (${method}, K = ${spec.evaluation.uncertaintySamples}, ${images} test faces, fitted on ${fitImages} validation faces): rank correlation ${row.spearmanPerFace.toFixed(3)} → ${row.calibrated.spearmanPerFace.toFixed(3)} with the error model, ECE ${row.test.ece.toFixed(3)} → ${row.scaledEce.toFixed(3)} with σ × ${scale.toFixed(2)} → ${row.calibrated.test.ece.toFixed(3)} with the error model, sparsification ${ratio(row)}× → ${ratio(row.calibrated)}× the oracle's (an ideal σ of that spread: ${row.calibrated.ideal.sparsificationRatio.toFixed(2)}×)`);
    }
    writeJsonAtomic(file, { stamp, rows });
    // The chain's error model as `vii complete --uncertainty` reads it (copy it into a model folder as error-model.json).
    const chain = rows.find((row) => row.method === 'chain') ?? rows[0];
    writeJsonAtomic(path.join(p.logs, `error-model-${r.name}.json`), { fittedOn: { run: r.name, faces: fitImages, split: 'val', k: spec.evaluation.uncertaintySamples, method: chain.method, steps: chain.steps, mask: spec.evaluation.mask, stage: path.basename(file) }, errorModel: chain.errorModel });
    return rows;
  } finally {
    model.dispose();
  }
}

/** The uncertainty stage's table: per model and completion method, the raw std and the error model's σ. */
export function uncertaintyTable(results: Record<string, UncertaintyRow[]>, k: number): ResultTable {
  const cells = (t: SigmaScores, scale: number, scaledEce: number): Cell[] => [
    t.spearmanPerFace,
    ...t.test.coverage.map((c) => c.observed),
    t.test.ece,
    t.test.sparsification.modelArea / t.test.sparsification.oracleArea,
    t.ideal.spearmanPerFace,
    t.ideal.sparsificationRatio,
    scale,
    scaledEce,
  ];
  return {
    caption:
      `Calibration of a completion's per-pixel σ on held-out test faces' holes, K = ${k} completions (z ~ q). "std": the completions' std; "error model": log σ fitted on up to ${UNCERTAINTY_FIT_FACES} validation faces from the std, the mean's gradient and a position prior (metrics/errorModel.ts). ` +
      `Rank corr.: Spearman of σ and |error| per face, averaged. ±kσ: share of true values within (Gaussian 0.383 / 0.683 / 0.954). Sparsification: the area under the mean error left as the most uncertain pixels are removed, over the oracle's (which removes the largest errors first; 1 = the oracle). ` +
      `Ideal: the same σ with truths drawn from N(mean, σ²), the most a σ of that spread can score. σ scale: fitted on the validation faces (likelihood); ECE scaled: on the test faces with it.`,
    columns: ['rank corr.', '±0.5σ', '±1σ', '±2σ', 'ECE', 'sparsification ÷ oracle', 'ideal rank corr.', 'ideal sparsification ÷ oracle', 'σ scale', 'ECE scaled'],
    digits: [3, 3, 3, 3, 3, 2, 3, 2, 2, 3],
    rows: Object.entries(results).flatMap(([name, rows]) =>
      rows.flatMap((u) => {
        const method = u.method === 'chain' ? `Gibbs, ${u.steps} steps` : 'single decode';
        return [
          { name: `${name} (${method}): std`, cells: cells(u, u.scale, u.scaledEce) },
          { name: `${name} (${method}): error model`, cells: cells(u.calibrated, u.errorModel.scale, u.calibrated.test.ece) },
        ];
      }),
    ),
  };
}

export function writeSummary(spec: ExperimentSpec, o: ExperimentOutputs, p: Paths): string {
  const lines = [`# ${spec.name}`, '', `Spec: \`${path.join(p.logs, 'spec.json')}\` (runs under \`${spec.out.runs}\`).`, ''];
  if (Object.keys(o.chains).length) {
    lines.push(`## Gibbs chain (masked L1 after step 1 → ${spec.completion.steps}, ${spec.evaluation.chainImages} held-out faces)`, '', '| model | run | z = μ | z ~ q |', '|---|---|---|---|');
    for (const r of o.runs) if (o.chains[r.name]) lines.push(`| ${r.row} | \`${r.name}\` | ${chainCell(o.chains[r.name].mean)} | ${chainCell(o.chains[r.name].sample)} |`);
    lines.push('');
  }
  if (o.table && fs.existsSync(o.table)) lines.push('## Table 1', '', fs.readFileSync(o.table, 'utf8'), '');
  if (Object.keys(o.control).length) lines.push('## Attribute control', '', tableMarkdown(controlTable(o.control, spec.evaluation.sweepAttributes)), '');
  if (Object.keys(o.uncertainty).length) lines.push('## Uncertainty', '', tableMarkdown(uncertaintyTable(o.uncertainty, spec.evaluation.uncertaintySamples)), '', ...(o.uncertaintyNet ? [tableMarkdown(o.uncertaintyNet), ''] : []), ...o.uncertaintyFigures.map((f) => `![${path.basename(f, '.png')}](${path.relative(path.dirname(p.summary), f)})`), '');
  for (const c of o.compared) lines.push(`## ${c.pair.join(' | ')}`, '', fs.readFileSync(c.table, 'utf8'), '', ...(c.pick ? [`Picked: **${c.pick.name}** (${c.pick.rule}).`, ''] : []), ...c.figures.map((f) => `![${path.basename(f, '.png')}](${path.relative(path.dirname(p.summary), f)})`), '');
  writeFileAtomic(p.summary, lines.join('\n'));
  return p.summary;
}

/** "0.2831 → 0.1335", or with the best step when the chain is best in between: "0.2831 → 0.1335 (best 0.1160 at t = 4)". */
export function chainCell(values: number[]): string {
  const best = values.reduce((b, v, i) => (v < values[b] ? i : b), 0);
  const ends = `${values[0].toFixed(4)} → ${values[values.length - 1].toFixed(4)}`;
  return best === 0 || best === values.length - 1 ? ends : `${ends} (best ${values[best].toFixed(4)} at t = ${best + 1})`;
}
