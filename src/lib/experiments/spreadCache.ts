import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { writeFileAtomic } from '../io/atomicWrite';
import { canonicalJson } from '../spec/experimentSpec';

/**
 * A disk cache of K completions' per-pixel mean and std for a batch of faces. The uncertainty stage
 * and the σ network measure the same completions of the same validation and test faces (one
 * loop draws them: experimentStages.forEachSpreadBatch), and a σ network retrained with other
 * settings reads the same training faces' completions again: drawing them is most of either
 * stage's time (~10 min per 64×64 model for 1,200 faces at K = 16 on 2 cores), reading them back a
 * second. The key hashes everything the completions depend on — the checkpoint, the data, the face
 * indices, the mask and its seed, K, the chain's steps and the seed — so any change misses.
 *
 * File: raw little-endian float32, the batch's mean [n, S, S, 3] then its std; a file of another
 * length (torn by a crash before the atomic rename could not leave one, but a foreign file can) is
 * ignored and redrawn.
 */
export interface SpreadKey {
  /** checkpointStamp of the model (a run's latest.json, or a shipped model's weights digest). */
  checkpoint: string;
  data: unknown;
  indices: number[];
  mask: string;
  maskSeed: number;
  samples: number;
  steps: number;
  seed: number;
}

/** Where a spread with this key lives under `dir`. */
export function spreadFile(dir: string, key: SpreadKey): string {
  const digest = crypto.createHash('sha256').update(canonicalJson({ v: 1, ...key })).digest('hex').slice(0, 32);
  return path.join(dir, `spread-${digest}.f32`);
}

/** The cached mean and std (each `values` floats), or null when absent or not of that length. */
export function readSpread(file: string, values: number): { mean: Float32Array; std: Float32Array } | null {
  if (!fs.existsSync(file)) return null;
  const buf = fs.readFileSync(file);
  if (buf.length !== values * 8) return null;
  const all = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length));
  return { mean: all.subarray(0, values), std: all.subarray(values) };
}

/** Store a batch's mean and std (atomically: a reader sees the whole file or none). */
export function writeSpread(file: string, mean: Float32Array, std: Float32Array): void {
  if (mean.length !== std.length) throw new Error(`writeSpread: mean has ${mean.length} values, std ${std.length}`);
  const out = new Float32Array(mean.length * 2);
  out.set(mean, 0);
  out.set(std, mean.length);
  writeFileAtomic(file, new Uint8Array(out.buffer));
}
