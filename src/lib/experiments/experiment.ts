import * as fs from 'fs';
import * as tf from '@tensorflow/tfjs';
import * as path from 'path';
import { loadFaces } from '../data/dataSource';
import { CELEBA_CROP_FRACTION } from '../data/preprocess';
import { batchesPerEpoch, gatherBatch, type FaceDataset } from '../data/faceDataset';
import { attributeIndices } from '../data/attributes';
import { makeMaskBatch, parseMaskSpec, validateMaskForSize } from '../masks';
import { completeSamples } from '../completion';
import { calibrationSummary } from '../metrics/calibration';
import { ERROR_MODEL_FILE, readErrorModel, type ErrorModel } from '../metrics/errorModel';
import { uncertaintyMaps } from './uncertaintyMaps';
import { sigmaNetStage, sigmaNetTable, type SigmaNetResult } from './sigmaNetStage';
import { readSigmaNetFiles, SIGMA_NET_FILE, type SigmaNetModel } from '../metrics/sigmaNet';
import { gridPng } from '../plots/imageGrid';
import { configRow, DEFAULT_MODEL, lambdaTag, modelConfig, type TrainConfig } from '../models/config';
import { writeJsonAtomic } from '../io/atomicWrite';
import { disposeRun } from '../training/trainer';
import { MODELS_DIR } from '../weights/shippedModel';
import type { ResultTable } from '../export/table';
import { trainModel } from './trainModel';
import { chainFigure, chainStage, compareStage, uncertaintyStage, uncertaintyTable, experimentPaths, fileLogger, sweepStage, table1Stage, writeSummary, type ExperimentOutputs, type Paths, type Run } from './experimentStages';
import { loadSpec, resolvedModel, runFolderName, settingsHash, specFrom, trainIdentity, SpecError, type ExperimentSpec, type Stage } from '../spec/experimentSpec';
import type { AttributeControl } from './attributeControl';
import { comparisonGrids } from './fineTune';
import { findCheckpoint } from '../models/checkpoint';
import { parseHistoryCsv } from '../training/history';
import { loadTrainedModel } from '../weights/loadModel';
import { lossCurves, reliabilityCurves, sparsificationCurves, type Figure } from '../plots/plotly';
import { exportFigure, exportGrid, findBrowser } from '../plots/exportFigure';

/** Where a model's trained weights are: its own run folder, a shipped model of the same settings, or nowhere yet. */
export type RunSource = 'run' | 'shipped' | 'untrained';

export interface ExperimentRun extends Run {
  source: RunSource;
  /** Epochs of the newest checkpoint (a shipped model: its card's), of `epochs`. */
  epochsDone: number;
  epochs: number;
}

/** Faces already loaded in this process, by what fixes them (a notebook's rerun reuses them). */
const faceCache = new Map<string, Promise<FaceDataset & { origin: string }>>();

/** The settings hash of each shipped model (models/NAME/config.json), read once. */
let shipped: Map<string, string> | null = null;
function shippedBySettings(): Map<string, string> {
  if (shipped) return shipped;
  shipped = new Map();
  if (!fs.existsSync(MODELS_DIR)) return shipped;
  for (const name of fs.readdirSync(MODELS_DIR).sort()) {
    const file = path.join(MODELS_DIR, name, 'config.json');
    if (!fs.existsSync(file)) continue;
    const c = JSON.parse(fs.readFileSync(file, 'utf8')) as { model: { name: string }; train: TrainConfig };
    // The same hash as runName's: a shipped model is "the same model" when every setting that fixes its weights agrees (a fine-tune's parent by its weights' digest).
    shipped.set(settingsHash({ model: modelConfig(c.model.name, c.model as never), train: trainIdentity(c.train), limit: null }), path.join(MODELS_DIR, name));
  }
  return shipped;
}

function epochsOf(dir: string): number {
  const latest = path.join(dir, 'latest.json');
  const checkpoint = fs.existsSync(latest) ? path.join(dir, (JSON.parse(fs.readFileSync(latest, 'utf8')) as { checkpoint: string }).checkpoint) : dir;
  try {
    return (JSON.parse(fs.readFileSync(path.join(checkpoint, 'config.json'), 'utf8')) as { epoch: number }).epoch;
  } catch {
    return 0;
  }
}

/** Settings a smoke run (VII_TINY=1) replaces: a few hundred 32×32 faces, two steps, small evaluations, under results/tiny/. */
export const TINY_OVERRIDES = [
  'data.size=32',
  'data.limit=300',
  'train.epochs=1',
  'train.stepsPerEpoch=2',
  'evaluation.images=30',
  'evaluation.chainImages=20',
  'evaluation.sweepSamples=10',
  'evaluation.frechet=false',
  'evaluation.judge="plain"',
  `out.runs=${JSON.stringify(path.join('results', 'tiny', 'runs'))}`,
  `out.logs=${JSON.stringify(path.join('results', 'tiny', 'logs'))}`,
  `out.figures=${JSON.stringify(path.join('results', 'tiny', 'figures'))}`,
  `out.tables=${JSON.stringify(path.join('results', 'tiny', 'table1'))}`,
];

export interface OpenOptions {
  /** Use a shipped model (models/NAME) where it has exactly an entry's settings and no run folder exists (notebooks); `vii run` trains its own. */
  useShipped?: boolean;
  /** Smoke size (TINY_OVERRIDES) after the file and overrides are checked; default: VII_TINY=1. */
  tiny?: boolean;
  log?: (m: string) => void;
}

/**
 * One experiment spec, opened: its models resolved to run folders (or shipped models), its stages
 * one call each. `vii run` calls every stage in order; a notebook calls one a cell. A stage skips
 * work already done for the same checkpoints and settings, so a rerun cell costs a file read.
 * Nothing here holds a tensor between calls: models are loaded by a stage and disposed by it.
 */
export class Experiment {
  readonly paths: Paths;
  private readonly log: (m: string) => void;

  constructor(
    readonly spec: ExperimentSpec,
    private readonly options: Omit<OpenOptions, 'tiny'> = {},
  ) {
    this.paths = experimentPaths(spec);
    this.log = options.log ?? ((m) => console.log(m));
  }

  /**
   * Opens a spec file with `vii run`'s dotted overrides (`train.epochs=2`,
   * `model.perceptual.weights.Conv1_relu=0.05`); a bad file or override throws a SpecError naming it.
   * Overrides that change results give the experiment its own output folder (NAME-HASH).
   */
  static open(file: string, overrides: string[] = [], options: OpenOptions = {}): Experiment {
    let spec = loadSpec(file, overrides);
    if (options.tiny ?? process.env.VII_TINY === '1') spec = loadSpec(file, [...overrides, ...TINY_OVERRIDES.filter((o) => !overrides.some((u) => u.split('=')[0] === o.split('=')[0]))]);
    return new Experiment(spec, options);
  }

  /** The faces (loaded once per process for the same folder, limit, size and seed). */
  data(onLine?: (l: string) => void): Promise<FaceDataset & { origin: string }> {
    const s = this.spec;
    const key = JSON.stringify([s.data.dir, s.data.limit, s.data.size, s.train.seed]);
    if (!faceCache.has(key)) {
      const loading = loadFaces({ dir: s.data.dir ?? undefined, limit: s.data.limit ?? undefined, preprocess: { size: s.data.size, cropFraction: CELEBA_CROP_FRACTION }, seed: s.train.seed, onProgress: onLine ? (d, t) => onLine(`loading faces ${d}/${t}`) : undefined });
      faceCache.set(key, loading);
      loading.catch(() => faceCache.delete(key));
    }
    return faceCache.get(key)!;
  }

  /** Every model of the spec: its run name (settings hash), row, and where its weights are. */
  runs(): ExperimentRun[] {
    const spec = this.spec;
    const runs = spec.models.map((entry) => {
      const resolved = resolvedModel(spec, entry);
      const name = runFolderName(resolved.model, resolved.train, spec.data.limit);
      const own = path.join(spec.out.runs, name);
      const base = { entry, name, row: entry.row ?? configRow(resolved.model), epochs: resolved.train.epochs };
      if (fs.existsSync(path.join(own, 'latest.json'))) return { ...base, runDir: own, source: 'run' as const, epochsDone: epochsOf(own) };
      const ready = this.options.useShipped ? shippedBySettings().get(settingsHash({ model: resolved.model, train: trainIdentity(resolved.train), limit: spec.data.limit })) : undefined;
      if (ready) return { ...base, runDir: ready, source: 'shipped' as const, epochsDone: epochsOf(ready) };
      return { ...base, runDir: own, source: 'untrained' as const, epochsDone: 0 };
    });
    const rows = runs.map((r) => r.row);
    for (const r of runs) if (rows.filter((n) => n === r.row).length > 1) r.row = `${r.row} [${r.name}]`;
    return runs;
  }

  /** The models with weights to evaluate (a run folder with a checkpoint, or a shipped model). */
  trained(): ExperimentRun[] {
    return this.runs().filter((r) => r.source !== 'untrained');
  }

  /** One row per model: where its weights are and how far it is trained (trainingPlan() says what the rest would take). */
  status(): ResultTable {
    const columns = ['run (settings hash)', 'weights', 'epochs'];
    const rows = this.runs().map((r) => ({ name: r.row, cells: [r.name, r.source === 'shipped' ? `shipped: ${path.relative(process.cwd(), r.runDir)}` : r.source === 'run' ? r.runDir : 'not trained (train stage)', `${r.epochsDone}/${r.epochs}`] }));
    return { caption: `${this.spec.name}: ${this.spec.models.length} model(s) at ${this.spec.data.size}×${this.spec.data.size}`, columns, rows };
  }

  /**
   * What training the unfinished models would take here: their steps, and the median ms/step of
   * this experiment's committed training logs for the same preset (said when there is none).
   */
  async trainingPlan(): Promise<string> {
    const left = this.runs().filter((r) => r.source !== 'shipped' && r.epochsDone < r.epochs);
    if (left.length === 0) return `${this.spec.name}: every model is trained`;
    const data = await this.data();
    const lines = fs.existsSync(this.paths.logs) ? fs.readdirSync(this.paths.logs).filter((f) => f.endsWith('.log')).flatMap((f) => fs.readFileSync(path.join(this.paths.logs, f), 'utf8').split('\n')) : [];
    let seconds = 0;
    let timed = 0;
    const parts = left.map((r) => {
      const { train } = resolvedModel(this.spec, r.entry);
      const steps = (r.epochs - r.epochsDone) * (train.stepsPerEpoch ?? Math.ceil(data.splits.train.length / train.batchSize));
      const ms = lines.filter((l) => l.startsWith(`${r.entry.preset} epoch`)).map((l) => Number(/ (\d+) ms\/step$/.exec(l)?.[1])).filter((v) => v > 0).sort((a, b) => a - b);
      if (ms.length) (seconds += (steps * ms[ms.length >> 1]) / 1000), timed++;
      return `${r.row}: ${steps} steps${ms.length ? ` (≈ ${((steps * ms[ms.length >> 1]) / 60_000).toFixed(0)} min at the logged ${ms[ms.length >> 1]} ms/step)` : ''}`;
    });
    const total = timed === left.length ? ` — about ${(seconds / 3600).toFixed(1)} h here at the speed of ${this.paths.logs}/*.log` : timed ? '' : ` — no training log of this experiment in ${this.paths.logs} to time it by`;
    return `${left.length} model(s) to train${total}:\n${parts.join('\n')}\nexp.train() trains them (resumable); VII_TINY=1 opens the smoke size.`;
  }

  /**
   * Trains (or resumes) the models not finished; shipped models are not retrained. The run is
   * disposed when it ends, so its lock is released: a loaded run never holds a lock.
   */
  async train(o: { only?: number[]; onLine?: (l: string) => void; shouldStop?: () => boolean } = {}): Promise<ExperimentRun[]> {
    const data = await this.data(o.onLine);
    for (const [i, r] of this.runs().entries()) {
      if (o.only && !o.only.includes(i)) continue;
      if (r.source === 'shipped' || r.epochsDone >= r.epochs) continue;
      const { model, train } = resolvedModel(this.spec, r.entry);
      fs.mkdirSync(r.runDir, { recursive: true });
      writeJsonAtomic(path.join(r.runDir, 'spec.json'), { spec: this.spec, entry: r.entry });
      this.log(`[vii] train ${r.row}: ${r.runDir}`);
      const logLine = fileLogger(path.join(this.paths.logs, `${r.name}.log`));
      const onLine = (l: string) => (logLine(l), o.onLine?.(l));
      const run = await trainModel({ model, train, data, runDir: r.runDir, onLine, log: (m) => (logLine(m), this.log(m)), shouldStop: o.shouldStop });
      const stoppedAt = run.step;
      disposeRun(run);
      if (o.shouldStop?.()) {
        this.log(`[vii] interrupted at step ${stoppedAt} of ${r.row}; checkpoint written in ${r.runDir}; rerun the same command to resume`);
        break;
      }
    }
    return this.runs();
  }

  /** Masked L1 after every Gibbs step (z = μ and z ~ q) on the first held-out test faces, per trained model, and its figure. */
  async chain(): Promise<{ chains: ExperimentOutputs['chains']; figure: Figure; files: string[] }> {
    const data = await this.data();
    const runs = this.trained();
    const chains: ExperimentOutputs['chains'] = {};
    for (const r of runs) chains[r.name] = await chainStage(this.spec, data, r.runDir, path.join(this.paths.logs, `chain-${r.name}.json`), this.log);
    const { figure, files } = await chainFigure(this.spec, runs, chains, this.paths);
    return { chains, figure, files: runs.length ? files : [] };
  }

  /** Table 1 of the trained models on the test split; its Markdown file (CSV, LaTeX and JSON beside it). */
  async table1(): Promise<string | null> {
    const runs = this.trained();
    return runs.length ? table1Stage(this.spec, await this.data(), runs, this.paths, this.log) : null;
  }

  /** Decoder sweeps and forced completions of the attribute models, judged; their grids are in the figures folder. */
  async sweep(): Promise<Record<string, AttributeControl[]>> {
    const data = await this.data();
    const control: Record<string, AttributeControl[]> = {};
    for (const r of this.trained()) {
      const c = await sweepStage(this.spec, data, r, this.paths, this.log);
      if (c) control[r.row] = c;
    }
    return control;
  }

  /** The spec's compare groups (every model trained): a table and figures of the same faces, holes and z. */
  async compare(): Promise<ExperimentOutputs['compared']> {
    const runs = this.runs();
    const out: ExperimentOutputs['compared'] = [];
    for (const indices of this.spec.compare) {
      const group = indices.map((i) => runs[i]);
      if (group.every((r) => r.source !== 'untrained')) out.push(await compareStage(this.spec, await this.data(), group, this.paths, this.log));
      else this.log(`[vii] compare ${group.map((r) => r.row).join(' | ')}: not all trained yet`);
    }
    return out;
  }

  /** Training loss curves of the models trained here (a shipped model's history stays in its committed log). */
  async losses(): Promise<{ figure: Figure; files: string[] }> {
    const runs = this.trained().filter((r) => r.source === 'run');
    const histories = runs.map((r) => {
      const file = path.join(findCheckpoint(r.runDir) ?? r.runDir, 'history.csv');
      return { name: r.row, history: fs.existsSync(file) ? parseHistoryCsv(fs.readFileSync(file, 'utf8')) : [] };
    });
    const figure = lossCurves(histories);
    const files = runs.length && (await findBrowser()) ? await exportFigure(figure, 'losses', { spec: this.spec.name, runs: runs.map((r) => r.name) }, this.paths.figures) : [];
    return { figure, files };
  }

  /**
   * Every trained model on the same first test faces, holes and z: completions (truth, masked,
   * one row per model), reconstructions and prior samples; PNG + PDF + JSON in the figures folder,
   * named by the experiment (its settings hash when overridden).
   */
  async gallery(o: { count?: number; mask?: string } = {}): Promise<Record<'completions' | 'reconstructions' | 'samples', { png: Buffer; files: string[] }>> {
    const count = o.count ?? 8;
    const mask = o.mask ?? this.spec.evaluation.mask;
    validateMaskForSize(parseMaskSpec(mask), this.spec.data.size);
    const runs = this.trained();
    if (runs.length === 0) throw new Error(`${this.spec.name}: no trained model yet; run the train stage (or open a spec whose models ship in models/)`);
    const models = runs.map((r) => ({ name: r.row, model: loadTrainedModel(r.runDir).model }));
    try {
      const s = this.spec;
      const grids = await comparisonGrids(models, await this.data(), { count, seed: s.train.seed, mask, steps: s.completion.steps });
      const tag = mask === s.evaluation.mask ? '' : `-${mask.replace(/[^A-Za-z0-9.]+/g, '_')}`;
      const out = {} as Record<keyof typeof grids, { png: Buffer; files: string[] }>;
      for (const [kind, png] of Object.entries(grids) as [keyof typeof grids, Buffer][]) {
        const rows = kind === 'completions' ? ['truth', 'masked', ...runs.map((r) => r.row)] : kind === 'reconstructions' ? ['truth', ...runs.map((r) => r.row)] : runs.map((r) => r.row);
        out[kind] = { png, files: exportGrid(png, `gallery${tag}-${kind}`, { spec: s.name, runs: runs.map((r) => r.name), rows, faces: `first ${count} test faces`, mask, steps: s.completion.steps, seed: s.train.seed }, this.paths.figures) };
      }
      return out;
    } finally {
      for (const m of models) m.model.dispose();
    }
  }

  /**
   * K completions of the first test face per trained model (z ~ q along the chain): how much a
   * hole's fill varies. One row per model.
   */
  async diversity(k = 8): Promise<{ png: Buffer; files: string[] }> {
    const runs = this.trained();
    if (runs.length === 0) throw new Error(`${this.spec.name}: no trained model yet`);
    const s = this.spec;
    const data = await this.data();
    const rows: tf.Tensor4D[] = [];
    const mask = makeMaskBatch(parseMaskSpec(s.evaluation.mask), 1, s.data.size);
    try {
      for (const r of runs) {
        const { model } = loadTrainedModel(r.runDir);
        const batch = gatherBatch(data, data.splits.test.slice(0, 1), attributeIndices(data.attributeNames, model.config.attributes));
        const y = model.config.attributes.length ? batch.y : null;
        rows.push(...completeSamples(model, batch.x, mask, y, { steps: s.completion.steps, latent: 'sample', seed: s.train.seed }, k));
        tf.dispose([batch.x, batch.y]);
        model.dispose();
      }
      const all = tf.concat(rows) as tf.Tensor4D;
      const png = await gridPng(all, { columns: k, scale: s.data.size < 64 ? 2 : 1 });
      all.dispose();
      return { png, files: exportGrid(png, 'diversity', { spec: s.name, runs: runs.map((r) => r.name), rows: runs.map((r) => `${r.row}: ${k} samples`), face: 'first test face', mask: s.evaluation.mask, steps: s.completion.steps, seed: s.train.seed }, this.paths.figures) };
    } finally {
      tf.dispose([...rows, mask]);
    }
  }

  /**
   * A run's error model (metrics/errorModel.ts), if one was fitted: the uncertainty stage's for this
   * run, else the model folder's error-model.json (shipped models); null when neither exists.
   */
  errorModel(r: Run): ErrorModel | null {
    const values = this.spec.data.size ** 2 * 3;
    for (const file of [path.join(this.paths.logs, `error-model-${r.name}.json`), path.join(r.runDir, ERROR_MODEL_FILE)]) if (fs.existsSync(file)) return readErrorModel(file, values);
    return null;
  }

  /** A run's σ network (metrics/sigmaNet.ts): the uncertainty stage's for this run, else the model folder's; null when neither exists. The caller disposes it. */
  sigmaNet(r: Run): SigmaNetModel | null {
    for (const stem of [path.join(this.paths.logs, `sigma-net-${r.name}`), path.join(r.runDir, SIGMA_NET_FILE)]) {
      const m = readSigmaNetFiles(stem, this.spec.data.size);
      if (m) return m;
    }
    return null;
  }

  /**
   * How far to trust each filled pixel: K completions of the first test faces by one trained model
   * (z ~ q along the chain), as rows — truth, masked, their per-pixel mean, std, |truth − mean| and,
   * where the run has an error model, the calibrated σ, and where it has a σ network, the learned σ
   * (all on the same inferno scale, so a calibrated σ's row looks like the error's) — and the
   * calibration of the std (and of each σ) on those faces' holes.
   */
  async uncertainty(o: { model?: number; k?: number; count?: number } = {}): Promise<{ png: Buffer; files: string[]; calibration: ReturnType<typeof calibrationSummary>; calibrated: ReturnType<typeof calibrationSummary> | null; network: ReturnType<typeof calibrationSummary> | null }> {
    const runs = this.runs();
    const r = o.model === undefined ? this.trained()[0] : runs[o.model];
    if (!r || r.source === 'untrained') throw new Error(`${this.spec.name}: ${o.model === undefined ? 'no trained model yet' : `model ${o.model} is not trained`}`);
    const sigmaNet = this.sigmaNet(r);
    try {
      const maps = await uncertaintyMaps(this.spec, await this.data(), r.runDir, this.errorModel(r), { k: o.k ?? 16, count: o.count ?? 6, sigmaNet });
      const files = exportGrid(maps.png, `uncertainty-${r.name}`, { spec: this.spec.name, run: r.name, ...maps.config }, this.paths.figures);
      return { png: maps.png, files, calibration: maps.calibration, calibrated: maps.calibrated, network: maps.network };
    } finally {
      sigmaNet?.net.dispose();
    }
  }

  /** The experiment restricted to some of its models (its own output folder, as any other setting). */
  select(indices: number[]): Experiment {
    const bad = indices.find((i) => !Number.isInteger(i) || i < 0 || i >= this.spec.models.length);
    if (bad !== undefined) throw new SpecError(`${this.spec.name}: select(${JSON.stringify(indices)}): no model ${bad}; expected 0..${this.spec.models.length - 1}`);
    const keep = new Map(indices.map((i, j) => [i, j]));
    const compare = this.spec.compare.filter((g) => g.every((i) => keep.has(i))).map((g) => g.map((i) => keep.get(i)!));
    const spec = { ...this.spec, models: indices.map((i) => this.spec.models[i]), compare };
    return new Experiment({ ...spec, name: `${this.spec.name}-${settingsHash({ ...spec, name: undefined, stages: undefined })}` }, this.options);
  }

  /**
   * Fine-tunes model `index` with other λ_l for a few steps (a fresh Adam from its weights, no KL
   * warm-up): an experiment of two models, the parent and the fine-tune (a spec entry with
   * `train.initFrom`, so its run folder is named by its settings like any other), compared on the
   * same faces by the compare stage. Train it, then compare; the same λ and steps reload the run.
   */
  async fineTune(index: number, o: { lambdas: Record<string, number>; steps: number; net?: 'mobilenetv2' | 'vgg16'; images?: number; adversarial?: number }): Promise<Experiment> {
    const parent = this.runs()[index];
    if (!parent) throw new SpecError(`${this.spec.name}: no model ${index}; expected 0..${this.spec.models.length - 1}`);
    if (parent.source === 'untrained') throw new SpecError(`${this.spec.name}: model ${index} (${parent.row}) is not trained; train it first (or open a spec whose model ships)`);
    if (!(Number.isInteger(o.steps) && o.steps >= 1)) throw new SpecError(`fine-tune steps ${o.steps}: expected an integer ≥ 1`);
    const active = Object.values(o.lambdas).some((v) => v > 0);
    // Exactly these λ_l: a layer not named is 0 (a spec's weights merge over the defaults layer by layer).
    const resolved = resolvedModel(this.spec, parent.entry);
    const layers = Object.keys(resolved.model.perceptual.weights).concat(Object.keys(DEFAULT_MODEL.perceptual.weights));
    const perceptual = active ? { net: o.net ?? 'mobilenetv2', weights: { ...Object.fromEntries(layers.map((l) => [l, 0])), ...o.lambdas } } : { net: 'none', weights: {} };
    const base = JSON.parse(JSON.stringify(this.spec)) as ExperimentSpec;
    // `steps` steps: one short epoch, or whole epochs (as vii train --init-from counts them).
    const perEpoch = batchesPerEpoch(await this.data(), 'train', resolved.train.batchSize);
    const epochs = Math.ceil(o.steps / perEpoch);
    // λ_adv: as given (0 turns the adversarial term off), else the parent's.
    const adversarial = o.adversarial ?? resolved.model.adversarial ?? 0;
    const tuned = { ...parent.entry, model: { ...parent.entry.model, perceptual, ...(o.adversarial !== undefined ? { adversarial } : {}) }, train: { ...parent.entry.train, epochs, stepsPerEpoch: epochs === 1 ? o.steps : null, initFrom: parent.runDir }, row: `${parent.row}, fine-tuned ${epochs === 1 ? o.steps : epochs * perEpoch} steps with λ_l ${lambdaTag(o.lambdas)}${adversarial ? `, λ_adv ${adversarial}` : ''}` };
    const raw = { ...base, name: 'finetune', models: [{ ...parent.entry, row: `${parent.row} (parent)` }, tuned], compare: [[0, 1]], evaluation: { ...base.evaluation, images: o.images ?? base.evaluation.images } };
    const spec = specFrom(raw, `fine-tune of ${this.spec.name} model ${index}`);
    // Named by the parent and everything that fixes the fine-tune, so another λ never overwrites this one's figures.
    return new Experiment({ ...spec, name: `${this.spec.name}-finetune-${settingsHash({ ...spec, name: undefined, stages: undefined })}` }, this.options);
  }

  /** The uncertainty stage: each trained model's calibration (Gibbs chain and single decode), and its table. */
  async uncertaintyStage(): Promise<{ results: ExperimentOutputs['uncertainty']; table: ResultTable; netTable: ResultTable | null; figures: string[] }> {
    const data = await this.data();
    const results: ExperimentOutputs['uncertainty'] = {};
    const measured = this.spec.evaluation.uncertaintyModels;
    const runs = this.runs();
    const trained = this.trained().filter((r) => measured === null || measured.some((i) => runs[i].name === r.name));
    for (const r of trained) results[r.row] = await uncertaintyStage(this.spec, data, r, this.paths, this.log);
    // The learned σ on the same models (evaluation.sigmaNet; null: not measured).
    const net: Record<string, SigmaNetResult> = {};
    for (const r of trained) {
      const u = await sigmaNetStage(this.spec, data, r, this.paths, this.log);
      if (u) net[r.row] = u;
    }
    // Figures: reliability and sparsification of the chain's σ (std and error model) per model, and each model's maps.
    const figures: string[] = [];
    const chain = Object.entries(results).flatMap(([row, rows]) => rows.filter((u) => u.method === 'chain').flatMap((u) => [{ name: `${row}: std`, s: u }, { name: `${row}: error model`, s: u.calibrated }]));
    const k = this.spec.evaluation.uncertaintySamples;
    const config = { spec: this.spec.name, k, mask: this.spec.evaluation.mask, steps: this.spec.completion.steps, models: Object.keys(results) };
    if (chain.length && (await findBrowser())) {
      figures.push(...(await exportFigure(reliabilityCurves(chain.map((c) => ({ name: c.name, points: c.s.test.coverage }))), 'uncertainty-reliability', config, this.paths.figures, [820, 460])));
      figures.push(...(await exportFigure(sparsificationCurves(chain.map((c) => ({ name: c.name, ...c.s.test.sparsification }))), 'uncertainty-sparsification', config, this.paths.figures, [820, 460])));
    }
    for (const r of trained) {
      const sigmaNet = this.sigmaNet(r);
      try {
        const maps = await uncertaintyMaps(this.spec, data, r.runDir, this.errorModel(r), { k, count: 8, sigmaNet });
        figures.push(...exportGrid(maps.png, `uncertainty-${r.name}`, { spec: this.spec.name, run: r.name, ...maps.config }, this.paths.figures));
      } finally {
        sigmaNet?.net.dispose();
      }
    }
    return { results, table: uncertaintyTable(results, k), netTable: Object.keys(net).length ? sigmaNetTable(net) : null, figures: figures.filter((f) => f.endsWith('.png')) };
  }

  /** Every stage the spec lists, in order, and its summary (what `vii run` does). */
  async runAll(o: { shouldStop?: () => boolean; phase?: (description: string, deferToStep: boolean) => void } = {}): Promise<ExperimentOutputs> {
    const spec = this.spec;
    fs.mkdirSync(this.paths.logs, { recursive: true });
    writeJsonAtomic(path.join(this.paths.logs, 'spec.json'), spec);
    const data = await this.data();
    this.log(`[vii] ${spec.name}: ${spec.models.length} model(s), ${data.images.length} ${data.kind} faces at ${spec.data.size}×${spec.data.size}; stages ${spec.stages.join(', ')}`);
    const has = (stage: Stage) => spec.stages.includes(stage);
    if (has('train')) {
      o.phase?.('the train stage', true);
      await this.train({ shouldStop: o.shouldStop });
    }
    const outputs: ExperimentOutputs = { runs: this.runs(), chains: {}, table: null, control: {}, compared: [], chainFigure: [], uncertainty: {}, uncertaintyFigures: [], uncertaintyNet: null, summary: null };
    if (o.shouldStop?.()) return outputs;
    const untrained = this.runs().filter((r) => r.source === 'untrained');
    if (untrained.length) this.log(`[vii] not trained yet (run the train stage): ${untrained.map((r) => r.name).join(', ')}`);
    const stage = (name: string) => o.phase?.(`the ${name} stage`, false);
    if (has('chain')) stage('chain'), ({ chains: outputs.chains, files: outputs.chainFigure } = await this.chain());
    if (has('table1')) stage('table1'), (outputs.table = await this.table1());
    if (has('sweep')) stage('sweep'), (outputs.control = await this.sweep());
    if (has('compare')) stage('compare'), (outputs.compared = await this.compare());
    if (has('uncertainty')) {
      stage('uncertainty');
      const u = await this.uncertaintyStage();
      outputs.uncertainty = u.results;
      outputs.uncertaintyFigures = u.figures;
      outputs.uncertaintyNet = u.netTable;
    }
    stage('summary');
    if (has('summary')) outputs.summary = writeSummary(spec, outputs, this.paths);
    return outputs;
  }
}

/** `vii run`: every stage of a spec, training its own models (with `useShipped`, a shipped model of an entry's exact settings stands in for its training, as in the notebooks). */
export function runExperiment(spec: ExperimentSpec, log: (m: string) => void = (m) => console.log(m), o: Parameters<Experiment['runAll']>[0] & { useShipped?: boolean } = {}): Promise<ExperimentOutputs> {
  const { useShipped, ...run } = o;
  return new Experiment(spec, { useShipped: useShipped ?? false, log }).runAll(run);
}

export { SpecError };

