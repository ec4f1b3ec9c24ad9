// The trained models that ship in models/ (float16, inference only): they load by name, their
// float16 weights reproduce the float32 checkpoint's completions, and (with ../shared, so in CI)
// they score on held-out faces what their cards say.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/lib/backend/selectBackend';
import { exportShippedModel, MODELS_DIR, readCard, referenceCompletion, shippedModelDir } from '../src/lib/weights/shippedModel';
import { shippedModelScores } from '../src/lib/experiments/shippedScores';
import { loadTrainedModel } from '../src/lib/weights/loadModel';
import { createTrainingRun, disposeRun, trainEpochs } from '../src/lib/training/trainer';
import { completeFolder } from '../src/lib/experiments/completeFolder';
import { writeSyntheticFaces } from '../src/lib/data/syntheticFaces';
import { tinyFaces, tinyModel, tinyTrain } from './helpers/tinyData';
import { sharedCelebaSkip, tempDir } from './helpers/fixtures';

const ready = selectBackend({ quiet: true });
const shipped = fs.existsSync(MODELS_DIR) ? fs.readdirSync(MODELS_DIR).filter((n) => fs.existsSync(path.join(MODELS_DIR, n, 'card.json'))) : [];

const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

test('export → load: float16 weights are the float32 ones to half precision, and the folder is a checkpoint every command takes', async () => {
  await ready;
  const data = await tinyFaces(48);
  const runDir = tempDir();
  const run = await createTrainingRun({ model: tinyModel('vae-partial'), train: tinyTrain({ stepsPerEpoch: 3 }), data, runDir });
  await trainEpochs(run);
  const out = path.join(tempDir(), 'tiny-model');
  const card = await exportShippedModel(runDir, out, { name: 'tiny', row: 'r', description: 'd', log: 'l', data: 'x', metrics: {}, evaluation: 'e', reference: { seed: 3, count: 2, mask: 'centre:0.5', steps: 2 } });
  assert.equal(card.source.step, 3);
  const loaded = loadTrainedModel(out);
  const [w32, w16] = [run.model.decoder.getWeights(), loaded.model.decoder.getWeights()];
  w32.forEach((w, i) => {
    const [a, b] = [w.dataSync(), w16[i].dataSync()];
    const scale = Math.max(...Array.from(a, Math.abs), 1e-3);
    assert.ok(maxAbs(a, b) <= 1e-3 * scale, `decoder weight ${i}: float16 differs by ${maxAbs(a, b)} (scale ${scale})`);
  });
  // Half the bytes of the float32 checkpoint's weights.
  const f32 = fs.statSync(path.join(runDir, fs.readFileSync(path.join(runDir, 'latest.json'), 'utf8').match(/ckpt-\d+/)![0], 'weights.bin')).size;
  assert.equal(fs.statSync(path.join(out, 'weights.bin')).size, f32 / 2);
  assert.ok(!fs.existsSync(path.join(out, 'optimizer.bin')), 'inference only: no Adam state');
  loaded.model.dispose();
  disposeRun(run);
});

test('every shipped model: loads by name, and its float16 completions of the generated reference inputs match the float32 checkpoint\'s', { skip: shipped.length ? false : 'models/ holds no shipped model yet' }, async () => {
  await ready;
  for (const name of shipped) {
    const dir = shippedModelDir(name);
    const card = readCard(dir);
    assert.equal(card.name, name);
    const { model } = loadTrainedModel(dir);
    const got = referenceCompletion(model, card.reference);
    const expected = new Float32Array(fs.readFileSync(path.join(dir, 'reference.bin')).buffer.slice(0));
    const values = got.dataSync();
    assert.equal(values.length, expected.length, `${name}: reference size`);
    const err = maxAbs(values, expected);
    assert.ok(err < 0.02, `${name}: float16 completion differs from the float32 checkpoint's by ${err}`);
    tf.dispose(got);
    model.dispose();
  }
  const total = shipped.flatMap((n) => fs.readdirSync(path.join(MODELS_DIR, n)).map((f) => fs.statSync(path.join(MODELS_DIR, n, f)).size)).reduce((a, b) => a + b, 0);
  // Seven float16 models of 5.5–6 MiB each (the seventh, cropped-no-attr-resize, the sharp model's parent, on 2026-12-05).
  assert.ok(total <= 44 * 2 ** 20, `models/ is ${(total / 2 ** 20).toFixed(1)} MiB, more than 44`);
});

test('every shipped model scores on held-out CelebA faces what its card says', { skip: !shipped.length ? 'models/ holds no shipped model yet' : sharedCelebaSkip }, async () => {
  await ready;
  for (const name of shipped) {
    const card = readCard(shippedModelDir(name));
    const scores = await shippedModelScores(shippedModelDir(name));
    for (const [metric, value] of Object.entries(card.metrics)) assert.ok(Math.abs(scores[metric] - value) < 1e-5, `${name} ${metric}: card ${value}, measured ${scores[metric]}`);
  }
});

test('the README example: vii complete --model NAME completes a folder of photos', { skip: shipped.includes('cropped-no-attr') ? false : 'cropped-no-attr is not shipped yet' }, async () => {
  await ready;
  const faces = tempDir();
  await writeSyntheticFaces({ dir: faces, count: 3, seed: 9 });
  const images = path.join(faces, 'img_align_celeba');
  const out = tempDir();
  const r = await completeFolder({ checkpoint: shippedModelDir('cropped-no-attr'), images, out, log: () => {}, onLine: () => {} });
  assert.equal(r.completed.length, 3);
  assert.equal(fs.readdirSync(path.join(out, 'completed')).length, 3);
});

test('a shipped fine-tune names its parent by a path inside the project whose weights ship too (an absolute training-time path would name another model on every other clone)', { skip: !shipped.length ? 'models/ holds no shipped model yet' : false }, () => {
  const root = path.resolve(MODELS_DIR, '..');
  let fineTunes = 0;
  for (const name of shipped) {
    const parent = (JSON.parse(fs.readFileSync(path.join(MODELS_DIR, name, 'config.json'), 'utf8')) as { train: { initFrom?: { checkpoint: string } } }).train.initFrom;
    if (!parent) continue;
    fineTunes++;
    assert.ok(!path.isAbsolute(parent.checkpoint), `${name}: parent ${parent.checkpoint} is absolute`);
    assert.ok(fs.existsSync(path.join(root, parent.checkpoint, 'weights.json')), `${name}: parent ${parent.checkpoint} is not shipped`);
    assert.notEqual(path.resolve(root, parent.checkpoint), path.join(MODELS_DIR, name), `${name} is its own parent`);
  }
  assert.ok(fineTunes >= 1, 'cropped-no-attr-sharp is a fine-tune');
});
