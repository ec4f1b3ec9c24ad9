import * as fs from 'fs';
import { tensorFileSha256 } from '../io/tensorFiles';
import * as path from 'path';
import { createHash } from 'crypto';
import { DEFAULT_MODEL, DEFAULT_TRAIN, lambdaTag, modelConfig, TABLE1_PRESETS, type ModelConfig, type TrainConfig } from '../models/config';
import { DEFAULT_COMPLETION } from '../completion';
import { SIGMA_NET_DEFAULTS, type SigmaNetSettings } from '../metrics/sigmaNet';
import { CELEBA_ATTRIBUTES } from '../data/attributes';
import { parseMaskSpec, validateMaskForSize } from '../masks';
import { JUDGES, type JudgeName } from '../metrics/judges';
import { resolveInitFrom } from '../training/trainer';

/**
 * One experiment, as data (configs/*.json): which models, trained how, completed and evaluated
 * how, and where its outputs go. `vii run SPEC [--set KEY=VALUE …]` carries it out. Every
 * default lives in DEFAULT_SPEC (model and training defaults are models/config.ts's, the chain's
 * completion.ts's); a file or an override states only what differs.
 */
export interface ExperimentSpec {
  /** Names the summary and the table files. */
  name: string;
  data: {
    /** A CelebA folder; null: the usual search (CELEBA_DIR, data/celeba, ../shared/celeba, else synthetic faces). */
    dir: string | null;
    /** The first N faces; null: all. */
    limit: number | null;
    size: 32 | 64;
  };
  /** Model settings shared by every entry (ModelConfig's names: λ_l are `perceptual.weights`). */
  model: Partial<ModelConfig>;
  train: TrainConfig;
  /** The models: a preset, and what differs from the shared settings. */
  models: ModelEntry[];
  /** The Gibbs chain of completion, Table 1 and the sweeps (the one-shot models complete in one pass whatever `steps`). */
  completion: {
    steps: number;
    latent: 'mean' | 'sample';
    /** How far the sweeps' forced completions push the attribute (forceAttributes; 1: the training labels); null: each model's own (its card's, else 1). */
    attributeStrength: number | null;
  };
  evaluation: {
    /** The holes of Table 1, the chain and the forced completions (the CLI's mask syntax). */
    mask: string;
    /** Held-out faces of Table 1; null: the whole test split. */
    images: number | null;
    /** Held-out faces whose chain (masked L1 after every step, z = μ and z ~ q) is logged. */
    chainImages: number;
    /** Table 1's Fréchet columns (InceptionV3 features of every completion and prior sample). */
    frechet: boolean;
    /** The judge of attribute control: the pretrained InceptionV3 probes, or the small CNN (plain or class-balanced) of the older results. */
    judge: JudgeName;
    /** Attributes swept (those a model has); an entry may name its own. */
    sweepAttributes: string[];
    sweepSamples: number;
    /** Completions per face whose per-pixel std the uncertainty stage measures (K). */
    uncertaintySamples: number;
    /** The models (indices) the uncertainty stage measures; null: every trained model. */
    uncertaintyModels: number[] | null;
    /** The learned σ the uncertainty stage also trains and measures (metrics/sigmaNet.ts); null: not measured. */
    sigmaNet: SigmaNetSettings | null;
  };
  stages: Stage[];
  /** Groups of model indices (a pair, or a sweep's list) shown side by side (same faces, same z) and compared on held-out faces by the compare stage. */
  compare: number[][];
  out: { runs: string; logs: string; figures: string; tables: string };
}

export interface ModelEntry {
  preset: string;
  model?: Partial<ModelConfig>;
  /**
   * Training settings of this model that differ from the shared ones. `initFrom` (a run or
   * checkpoint folder) fine-tunes that model; the KL warm-up is then 0 unless this entry sets it
   * (as `vii train --init-from`).
   */
  train?: Partial<Omit<TrainConfig, 'initFrom'>> & { initFrom?: string };
  /** The model's row in tables (default: the paper's row name, with guidance when trained with it). */
  row?: string;
  /** Attributes this model's sweep covers (default: evaluation.sweepAttributes). */
  sweepAttributes?: string[];
}

export const STAGES = ['train', 'chain', 'table1', 'sweep', 'compare', 'uncertainty', 'summary'] as const;
/** What a spec runs when it names no stages: all but the uncertainty stage (K completions of every test face: opt in). */
export const DEFAULT_STAGES: Stage[] = STAGES.filter((s) => s !== 'uncertainty');
export type Stage = (typeof STAGES)[number];

export const DEFAULT_SPEC: ExperimentSpec = {
  name: 'experiment',
  data: { dir: null, limit: null, size: DEFAULT_MODEL.imageSize },
  model: {},
  train: DEFAULT_TRAIN,
  models: [],
  completion: { steps: DEFAULT_COMPLETION.steps, latent: DEFAULT_COMPLETION.latent, attributeStrength: null },
  evaluation: { mask: DEFAULT_MODEL.mask, images: null, chainImages: 200, frechet: true, judge: 'pretrained', sweepAttributes: ['Smiling', 'Male', 'Eyeglasses', 'Blond_Hair', 'Young'], sweepSamples: 100, uncertaintySamples: 16, uncertaintyModels: null, sigmaNet: SIGMA_NET_DEFAULTS },
  stages: DEFAULT_STAGES,
  compare: [],
  out: { runs: path.join('results', 'runs'), logs: path.join('results', 'logs'), figures: path.join('results', 'figures'), tables: path.join('results', 'table1') },
};

/** An experiment's name names folders under results/: never a path. */
const EXPERIMENT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** A bad spec file or override: one line naming the file or key and what was expected. */
export class SpecError extends Error {
  override name = 'SpecError';
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Keys whose default is null, and the type they take otherwise. */
const NULLABLE = new Map([['data.dir', 'string'], ['data.limit', 'number'], ['evaluation.images', 'number'], ['evaluation.uncertaintyModels', 'array'], ['evaluation.sigmaNet', 'object'], ['completion.attributeStrength', 'number'], ['train.stepsPerEpoch', 'number']]);
/** Free-form sub-objects, checked by modelConfig (ModelConfig overrides) rather than against a default. */
const MODEL_KEYS = new Set(Object.keys(DEFAULT_MODEL).concat(['attributeGuide', 'guidanceOn', 'upsampling', 'adversarial']));

const kind = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

/** Checks `value` against the default's shape: unknown keys and wrong types are refused by their dotted path. */
function checkShape(value: unknown, reference: unknown, where: string, source: string): void {
  if (where === 'model' || /^models\.\d+\.model$/.test(where)) {
    if (kind(value) !== 'object') throw new SpecError(`${source}: ${where} must be an object of model settings`);
    for (const k of Object.keys(value as object)) if (!MODEL_KEYS.has(k)) throw new SpecError(`${source}: unknown model setting ${where}.${k}; known: ${[...MODEL_KEYS].join(', ')}`);
    return;
  }
  // A model's own training settings are checked as the shared ones are.
  const shared = where.replace(/^models\.\d+\.train/, 'train');
  if (value === null && NULLABLE.has(shared)) return;
  if (shared === 'train.initFrom') {
    if (where === shared) throw new SpecError(`${source}: train.initFrom: a parent belongs to one model; set models.N.train.initFrom`);
    if (typeof value !== 'string') throw new SpecError(`${source}: ${where} is ${JSON.stringify(value)}; expected a run or checkpoint folder`);
    return;
  }
  const expected = NULLABLE.get(shared) ?? kind(reference);
  if (reference !== undefined && kind(value) !== expected) throw new SpecError(`${source}: ${where} is ${JSON.stringify(value)}; expected ${NULLABLE.has(where) ? `${expected} or null` : expected}`);
  if (expected === 'object') {
    const ref = reference as Record<string, unknown>;
    for (const [k, v] of Object.entries(value as object)) {
      if (!(k in ref) && !(shared === 'train' && k === 'initFrom')) throw new SpecError(`${source}: unknown key ${where ? `${where}.` : ''}${k}; known: ${Object.keys(ref).map((r) => (where ? `${where}.${r}` : r)).join(', ')}`);
      checkShape(v, ref[k], where ? `${where}.${k}` : k, source);
    }
  }
  if (where === 'models') (value as unknown[]).forEach((m, i) => checkEntry(m, `models.${i}`, source));
  if (where === 'compare') for (const group of value as unknown[]) if (!Array.isArray(group) || group.length < 2 || !group.every((i) => Number.isInteger(i))) throw new SpecError(`${source}: compare entry ${JSON.stringify(group)}; expected two or more model indices [i, j, …]`);
  if (where === 'stages') for (const s of value as unknown[]) if (!(STAGES as readonly unknown[]).includes(s)) throw new SpecError(`${source}: stage ${JSON.stringify(s)}; expected some of ${STAGES.join(', ')}`);
}

function checkEntry(entry: unknown, where: string, source: string): void {
  if (kind(entry) !== 'object') throw new SpecError(`${source}: ${where} must be { "preset": NAME, … }`);
  const e = entry as Record<string, unknown>;
  const known = ['preset', 'model', 'train', 'row', 'sweepAttributes'];
  for (const k of Object.keys(e)) if (!known.includes(k)) throw new SpecError(`${source}: unknown key ${where}.${k}; known: ${known.join(', ')}`);
  if (typeof e.preset !== 'string' || !(e.preset in TABLE1_PRESETS)) throw new SpecError(`${source}: ${where}.preset ${JSON.stringify(e.preset)}; expected one of ${Object.keys(TABLE1_PRESETS).join(', ')}`);
  if (e.model !== undefined) checkShape(e.model, {}, `${where}.model`, source);
  if (e.train !== undefined) checkShape(e.train, DEFAULT_TRAIN, `${where}.train`, source);
  if (e.row !== undefined && typeof e.row !== 'string') throw new SpecError(`${source}: ${where}.row must be a string`);
  if (e.sweepAttributes !== undefined && (!Array.isArray(e.sweepAttributes) || e.sweepAttributes.some((a) => !(CELEBA_ATTRIBUTES as readonly unknown[]).includes(a)))) throw new SpecError(`${source}: ${where}.sweepAttributes must list CelebA attribute names`);
}

/** Recursive merge of plain objects (arrays and values replace). */
function merge<T>(base: T, over: unknown): T {
  if (kind(base) !== 'object' || kind(over) !== 'object') return (over === undefined ? base : over) as T;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(over as object)) out[k] = merge(out[k], v);
  return out as T;
}

/** The spec a JSON value describes: its keys checked, the defaults filled in, every model config validated. */
export function specFrom(value: unknown, source: string): ExperimentSpec {
  checkShape(value, DEFAULT_SPEC, '', source);
  const spec = merge(DEFAULT_SPEC, value);
  if (!EXPERIMENT_NAME.test(spec.name)) throw new SpecError(`${source}: name ${JSON.stringify(spec.name.length > 60 ? `${spec.name.slice(0, 60)}…` : spec.name)}; expected a plain folder name (letters, digits, '.', '_', '-'; starting with a letter or digit; at most 64 characters)`);
  if (spec.models.length === 0) throw new SpecError(`${source}: models is empty; list at least one { "preset": NAME }`);
  for (const [i, e] of spec.models.entries()) {
    try {
      resolvedModel(spec, e);
    } catch (err) {
      throw new SpecError(`${source}: models.${i} (${e.preset}): ${(err as Error).message}`);
    }
  }
  if (!(Number.isInteger(spec.completion.steps) && spec.completion.steps >= 1)) throw new SpecError(`${source}: completion.steps ${spec.completion.steps}; expected an integer ≥ 1`);
  const strength = spec.completion.attributeStrength;
  if (strength !== null && !(typeof strength === 'number' && Number.isFinite(strength) && strength > 0)) throw new SpecError(`${source}: completion.attributeStrength ${JSON.stringify(strength)}; expected a number > 0 (1: the training labels) or null (each model's own)`);
  if (!['mean', 'sample'].includes(spec.completion.latent)) throw new SpecError(`${source}: completion.latent ${JSON.stringify(spec.completion.latent)}; expected mean or sample`);
  if (!(JUDGES as readonly string[]).includes(spec.evaluation.judge)) throw new SpecError(`${source}: evaluation.judge ${JSON.stringify(spec.evaluation.judge)}; expected ${JUDGES.join(', ')}`);
  try {
    validateMaskForSize(parseMaskSpec(spec.evaluation.mask), spec.data.size);
  } catch (e) {
    throw new SpecError(`${source}: evaluation.mask: ${(e as Error).message}`);
  }
  if (spec.data.size !== 32 && spec.data.size !== 64) throw new SpecError(`${source}: data.size ${spec.data.size}; expected 32 or 64`);
  const count = (key: string, v: number | null, nullable: boolean) => {
    if (v === null && nullable) return;
    if (!(Number.isInteger(v) && (v as number) >= 1)) throw new SpecError(`${source}: ${key} ${v}; expected an integer ≥ 1${nullable ? ' or null' : ''}`);
  };
  count('data.limit', spec.data.limit, true);
  count('evaluation.images', spec.evaluation.images, true);
  count('evaluation.chainImages', spec.evaluation.chainImages, false);
  count('evaluation.sweepSamples', spec.evaluation.sweepSamples, false);
  count('evaluation.uncertaintySamples', spec.evaluation.uncertaintySamples, false);
  const net = spec.evaluation.sigmaNet;
  if (net) {
    for (const k of ['faces', 'samples', 'epochs', 'batch', 'seed'] as const) count(`evaluation.sigmaNet.${k}`, net[k], false);
    if (net.samples < 2) throw new SpecError(`${source}: evaluation.sigmaNet.samples ${net.samples}; expected an integer ≥ 2 (a spread needs two completions)`);
    if (!(net.learningRate > 0)) throw new SpecError(`${source}: evaluation.sigmaNet.learningRate ${net.learningRate}; expected a number > 0`);
  }
  if (spec.evaluation.uncertaintySamples < 2) throw new SpecError(`${source}: evaluation.uncertaintySamples ${spec.evaluation.uncertaintySamples}; expected an integer ≥ 2 (a spread needs two completions)`);
  for (const [i, e] of [[null, spec.train] as const, ...spec.models.map((m, j) => [j, resolvedModel(spec, m).train] as const)]) {
    const at = i === null ? 'train' : `models.${i}.train`;
    for (const k of ['epochs', 'batchSize'] as const) count(`${at}.${k}`, e[k], false);
    // 0 steps an epoch would record an untrained model as having finished its epochs.
    count(`${at}.stepsPerEpoch`, e.stepsPerEpoch, true);
  }
  if (!(spec.train.learningRate > 0)) throw new SpecError(`${source}: train.learningRate ${spec.train.learningRate}; expected > 0`);
  const measured = spec.evaluation.uncertaintyModels;
  if (measured !== null && !(measured.length > 0 && measured.every((k) => Number.isInteger(k) && k >= 0 && k < spec.models.length))) throw new SpecError(`${source}: evaluation.uncertaintyModels [${measured.join(', ')}]; expected indices of models (0..${spec.models.length - 1}), or null for every trained model`);
  for (const group of spec.compare) if (!group.every((k) => k >= 0 && k < spec.models.length) || new Set(group).size !== group.length) throw new SpecError(`${source}: compare entry [${group.join(', ')}]; expected different indices of models (0..${spec.models.length - 1})`);
  return spec;
}

/** Reads a spec file (JSON); the error names the file. */
export function loadSpec(file: string, overrides: string[] = []): ExperimentSpec {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new SpecError(`${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such spec file' : `not valid JSON (${(e as Error).message})`}`);
  }
  const asWritten = raw;
  for (const o of overrides) raw = applyOverride(raw, o);
  const spec = specFrom(raw, overrides.length ? `${file} with ${overrides.join(' ')}` : file);
  if (overrides.length === 0) return spec;
  // Overrides that change what is computed get their own output folder, so a quick trial never
  // writes over the results of the settings as committed (the stages to run change nothing).
  const settings = (s: ExperimentSpec) => canonicalJson({ ...s, stages: undefined });
  let unchanged = false;
  try {
    unchanged = settings(specFrom(asWritten, file)) === settings(spec);
  } catch {
    unchanged = false;
  }
  return unchanged ? spec : { ...spec, name: `${spec.name}-${settingsHash({ ...spec, stages: undefined })}` };
}

/**
 * `KEY=VALUE` with a dotted key (`train.epochs=2`, `model.perceptual.weights.Conv1_relu=0.01`,
 * `models.0.model.attributeGuidance=40`): VALUE is read as JSON where it parses (numbers, true,
 * null, [..]) and as a string otherwise.
 */
export function applyOverride(raw: unknown, text: string): unknown {
  const at = text.indexOf('=');
  if (at <= 0) throw new SpecError(`override "${text}": expected KEY=VALUE (e.g. train.epochs=2)`);
  const keys = text.slice(0, at).split('.');
  const forbidden = keys.find((k) => k === '__proto__' || k === 'prototype' || k === 'constructor' || k === '');
  if (forbidden !== undefined) throw new SpecError(`override "${text.slice(0, 80)}": ${forbidden ? `key ${forbidden} is not a setting` : 'an empty key part'}; expected a dotted setting name (e.g. train.epochs=2)`);
  const valueText = text.slice(at + 1);
  let value: Json;
  try {
    value = JSON.parse(valueText) as Json;
  } catch {
    value = valueText;
  }
  const root = structuredClone((raw ?? {}) as Record<string, unknown>);
  let node: Record<string, unknown> = root;
  for (const [depth, k] of keys.slice(0, -1).entries()) {
    // An index past a list's end would make an entry of nothing but this key.
    if (Array.isArray(node) && !(Number(k) >= 0 && Number(k) < node.length && Number.isInteger(Number(k)))) throw new SpecError(`override "${text.slice(0, 80)}": ${keys.slice(0, depth).join('.')} has ${node.length} entries (0..${node.length - 1}); no entry ${k}`);
    if (node[k] === undefined) node[k] = {};
    if (kind(node[k]) !== 'object' && kind(node[k]) !== 'array') throw new SpecError(`override "${text}": ${k} is not an object`);
    node = node[k] as Record<string, unknown>;
  }
  node[keys[keys.length - 1]] = value;
  return root;
}

/** The full model and training configuration of one entry. */
export function resolvedModel(spec: ExperimentSpec, entry: ModelEntry): { model: ModelConfig; train: TrainConfig } {
  // Deep, so `model.perceptual.weights.Conv1_relu=0.05` keeps the other layers' λ_l (as --lambda does).
  const merged = merge(merge(merge({ ...DEFAULT_MODEL, name: entry.preset, ...TABLE1_PRESETS[entry.preset] }, spec.model), entry.model ?? {}), { imageSize: spec.data.size });
  // Without a network λ_l mean nothing: none, as `--feature-net none` gives.
  if (merged.perceptual.net === 'none') merged.perceptual = { net: 'none', weights: {} };
  return { model: modelConfig(entry.preset, merged), train: entryTrain(spec.train, entry.train) };
}

const parents = new Map<string, NonNullable<TrainConfig['initFrom']>>();

/** The shared training settings with an entry's own; a fine-tune's parent resolved to its checkpoint and step (read once). */
function entryTrain(shared: TrainConfig, own: ModelEntry['train']): TrainConfig {
  if (!own) return shared;
  const { initFrom, ...rest } = own;
  if (initFrom === undefined) return { ...shared, ...rest };
  if (!parents.has(initFrom)) parents.set(initFrom, resolveInitFrom(initFrom).initFrom);
  return { ...shared, klWarmupSteps: 0, ...rest, initFrom: parents.get(initFrom)! };
}

/**
 * The run folder of an entry: a readable stem (preset, size, active λ_l, guidance) and a short
 * hash of everything that fixes the trained weights (model, training, data limit), so changing
 * any of them trains anew and the same settings always find the same folder.
 */
export function runName(spec: ExperimentSpec, entry: ModelEntry): string {
  const { model, train } = resolvedModel(spec, entry);
  return runFolderName(model, train, spec.data.limit);
}

/** The one run-folder name (specs, notebooks, fine-tunes and `vii train`): preset, size, λ_l, guidance, upsampling, λ_adv, settings hash. */
export function runFolderName(model: ModelConfig, train: TrainConfig, limit: number | null): string {
  const g = model.attributeGuidance > 0 ? `-g${model.attributeGuidance}${model.attributeGuide === 'balanced' ? 'b' : ''}` : '';
  const sharp = `${model.upsampling ? `-${model.upsampling}` : ''}${model.adversarial ? `-adv${model.adversarial}` : ''}`;
  const lambdas = model.perceptual.net === 'none' ? 'nolambda' : lambdaTag(model.perceptual.weights);
  return `${model.name}-${model.imageSize}-${lambdas}${g}${sharp}-${settingsHash({ model, train: trainIdentity(train), limit })}`;
}

/** The training settings as they fix the weights: a parent is named by its weights' digest, not its path, so the same fine-tune is the same on every machine. */
export function trainIdentity(train: TrainConfig): unknown {
  return train.initFrom ? { ...train, initFrom: { step: train.initFrom.step, weights: parentDigest(train.initFrom.checkpoint) } } : train;
}

function parentDigest(checkpoint: string): string {
  try {
    return tensorFileSha256(path.join(checkpoint, 'weights')) ?? checkpoint;
  } catch {
    return checkpoint;
  }
}

/** 8 hex digits of the SHA-256 of the settings' canonical JSON. */
export function settingsHash(settings: unknown): string {
  return createHash('sha256').update(canonicalJson(settings)).digest('hex').slice(0, 8);
}

/** JSON with object keys sorted, so equal settings hash equally whatever their order in a file. */
export function canonicalJson(v: unknown): string {
  if (kind(v) === 'array') return `[${(v as unknown[]).map(canonicalJson).join(',')}]`;
  if (kind(v) === 'object') return `{${Object.keys(v as object).sort().filter((k) => (v as Record<string, unknown>)[k] !== undefined).map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`).join(',')}}`;
  return JSON.stringify(v);
}

/** The attributes an entry's sweep covers: its own list or the spec's, those its model has. */
export function sweepAttributes(spec: ExperimentSpec, entry: ModelEntry, model: ModelConfig): string[] {
  return (entry.sweepAttributes ?? spec.evaluation.sweepAttributes).filter((a) => model.attributes.includes(a));
}
