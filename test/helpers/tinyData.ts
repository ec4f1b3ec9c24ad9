import { loadCelebA } from '../../src/lib/data/loadCelebA';
import { writeSyntheticFaces } from '../../src/lib/data/syntheticFaces';
import type { FaceDataset } from '../../src/lib/data/faceDataset';
import { modelConfig, type ModelConfig, type TrainConfig, DEFAULT_TRAIN } from '../../src/lib/models/config';
import { tempDir, SHARED_CELEBA, sharedCelebaSkip } from './fixtures';

/** A small data set at 32×32: real faces from ../shared/celeba when present, else generated ones. */
export async function tinyFaces(count = 48): Promise<FaceDataset> {
  if (!sharedCelebaSkip) return loadCelebA({ dir: SHARED_CELEBA, limit: count, preprocess: { size: 32, cropFraction: 148 / 178 }, cacheDir: null });
  const dir = tempDir();
  await writeSyntheticFaces({ dir, count, seed: 1 });
  return loadCelebA({ dir, preprocess: { size: 32, cropFraction: 148 / 178 }, cacheDir: null, kind: 'synthetic' });
}

/** A Table 1 preset shrunk for tests: narrow layers, small latent, no perceptual net unless asked. */
export function tinyModel(preset: string, overrides: Partial<ModelConfig> = {}): ModelConfig {
  return modelConfig(preset, { imageSize: 32, channels: [8, 16, 32], latentDim: 8, perceptual: { net: 'none', weights: {} }, ...overrides });
}

export function tinyTrain(overrides: Partial<TrainConfig> = {}): TrainConfig {
  return { ...DEFAULT_TRAIN, epochs: 1, batchSize: 8, learningRate: 2e-3, stepsPerEpoch: 3, checkpointEvery: 2, ...overrides };
}
