// The perceptual-term experiment's tools: metrics that see blur (hole sharpness, the Fréchet
// distance and its substitute), fine-tuning from a trained checkpoint (--init-from), and the quick
// comparison the λ_l sweep and notebook 01 use.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/lib/backend/selectBackend';
import { holeSharpness } from '../src/lib/metrics/sharpness';
import { frechetDistance } from '../src/lib/metrics/frechet';
import { makeMaskBatch, parseMaskSpec } from '../src/lib/masks';
import { gatherBatch } from '../src/lib/data/faceDataset';
import { createTrainingRun, disposeRun, resolveInitFrom, trainEpochs } from '../src/lib/training/trainer';
import { fineTuneConfigs, quickCompare, comparisonGrids } from '../src/lib/experiments/fineTune';
import { trainModel } from '../src/lib/experiments/trainModel';
import { batchesPerEpoch } from '../src/lib/data/faceDataset';
import { createRng } from '../src/lib/rng';
import { tinyFaces, tinyModel, tinyTrain } from './helpers/tinyData';
import { tempDir } from './helpers/fixtures';
import { pythonSkip, runPython } from './helpers/python';

const ready = selectBackend({ quiet: true });
const scriptDir = path.resolve(__dirname, 'helpers');
const read = (t: tf.Tensor) => Array.from(t.dataSync());

test('hole sharpness: 1 for the photograph, below 1 for a blurred fill, 0 for a flat one (the seam is not counted), blind to observed pixels', async () => {
  await ready;
  const faces = await tinyFaces(48);
  const { x, y } = gatherBatch(faces, [0, 1, 2, 3]);
  const mask = makeMaskBatch(parseMaskSpec('centre:0.5'), 4, 32, 0);
  const inHole = (fill: tf.Tensor4D) => tf.add(tf.mul(x, mask), tf.mul(tf.sub(1, mask), fill)) as tf.Tensor4D;
  const blurred = inHole(tf.avgPool(tf.avgPool(x, 3, 1, 'same'), 3, 1, 'same') as tf.Tensor4D);
  // A flat fill at the hole's mean colour: the step at the hole's edge is the only detail it has.
  const holeMean = tf.div(tf.sum(tf.mul(x, tf.sub(1, mask)), [1, 2], true), tf.sum(tf.sub(1, mask), [1, 2], true));
  const flat = inHole(tf.mul(tf.onesLike(x), holeMean) as tf.Tensor4D);
  read(holeSharpness(x, x, mask)).forEach((v) => assert.ok(Math.abs(v - 1) < 1e-5, `photograph: ${v}`));
  read(holeSharpness(blurred, x, mask)).forEach((v) => assert.ok(v > 0 && v < 0.7, `blurred fill: ${v}`));
  read(holeSharpness(flat, x, mask)).forEach((v) => assert.ok(Math.abs(v) < 1e-5, `flat fill: ${v} (the seam was counted?)`));
  // Noise outside the hole changes nothing (only the hole is measured).
  const noisyOutside = tf.add(blurred, tf.mul(mask, tf.randomUniform(x.shape, -0.2, 0.2, 'float32', 3))) as tf.Tensor4D;
  assert.deepEqual(read(holeSharpness(noisyOutside, x, mask)).map((v) => v.toFixed(5)), read(holeSharpness(blurred, x, mask)).map((v) => v.toFixed(5)));
  // No hole: no ratio.
  read(holeSharpness(x, x, tf.onesLike(mask) as tf.Tensor4D)).forEach((v) => assert.ok(Number.isNaN(v)));
  tf.dispose([x, y, mask, blurred, holeMean, flat, noisyOutside]);
});

function gaussianFeatures(n: number, dim: number, seed: number, shift: number, scale: number): Float32Array {
  const rng = createRng(seed);
  // Correlated features: a random mixing of independent normals, so the covariances are not diagonal.
  const mix = Array.from({ length: dim * dim }, () => rng.normal() / Math.sqrt(dim));
  const out = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    const g = Array.from({ length: dim }, () => rng.normal());
    for (let j = 0; j < dim; j++) {
      let v = shift * (j % 3);
      for (let k = 0; k < dim; k++) v += scale * mix[j * dim + k] * g[k];
      out[i * dim + j] = v;
    }
  }
  return out;
}

test('the Fréchet distance equals scipy\'s (pytorch-fid\'s formula) with more and with fewer images than dimensions', { skip: pythonSkip('scipy', 'python3-scipy') }, () => {
  const dir = tempDir();
  for (const [na, nb, dim] of [[80, 60, 24], [20, 30, 48], [40, 7, 16]]) {
    const a = gaussianFeatures(na, dim, 1, 0, 1);
    const b = gaussianFeatures(nb, dim, 2, 0.5, 1.3);
    fs.writeFileSync(path.join(dir, 'a.f32'), Buffer.from(a.buffer));
    fs.writeFileSync(path.join(dir, 'b.f32'), Buffer.from(b.buffer));
    const expected = Number(runPython([path.join(scriptDir, 'frechet_reference.py'), path.join(dir, 'a.f32'), path.join(dir, 'b.f32'), String(dim)]).trim());
    const got = frechetDistance(a, b, dim);
    assert.ok(Math.abs(got - expected) <= 1e-6 * Math.max(1, Math.abs(expected)), `${na}×${dim} vs ${nb}×${dim}: ours ${got}, scipy ${expected}`);
  }
});

test('the Fréchet distance: 0 for a set against itself, grows with a shift of the mean, refuses malformed input', () => {
  const a = gaussianFeatures(50, 12, 3, 0, 1);
  assert.ok(Math.abs(frechetDistance(a, a, 12)) < 1e-8);
  const shifted = a.map((v, i) => (i % 12 === 0 ? v + 2 : v));
  // Only the mean moved (by 2 in one coordinate): the distance is exactly ‖Δμ‖² = 4.
  assert.ok(Math.abs(frechetDistance(a, shifted, 12) - 4) < 1e-6);
  assert.throws(() => frechetDistance(a.subarray(0, 25), a, 12), /set a has 25 values, not a multiple of the dimension 12/);
  assert.throws(() => frechetDistance(a.subarray(0, 12), a, 12), /set a has 1 feature vector/);
});

test('--init-from: a fine-tune starts from the parent\'s weights with a fresh Adam, records the parent, resumes, and refuses another architecture', async () => {
  await ready;
  const data = await tinyFaces(48);
  const parentDir = tempDir();
  const parent = await createTrainingRun({ model: tinyModel('vae-partial'), train: tinyTrain({ stepsPerEpoch: 3 }), data, runDir: parentDir });
  await trainEpochs(parent);
  const parentWeights = parent.model.encoder.getWeights().map(read);
  disposeRun(parent);

  const { initFrom } = resolveInitFrom(parentDir);
  assert.equal(initFrom.step, 3);
  const model = tinyModel('vae-partial', { perceptual: { net: 'mobilenetv2', weights: { Conv1_relu: 0.05 } } });
  const childDir = tempDir();
  const child = await createTrainingRun({ model, train: tinyTrain({ stepsPerEpoch: 2, klWarmupSteps: 0, initFrom }), data, runDir: childDir });
  assert.equal(child.step, 0);
  assert.deepEqual(child.model.encoder.getWeights().map(read), parentWeights);
  await trainEpochs(child);
  assert.ok(child.history.every((r) => r.perceptual > 0), 'the fine-tune trains with its own λ');
  disposeRun(child);
  const saved = JSON.parse(fs.readFileSync(path.join(childDir, `ckpt-${'2'.padStart(7, '0')}`, 'config.json'), 'utf8'));
  assert.deepEqual(saved.train.initFrom, initFrom);
  // A rerun resumes the fine-tune (step 2), not the parent.
  const again = await createTrainingRun({ model, train: tinyTrain({ stepsPerEpoch: 2, klWarmupSteps: 0, initFrom }), data, runDir: childDir });
  assert.equal(again.step, 2);
  disposeRun(again);
  // Another latent size is another architecture: refused, naming the setting.
  await assert.rejects(
    createTrainingRun({ model: tinyModel('vae-partial', { latentDim: 4 }), train: tinyTrain({ initFrom }), data, runDir: tempDir() }),
    /--init-from .*: its model has latentDim 8, this run's 4/,
  );
  // Another attribute is another meaning of the same weights: refused too.
  await assert.rejects(createTrainingRun({ model: tinyModel('vae-complete'), train: tinyTrain({ initFrom }), data, runDir: tempDir() }), /its model has trainInput "masked", this run's "complete"/);
});

test('fineTune + quickCompare: the λ_l sweep\'s fine-tune and its blur-sensitive comparison on held-out faces', async () => {
  await ready;
  const data = await tinyFaces(60);
  const parentDir = tempDir();
  const parent = await createTrainingRun({ model: tinyModel('vae-complete'), train: tinyTrain({ stepsPerEpoch: 2 }), data, runDir: parentDir });
  await trainEpochs(parent);
  const { initFrom, meta } = resolveInitFrom(parentDir);
  const configs = fineTuneConfigs(meta, { lambdas: { Conv1_relu: 0.05, block_3_expand_relu: 0.05 }, steps: 2 }, initFrom, batchesPerEpoch(data, 'train', meta.train.batchSize));
  const tuned = await trainModel({ ...configs, data, runDir: tempDir(), log: () => {} });
  assert.equal(tuned.step, 2);
  assert.equal(tuned.train.klWarmupSteps, 0);
  assert.deepEqual(tuned.modelConfig.perceptual, { net: 'mobilenetv2', weights: { Conv1_relu: 0.05, block_3_expand_relu: 0.05 } });
  const before = tf.memory().numTensors;
  const { table, rows } = await quickCompare([{ name: 'λ = 0', model: parent.model }, { name: 'λ > 0', model: tuned.model }], data, { images: 6 });
  assert.equal(tf.memory().numTensors, before, 'quickCompare leaks no tensors');
  assert.deepEqual(table.columns, ['masked L1 ↓', 'SSIM ↑', 'PSNR (dB) ↑', 'sharpness (1 = real)', 'checkerboard (1 = real)', 'checkerboard prior', 'FD-InceptionV3 (nsfwjs) completions ↓', 'FD-InceptionV3 (nsfwjs) prior ↓', 'PD-mobilenetv2 (unlearned) ↓', 'diversity']);
  assert.doesNotMatch(table.columns.join(), /\bFID\b/);
  for (const r of rows) {
    assert.ok(r.maskedL1.mean > 0 && Number.isFinite(r.sharpness.mean) && r.frechet['FD-InceptionV3 (nsfwjs)'] > 0, JSON.stringify(r));
    assert.ok(r.checkerboard.mean > 0 && r.diversity!.mean > 0, `checkerboard ${r.checkerboard.mean}, diversity ${r.diversity?.mean}`);
    assert.equal(r.score, null);
  }
  const grids = await comparisonGrids([{ name: 'a', model: parent.model }, { name: 'b', model: tuned.model }], data, { count: 4 });
  assert.equal(tf.memory().numTensors, before, 'comparisonGrids leaks no tensors');
  for (const png of Object.values(grids)) assert.equal(png.subarray(1, 4).toString(), 'PNG');
  disposeRun(parent);
  disposeRun(tuned);
});
