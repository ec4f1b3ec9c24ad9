import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { writeFileAtomic, writeJsonAtomic } from '../io/atomicWrite';
import { readTensors, writeTensors, type NamedTensor } from '../io/tensorFiles';

export type { NamedTensor };
import type { ModelConfig, TrainConfig } from './config';
import { CELEBA_ATTRIBUTES } from '../data/attributes';
import type { PreprocessSpec } from '../data/preprocess';
import type { Vae } from './vae';

/**
 * A checkpoint folder: `ckpt-<step>/` subfolders (config.json, model weights, Adam state) and
 * `latest.json` naming the newest complete one. A subfolder is written under a temporary name
 * and renamed, and latest.json is replaced atomically, so a run killed at any moment leaves
 * the previous checkpoint intact.
 */
export interface CheckpointMeta {
  version: 1;
  model: ModelConfig;
  train: TrainConfig;
  preprocess: PreprocessSpec;
  /** `images`: how many faces the data set had (the first N of the folder): with the seed it fixes the split. Absent in checkpoints written before it was recorded. */
  data: { kind: string; root: string; images?: number };
  featureNet: string;
  backend: string;
  /** Steps done; the next step to run. */
  step: number;
  epoch: number;
  batchInEpoch: number;
  savedAt: string;
}

export interface LoadedCheckpoint {
  dir: string;
  meta: CheckpointMeta;
  weights: tf.NamedTensorMap;
  optimizer: NamedTensor[] | null;
}

export async function saveCheckpoint(
  dir: string,
  meta: CheckpointMeta,
  weights: NamedTensor[],
  optimizer: NamedTensor[],
  extraFiles: Record<string, string> = {},
  keep = 2,
): Promise<string> {
  fs.mkdirSync(dir, { recursive: true });
  const name = `ckpt-${String(meta.step).padStart(7, '0')}`;
  const tmp = path.join(dir, `${name}.tmp-${process.pid}`);
  const final = path.join(dir, name);
  try {
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.mkdirSync(tmp);
    fs.writeFileSync(path.join(tmp, 'config.json'), JSON.stringify(meta, null, 2));
    await writeTensors(path.join(tmp, 'weights'), weights);
    await writeTensors(path.join(tmp, 'optimizer'), optimizer);
    for (const [file, text] of Object.entries(extraFiles)) fs.writeFileSync(path.join(tmp, file), text);
    fs.rmSync(final, { recursive: true, force: true });
    fs.renameSync(tmp, final);
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    const previous = fs.existsSync(path.join(dir, 'latest.json')) ? (JSON.parse(fs.readFileSync(path.join(dir, 'latest.json'), 'utf8')) as { checkpoint: string }).checkpoint : null;
    throw new Error(`the checkpoint of step ${meta.step} could not be written to ${dir} (${(e as Error).message}); ${previous ? `the previous checkpoint ${path.join(dir, previous)} is intact` : 'there is no earlier checkpoint'}`);
  }
  writeJsonAtomic(path.join(dir, 'latest.json'), { checkpoint: name, step: meta.step });
  for (const [file, text] of Object.entries(extraFiles)) writeFileAtomic(path.join(dir, file), text);
  // Prune older checkpoints.
  const all = fs.readdirSync(dir).filter((n) => /^ckpt-\d+$/.test(n)).sort();
  for (const old of all.slice(0, Math.max(0, all.length - keep))) fs.rmSync(path.join(dir, old), { recursive: true, force: true });
  return final;
}

/**
 * Copy the newest checkpoint of a run to `runDir/<name>/` (e.g. `epoch-1`), outside the pruned
 * ckpt-* series, so an early model stays loadable next to the final one. Written atomically.
 */
export function snapshotCheckpoint(runDir: string, name: string, source = findCheckpoint(runDir)): string {
  if (!source) throw new Error(`${runDir} holds no checkpoint to keep as ${name}`);
  const final = path.join(runDir, name);
  const tmp = `${final}.tmp-${process.pid}`;
  try {
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.cpSync(source, tmp, { recursive: true });
    fs.rmSync(final, { recursive: true, force: true });
    fs.renameSync(tmp, final);
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw new Error(`could not keep ${source} as ${final} (${(e as Error).message}); the checkpoint itself is intact, and a rerun of the training command makes ${name} again`);
  }
  return final;
}

/** Whether a run folder holds any checkpoint (latest.json, or ckpt-* folders if it was lost). */
export function hasCheckpoint(runDir: string): boolean {
  return fs.existsSync(path.join(runDir, 'latest.json')) || (fs.existsSync(runDir) && fs.readdirSync(runDir).some((n) => /^ckpt-\d+$/.test(n)));
}

/** The checkpoint of the series saved at the end of `epoch` (batch 0 of the next), if still there. */
export function epochEndCheckpoint(runDir: string, epoch: number): string | null {
  for (const n of fs.readdirSync(runDir).filter((d) => /^ckpt-\d+$/.test(d))) {
    try {
      const meta = JSON.parse(fs.readFileSync(path.join(runDir, n, 'config.json'), 'utf8')) as CheckpointMeta;
      if (meta.epoch === epoch && meta.batchInEpoch === 0) return path.join(runDir, n);
    } catch {
      // an unreadable checkpoint is no candidate
    }
  }
  return null;
}

/**
 * Remove what writers killed mid-write left in a run folder: `*.tmp-PID/` checkpoint and snapshot
 * folders and `*.tmp` files. Only the holder of the run lock calls it, so no live writer owns them.
 */
export function removeOrphans(runDir: string, warn: (m: string) => void = (m) => console.warn(m)): void {
  if (!fs.existsSync(runDir)) return;
  const orphans = fs.readdirSync(runDir).filter((n) => /\.tmp-\d+$/.test(n) || /\.tmp$/.test(n));
  for (const n of orphans) fs.rmSync(path.join(runDir, n), { recursive: true, force: true });
  if (orphans.length) warn(`[vii] removed ${orphans.length} unfinished write(s) left by an interrupted run in ${runDir}: ${orphans.join(', ')}`);
}

/** The newest checkpoint under `dir` (a run folder or a ckpt-* folder itself), or null if none. */
export function findCheckpoint(dir: string): string | null {
  if (fs.existsSync(path.join(dir, 'config.json')) && fs.existsSync(path.join(dir, 'weights.bin'))) return dir;
  const latest = path.join(dir, 'latest.json');
  if (!fs.existsSync(latest)) return null;
  const { checkpoint } = JSON.parse(fs.readFileSync(latest, 'utf8')) as { checkpoint: string };
  const found = path.join(dir, checkpoint);
  if (!fs.existsSync(path.join(found, 'config.json'))) throw new Error(`${latest} names ${checkpoint}, which is missing or incomplete`);
  return found;
}

function loadFolder(dir: string, optimizer: boolean): LoadedCheckpoint {
  const configFile = path.join(dir, 'config.json');
  if (!fs.existsSync(configFile)) throw new Error(`${configFile} is missing (an incomplete checkpoint)`);
  let meta: CheckpointMeta;
  try {
    meta = JSON.parse(fs.readFileSync(configFile, 'utf8')) as CheckpointMeta;
  } catch (e) {
    throw new Error(`${configFile}: not valid JSON (${(e as Error).message})`);
  }
  if (meta.version !== 1) throw new Error(`${configFile}: checkpoint version ${meta.version} is not supported`);
  // Names from a shared folder reach pages and tables: only CelebA's 40 attribute names pass.
  const attributes: unknown = meta.model?.attributes;
  if (!Array.isArray(attributes)) throw new Error(`${configFile}: model.attributes is missing; expected a list of CelebA attribute names`);
  const unknown = attributes.find((a) => !(CELEBA_ATTRIBUTES as readonly unknown[]).includes(a));
  if (unknown !== undefined) throw new Error(`${configFile}: unknown attribute ${JSON.stringify(String(unknown).slice(0, 40))}; expected CelebA's 40 attribute names`);
  const weights: tf.NamedTensorMap = {};
  for (const { name, tensor } of readTensors(path.join(dir, 'weights'))) weights[name] = tensor;
  let opt: NamedTensor[] | null = null;
  try {
    opt = optimizer ? readTensors(path.join(dir, 'optimizer')) : null;
  } catch (e) {
    tf.dispose(Object.values(weights));
    throw e;
  }
  return { dir, meta, weights, optimizer: opt };
}

/**
 * A checkpoint folder (strict: any damage is an error naming the file), or the newest readable
 * checkpoint of a run folder: the one latest.json names, else, with a warning saying why, the
 * newest older ckpt-* that reads back intact. Never a silently damaged model.
 */
export function loadCheckpoint(dirOrRun: string, options: { optimizer?: boolean; warn?: (message: string) => void } = {}): LoadedCheckpoint {
  if (!fs.existsSync(dirOrRun)) throw new Error(`checkpoint ${dirOrRun} does not exist`);
  if (!fs.statSync(dirOrRun).isDirectory()) throw new Error(`checkpoint ${dirOrRun} is a file; expected a run folder or a checkpoint folder (config.json + weights)`);
  const optimizer = options.optimizer !== false;
  if (fs.existsSync(path.join(dirOrRun, 'config.json'))) return loadFolder(dirOrRun, optimizer);
  const warn = options.warn ?? ((m: string) => console.warn(m));
  const latestFile = path.join(dirOrRun, 'latest.json');
  const candidates: string[] = [];
  const problems: string[] = [];
  if (fs.existsSync(latestFile)) {
    try {
      candidates.push((JSON.parse(fs.readFileSync(latestFile, 'utf8')) as { checkpoint: string }).checkpoint);
    } catch (e) {
      problems.push(`${latestFile}: not valid JSON (${(e as Error).message})`);
    }
  }
  const series = fs.readdirSync(dirOrRun).filter((n) => /^ckpt-\d+$/.test(n)).sort().reverse();
  if (!fs.existsSync(latestFile) && series.length) problems.push(`${latestFile} is missing`);
  candidates.push(...series.filter((n) => n !== candidates[0]));
  if (candidates.length === 0) throw new Error(`${dirOrRun} holds no checkpoint (expected latest.json or config.json + weights.bin)`);
  for (const name of candidates) {
    const dir = path.join(dirOrRun, name);
    try {
      if (!fs.existsSync(dir)) throw new Error(`${latestFile} names ${name}, which is missing`);
      const loaded = loadFolder(dir, optimizer);
      if (problems.length) warn(`[vii] warning: ${problems.join('; ')}; using the older checkpoint ${dir} (step ${loaded.meta.step})`);
      return loaded;
    } catch (e) {
      problems.push((e as Error).message);
    }
  }
  throw new Error(`${dirOrRun}: no readable checkpoint: ${problems.join('; ')}`);
}

/** Load a checkpoint's weights into a model built from the same config. */
export function setModelWeights(model: Vae, weights: tf.NamedTensorMap, source: string): void {
  for (const [part, net] of [['encoder', model.encoder], ['decoder', model.decoder]] as const) {
    const current = net.getWeights();
    const loaded = current.map((w, i) => {
      const t = weights[`${part}/${i}`];
      if (!t || t.shape.join() !== w.shape.join()) throw new Error(`${source}: ${part} weight ${i} has shape ${t?.shape ?? 'missing'}, the model expects ${w.shape}`);
      return t;
    });
    net.setWeights(loaded);
  }
}
