/**
 * The whole library on one backend, with tensor.dataSync / arraySync made to throw (they fail on
 * webgpu in Node): train a tiny masked model with a checkpoint, resume it, complete held-out faces
 * by Gibbs sampling, evaluate a Table 1 row (SSIM, PSNR, masked L1, perceptual distance on
 * MobileNetV2, attribute classifier) and draw a grid. Prints one JSON line of the numbers, so
 * test/webgpu.test.ts can compare backends. Run: VII_BACKEND=webgpu tsx backendPipeline.ts DIR
 */
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../src/lib/backend/selectBackend';
import { createTrainingRun, disposeRun, trainEpochs } from '../../src/lib/training/trainer';
import { gatherBatch } from '../../src/lib/data/faceDataset';
import { makeMaskBatch, parseMaskSpec } from '../../src/lib/masks';
import { complete } from '../../src/lib/completion';
import { evaluateRow } from '../../src/lib/experiments/evaluate';
import { attributeClassifierFor } from '../../src/lib/metrics/attributeClassifier';
import { loadMobileNetV2 } from '../../src/lib/weights/featureNet';
import { unlearnedPerceptualDistance } from '../../src/lib/metrics/lpips';
import { MOBILENET_LAYERS } from '../../src/lib/models/config';
import { gridPng } from '../../src/lib/plots/imageGrid';
import { readAndDispose } from '../../src/lib/tensorReads';
import { tinyFaces, tinyModel, tinyTrain } from './tinyData';

const forbidden = (name: string) =>
  function (this: tf.Tensor) {
    throw new Error(`${name} called on a ${this.shape} tensor: the library must read tensors with await data()`);
  };
tf.Tensor.prototype.dataSync = forbidden('dataSync') as typeof tf.Tensor.prototype.dataSync;
tf.Tensor.prototype.arraySync = forbidden('arraySync') as typeof tf.Tensor.prototype.arraySync;

async function main(): Promise<void> {
  const dir = process.argv[2];
  const backend = await selectBackend({ quiet: true });
  const faces = await tinyFaces(128);
  const train = tinyTrain({ epochs: 1, stepsPerEpoch: 3, checkpointEvery: 100, klWarmupSteps: 0 });
  const model = tinyModel('vae-partial', { trainingGibbsSteps: 1 });
  let run = await createTrainingRun({ model, train, data: faces, runDir: dir });
  await trainEpochs(run);
  disposeRun(run);
  // Resume from the checkpoint and train a second epoch.
  run = await createTrainingRun({ model, train: { ...train, epochs: 2 }, data: faces, runDir: dir });
  const resumedAt = run.step;
  await trainEpochs(run);

  const idx = faces.splits.test.slice(0, 8);
  const batch = gatherBatch(faces, idx);
  const mask = makeMaskBatch(parseMaskSpec('centre:0.5'), idx.length, 32, 0);
  const { completed, iterates } = complete(run.model, batch.x, mask, null, { method: 'gibbs', steps: 3, latent: 'mean', seed: 1 });
  const png = await gridPng(completed);
  const [completion] = await readAndDispose([tf.mean(completed)]);

  const perceptual = unlearnedPerceptualDistance(await loadMobileNetV2([...MOBILENET_LAYERS]));
  const classifier = await attributeClassifierFor(faces, { epochs: 1, seed: 0, cacheDir: dir, onLine: () => {} });
  const row = await evaluateRow('model', (x, m) => complete(run.model, x, m, null, { method: 'gibbs', steps: 2, latent: 'mean', seed: 2 }).completed, {
    data: faces, split: 'test', mask: parseMaskSpec('centre:0.5'), seed: 0, limit: 10, batchSize: 10, perceptual, classifier, diversitySamples: 0, diversityImages: 0, onLine: () => {},
  });
  tf.dispose([batch.x, batch.y, mask, completed, ...iterates]);
  perceptual.dispose();
  classifier.model.dispose();
  const losses = run.history.map((h) => h.total);
  disposeRun(run);
  console.log(JSON.stringify({ backend: backend.name, resumedAt, losses, completionMean: completion[0], pngBytes: png.length, ssim: row.ssim.mean, maskedL1: row.maskedL1.mean, pd: row.perceptual.mean, accuracy: row.attributeAccuracy }));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
