import * as crypto from 'crypto';
import * as fs from 'fs';
import * as tf from '@tensorflow/tfjs';
import { Float16Array } from '@petamoriken/float16';
import { writeFileAtomic } from './atomicWrite';

export type NamedTensor = { name: string; tensor: tf.Tensor };

/** A tensor file that cannot be read back as written: names the file and what is wrong. */
export class TensorFileError extends Error {
  constructor(
    readonly file: string,
    why: string,
  ) {
    super(`${file}: ${why}`);
  }
}

/** `<file>.json` since format 2: the specs with the .bin file's length and SHA-256 (format 1: the specs alone). */
interface TensorIndex {
  format: 2;
  bytes: number;
  sha256: string;
  specs: tf.io.WeightsManifestEntry[];
}

/**
 * Tensors as `<file>.bin` (TF.js weight encoding) + `<file>.json` (specs, length, checksum), each
 * written atomically. `float16`: float32 tensors stored as IEEE half floats (TF.js' float16
 * weight quantisation, decoded back to float32 by readTensors) — half the bytes, for shipping.
 */
export async function writeTensors(file: string, tensors: NamedTensor[], options: { float16?: boolean } = {}): Promise<void> {
  const { data, specs } = options.float16 ? await encodeFloat16(tensors) : await tf.io.encodeWeights(tensors);
  const bytes = new Uint8Array(data);
  writeFileAtomic(`${file}.bin`, bytes);
  const index: TensorIndex = { format: 2, bytes: bytes.length, sha256: crypto.createHash('sha256').update(bytes).digest('hex'), specs };
  writeFileAtomic(`${file}.json`, JSON.stringify(index));
}

/**
 * The SHA-256 of `<file>.bin` as its index records it (format 2), without reading the tensors: what
 * names a tensor file's content (a shipped model, a parent checkpoint, a judge head); null for a
 * format-1 index, which carries none.
 */
export function tensorFileSha256(file: string): string | null {
  return (JSON.parse(fs.readFileSync(`${file}.json`, 'utf8')) as { sha256?: string }).sha256 ?? null;
}

/** The tensors written by writeTensors, in their saved order; the caller disposes them. Truncated or altered files are errors. */
export function readTensors(file: string): NamedTensor[] {
  for (const f of [`${file}.json`, `${file}.bin`]) if (!fs.existsSync(f)) throw new TensorFileError(f, 'missing');
  let parsed: TensorIndex | tf.io.WeightsManifestEntry[];
  try {
    parsed = JSON.parse(fs.readFileSync(`${file}.json`, 'utf8'));
  } catch (e) {
    throw new TensorFileError(`${file}.json`, `not valid JSON (${(e as Error).message})`);
  }
  const bytes = fs.readFileSync(`${file}.bin`);
  if (!Array.isArray(parsed) && typeof parsed.sha256 !== 'string') throw new TensorFileError(`${file}.json`, 'records no SHA-256 (format 2 index files carry the digest of their .bin)');
  if (!Array.isArray(parsed) && bytes.length === parsed.bytes && crypto.createHash('sha256').update(bytes).digest('hex') !== parsed.sha256) {
    throw new TensorFileError(`${file}.bin`, 'its SHA-256 does not match the one recorded when it was written (corrupted)');
  }
  return decodeTensors(parsed, bytes, file);
}

/**
 * The tensors of a `<file>.json` index (parsed) and its `.bin` bytes, lengths checked (no file
 * access: the explorer page decodes the same files in a browser). The caller disposes them.
 */
export function decodeTensors(index: unknown, bytes: Uint8Array, file: string): NamedTensor[] {
  const parsed = index as TensorIndex | tf.io.WeightsManifestEntry[];
  const specs = Array.isArray(parsed) ? parsed : parsed.specs;
  if (!Array.isArray(parsed)) {
    if (bytes.length !== parsed.bytes) throw new TensorFileError(`${file}.bin`, `${bytes.length} bytes, expected ${parsed.bytes} (truncated or overwritten)`);
  } else {
    const expected = specs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1) * 4, 0);
    if (bytes.length !== expected) throw new TensorFileError(`${file}.bin`, `${bytes.length} bytes, expected ${expected} (truncated or overwritten)`);
  }
  const bad = firstNonFinite(specs, bytes);
  if (bad) throw new TensorFileError(`${file}.bin`, `tensor ${bad} holds NaN or infinite values (a diverged or damaged model)`);
  const map = tf.io.decodeWeights(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer, specs);
  return specs.map((s) => ({ name: s.name, tensor: map[s.name] }));
}

/** The first float tensor with a NaN or ±Infinity, read from the encoded bytes (float32, or float16-quantised). */
function firstNonFinite(specs: tf.io.WeightsManifestEntry[], bytes: Uint8Array): string | null {
  let offset = 0;
  for (const s of specs) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const q = s.quantization?.dtype;
    const width = q === 'float16' ? 2 : q === 'uint8' ? 1 : q === 'uint16' ? 2 : 4;
    if (s.dtype === 'float32' && (q === undefined || q === 'float16')) {
      // An aligned copy (the section may start at any byte; a Buffer's slice would be a view of its pool).
      const section = new Uint8Array(bytes.subarray(offset, offset + n * width));
      const values = q === 'float16' ? new Float16Array(section.buffer) : new Float32Array(section.buffer);
      for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return s.name;
    }
    offset += n * width;
  }
  return null;
}

async function encodeFloat16(tensors: NamedTensor[]): Promise<{ data: ArrayBuffer; specs: tf.io.WeightsManifestEntry[] }> {
  const parts: Uint8Array[] = [];
  const specs: tf.io.WeightsManifestEntry[] = [];
  for (const { name, tensor } of tensors) {
    if (tensor.dtype !== 'float32') throw new Error(`float16 weights: ${name} is ${tensor.dtype}, not float32`);
    const half = new Float16Array((await tensor.data()) as Float32Array);
    parts.push(new Uint8Array(half.buffer, half.byteOffset, half.byteLength));
    specs.push({ name, shape: tensor.shape, dtype: 'float32', quantization: { dtype: 'float16' } });
  }
  return { data: tf.io.concatenateArrayBuffers(parts.map((p) => p.slice().buffer)), specs };
}
