import * as tf from '@tensorflow/tfjs';
import { createRng, subSeed } from '../rng';
import type { PreprocessSpec } from './preprocess';

export type SplitName = 'train' | 'val' | 'test';

/** Preprocessed faces with their binary attributes, held as uint8 until a batch is requested. */
export interface FaceDataset {
  /** "celeba" for real data, "synthetic" for the generated faces (not CelebA results). */
  kind: 'celeba' | 'synthetic';
  root: string;
  imageDir: string;
  preprocess: PreprocessSpec;
  images: string[];
  /** [N, size, size, 3] uint8 RGB. */
  pixels: Uint8Array;
  attributeNames: string[];
  /** [N, attributeNames.length] in {0, 1}. */
  attributes: Uint8Array;
  splits: Record<SplitName, number[]>;
  partition: 'official' | 'seeded';
  skipped: { image: string; reason: string }[];
  fromCache: boolean;
}

export interface SplitFractions {
  train: number;
  val: number;
  test: number;
}

export const DEFAULT_SPLIT: SplitFractions = { train: 0.8, val: 0.1, test: 0.1 };

/** A seeded split of n items, stable for a given seed and n. */
export function seededSplit(n: number, seed: number, fractions: SplitFractions = DEFAULT_SPLIT): Record<SplitName, number[]> {
  const total = fractions.train + fractions.val + fractions.test;
  if (!(total > 0) || [fractions.train, fractions.val, fractions.test].some((f) => f < 0)) {
    throw new Error(`split fractions ${JSON.stringify(fractions)} must be non-negative and not all zero`);
  }
  const order = createRng(subSeed(seed, 'split')).shuffle(Array.from({ length: n }, (_, i) => i));
  const nTrain = Math.round((n * fractions.train) / total);
  const nVal = Math.round((n * fractions.val) / total);
  const sorted = (a: number[]) => a.sort((x, y) => x - y);
  return {
    train: sorted(order.slice(0, nTrain)),
    val: sorted(order.slice(nTrain, nTrain + nVal)),
    test: sorted(order.slice(nTrain + nVal)),
  };
}

export interface Batch {
  /** [B, size, size, 3] float32 in [0, 1]. */
  x: tf.Tensor4D;
  /** [B, attributes] float32 in {0, 1}. */
  y: tf.Tensor2D;
  indices: number[];
}

/** Gather dataset rows into tensors; the caller owns (and disposes) them. */
export function gatherBatch(ds: FaceDataset, indices: readonly number[], attributeColumns?: readonly number[]): Batch {
  const s = ds.preprocess.size;
  const per = s * s * 3;
  const px = new Float32Array(indices.length * per);
  indices.forEach((idx, b) => {
    if (idx < 0 || idx >= ds.images.length) throw new Error(`image index ${idx} out of range 0..${ds.images.length - 1}`);
    const src = ds.pixels.subarray(idx * per, (idx + 1) * per);
    const dst = b * per;
    for (let i = 0; i < per; i++) px[dst + i] = src[i] / 255;
  });
  const cols = attributeColumns ?? ds.attributeNames.map((_, i) => i);
  const na = ds.attributeNames.length;
  const attrs = new Float32Array(indices.length * cols.length);
  indices.forEach((idx, b) => cols.forEach((c, j) => (attrs[b * cols.length + j] = ds.attributes[idx * na + c])));
  return {
    x: tf.tensor4d(px, [indices.length, s, s, 3]),
    y: tf.tensor2d(attrs, [indices.length, cols.length]),
    indices: indices.slice(),
  };
}

/**
 * The batches of one epoch over a split, shuffled by (seed, epoch) so a resumed run sees the same
 * order. The last partial batch is dropped when `dropRemainder` (keeps shapes static for training).
 */
export function* epochBatches(
  ds: FaceDataset,
  split: SplitName,
  batchSize: number,
  seed: number,
  epoch: number,
  options: { dropRemainder?: boolean; attributeColumns?: readonly number[]; startBatch?: number } = {},
): Generator<Batch> {
  const order = createRng(subSeed(seed, `epoch-${epoch}`)).shuffle(ds.splits[split]);
  const count = options.dropRemainder ?? true ? Math.floor(order.length / batchSize) : Math.ceil(order.length / batchSize);
  if (count === 0) throw new Error(`split "${split}" has ${order.length} images, fewer than one batch of ${batchSize}`);
  for (let b = options.startBatch ?? 0; b < count; b++) {
    yield gatherBatch(ds, order.slice(b * batchSize, (b + 1) * batchSize), options.attributeColumns);
  }
}

export function batchesPerEpoch(ds: FaceDataset, split: SplitName, batchSize: number): number {
  return Math.floor(ds.splits[split].length / batchSize);
}
