// The reference step of ../shared/bench/torch_vae_step.py in this project's training code: its
// architecture, batch 64, on a fixed random batch (like the peer), for the bench scripts.
import * as tf from '@tensorflow/tfjs';
import { modelConfig, DEFAULT_TRAIN, DEFAULT_PERCEPTUAL, type ModelConfig } from '../src/lib/models/config';
import { createTrainingRun, disposeRun, type TrainingRun } from '../src/lib/training/trainer';
import type { FaceDataset } from '../src/lib/data/faceDataset';

export const BATCH = 64;

/** A data set stub: the step is timed on a fixed random batch. */
function emptyData(size: number): FaceDataset {
  return { kind: 'synthetic', root: '', imageDir: '', preprocess: { size, cropFraction: 1 }, images: [], pixels: new Uint8Array(), attributeNames: [], attributes: new Uint8Array(), splits: { train: [], val: [], test: [] }, partition: 'seeded', skipped: [], fromCache: false };
}

/** The peer's architecture: 4 (64×64) or 3 (32×32) encoder convs, 4×4×256 decoder base at 64. */
function referenceModel(size: 32 | 64, perceptual: boolean, overrides: Partial<ModelConfig>): ModelConfig {
  return modelConfig('vae-complete', {
    imageSize: size,
    channels: size === 64 ? [32, 64, 128, 256] : [32, 64, 128],
    perceptual: perceptual ? DEFAULT_PERCEPTUAL : { net: 'none', weights: {} },
    ...overrides,
  });
}

export interface ReferenceRun {
  run: TrainingRun;
  x: tf.Tensor4D;
  y: tf.Tensor2D;
  dispose(): void;
}

/** A training run of the reference model (with `overrides`: a decoder or loss variant) and its fixed batch (x, no attributes y). */
export async function referenceRun(size: 32 | 64, perceptual: boolean, batch = BATCH, overrides: Partial<ModelConfig> = {}): Promise<ReferenceRun> {
  const run = await createTrainingRun({ model: referenceModel(size, perceptual, overrides), train: { ...DEFAULT_TRAIN, batchSize: batch }, data: emptyData(size), runDir: null });
  const x = tf.randomUniform([batch, size, size, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
  const y = tf.zeros([batch, 0]) as tf.Tensor2D;
  return {
    run,
    x,
    y,
    dispose() {
      tf.dispose([x, y]);
      disposeRun(run);
    },
  };
}
