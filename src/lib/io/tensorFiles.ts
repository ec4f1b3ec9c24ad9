import * as fs from 'fs';
import * as tf from '@tensorflow/tfjs';
import { writeFileAtomic } from './atomicWrite';

export type NamedTensor = { name: string; tensor: tf.Tensor };

/** Tensors as `<file>.bin` (TF.js weight encoding) + `<file>.json` (their specs), each written atomically. */
export async function writeTensors(file: string, tensors: NamedTensor[]): Promise<void> {
  const { data, specs } = await tf.io.encodeWeights(tensors);
  writeFileAtomic(`${file}.bin`, new Uint8Array(data));
  writeFileAtomic(`${file}.json`, JSON.stringify(specs));
}

/** The tensors written by writeTensors, in their saved order; the caller disposes them. */
export function readTensors(file: string): NamedTensor[] {
  const specs = JSON.parse(fs.readFileSync(`${file}.json`, 'utf8')) as tf.io.WeightsManifestEntry[];
  const bytes = fs.readFileSync(`${file}.bin`);
  const map = tf.io.decodeWeights(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length), specs);
  return specs.map((s) => ({ name: s.name, tensor: map[s.name] }));
}
