import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/lib/backend/selectBackend';
import { writeSyntheticFaces } from '../src/lib/data/syntheticFaces';
import { loadCelebA } from '../src/lib/data/loadCelebA';
import { gatherBatch } from '../src/lib/data/faceDataset';
import { collapseChecks } from '../src/lib/experiments/collapseChecks';
import { loadSpec, resolvedModel } from '../src/lib/spec/experimentSpec';
import { DEFAULT_TRAIN } from '../src/lib/models/config';
import { createTrainingRun, trainEpochs, disposeRun } from '../src/lib/training/trainer';
import { complete } from '../src/lib/completion';
import { makeMaskBatch, parseMaskSpec } from '../src/lib/masks';
import { maskedL1 } from '../src/lib/metrics/ssim';
import { meanFill } from '../src/lib/metrics/meanFill';
import { tempDir } from './helpers/fixtures';

// The default study's model (configs/study.json's vae-partial) on the synthetic faces a fresh
// clone trains on, for a short budget: the posterior must not collapse to the mean face.
test('no collapse on the synthetic faces: KL per image, distinct prior samples, completions beat mean fill', async () => {
  await selectBackend({ quiet: true });
  const dir = tempDir();
  await writeSyntheticFaces({ dir, count: 640, seed: 2 });
  const data = await loadCelebA({ dir, preprocess: { size: 32, cropFraction: 148 / 178 }, cacheDir: null, kind: 'synthetic' });
  const study = loadSpec('configs/study.json');
  const { model } = resolvedModel(study, { preset: 'vae-partial' });
  const run = await createTrainingRun({ model, train: { ...DEFAULT_TRAIN, epochs: 16, batchSize: 64, checkpointEvery: 1000 }, data, runDir: null });
  await trainEpochs(run);
  const { klPerImage, priorSpread } = await collapseChecks(run, 16, 1);
  const idx = data.splits.val.slice(0, 48);
  const batch = gatherBatch(data, idx);
  const mask = makeMaskBatch(parseMaskSpec(study.evaluation.mask), idx.length, 32);
  const completed = complete(run.model, batch.x, mask, null, { method: 'gibbs', steps: 10, latent: 'mean', seed: 0 }).completed;
  const [modelL1, fillL1] = tf.tidy(() => [tf.mean(maskedL1(completed, batch.x, mask)).dataSync()[0], tf.mean(maskedL1(meanFill(batch.x, mask), batch.x, mask)).dataSync()[0]]);
  console.log(`steps ${run.step}: KL ${klPerImage.toFixed(1)} nats/image, prior spread ${priorSpread.toFixed(4)}, masked L1 ${modelL1.toFixed(4)} vs mean fill ${fillL1.toFixed(4)}`);
  assert.ok(klPerImage > 10, `KL ${klPerImage} nats per image: the posterior collapsed`);
  assert.ok(priorSpread > 0.03, `prior samples differ by ${priorSpread} on average: they are (nearly) one face`);
  assert.ok(modelL1 < 0.8 * fillL1, `masked L1 ${modelL1} vs mean fill ${fillL1}`);
  tf.dispose([batch.x, batch.y, mask, completed]);
  disposeRun(run);
});
