import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/lib/backend/selectBackend';
import { ssim, psnr, maskedL1 } from '../src/lib/metrics/ssim';
import { gatherBatch } from '../src/lib/data/faceDataset';
import { makeMaskBatch, parseMaskSpec } from '../src/lib/masks';
import { tinyFaces } from './helpers/tinyData';
import { tempDir } from './helpers/fixtures';
import { pythonSkip, runPython } from './helpers/python';

const ready = selectBackend({ quiet: true });
const scriptDir = path.resolve(__dirname, 'helpers');

test('SSIM agrees with scikit-image to 1e-4 on real faces and degraded copies', { skip: pythonSkip('skimage', 'python3-skimage') }, async () => {
  await ready;
  const faces = await tinyFaces(48);
  const batch = gatherBatch(faces, [0, 1, 2, 3, 4, 5]);
  const other = gatherBatch(faces, [6, 7, 8, 9, 10, 11]);
  const noisy = tf.tidy(() => tf.clipByValue(tf.add(batch.x, tf.randomNormal(batch.x.shape, 0, 0.1, 'float32', 1)), 0, 1)) as tf.Tensor4D;
  const blurred = tf.tidy(() => tf.avgPool(batch.x, 3, 1, 'same')) as tf.Tensor4D;
  const dir = tempDir();
  for (const [name, b] of [['noisy', noisy], ['blurred', blurred], ['other', other.x], ['same', batch.x]] as const) {
    fs.writeFileSync(path.join(dir, 'a.f32'), Buffer.from(batch.x.dataSync().buffer));
    fs.writeFileSync(path.join(dir, 'b.f32'), Buffer.from((b.dataSync() as Float32Array).slice().buffer));
    const expected = runPython([path.join(scriptDir, 'ssim_reference.py'), path.join(dir, 'a.f32'), path.join(dir, 'b.f32'), ...batch.x.shape.map(String)]).trim().split('\n').map(Number);
    const got = Array.from(ssim(batch.x, b).dataSync());
    assert.equal(got.length, expected.length);
    got.forEach((g, i) => assert.ok(Math.abs(g - expected[i]) < 1e-4, `${name} image ${i}: ours ${g}, skimage ${expected[i]}`));
    if (name === 'same') assert.ok(got.every((g) => Math.abs(g - 1) < 1e-5));
    if (name === 'noisy') assert.ok(got.every((g) => g < 0.95));
  }
});

test('PSNR and masked L1', async () => {
  await ready;
  const a = tf.fill([2, 16, 16, 3], 0.5) as tf.Tensor4D;
  const b = tf.fill([2, 16, 16, 3], 0.6) as tf.Tensor4D;
  psnr(a, b).dataSync().forEach((v) => assert.ok(Math.abs(v - 20) < 1e-3, `psnr ${v}`));
  const mask = makeMaskBatch(parseMaskSpec('half:left'), 2, 16);
  // error only on the observed half: masked L1 must be 0
  const c = tf.tidy(() => tf.add(a, tf.mul(mask, 0.3))) as tf.Tensor4D;
  maskedL1(a, c, mask).dataSync().forEach((v) => assert.ok(Math.abs(v) < 1e-6));
  maskedL1(a, b, mask).dataSync().forEach((v) => assert.ok(Math.abs(v - 0.1) < 1e-5));
});

test('perceptual distance (LPIPS computation): 0 on identical images, symmetric, grows with noise; real-LPIPS weights load', async () => {
  await ready;
  const { loadMobileNetV2 } = await import('../src/lib/weights/featureNet');
  const { unlearnedPerceptualDistance, lpipsDistance, loadLpipsLinearWeights } = await import('../src/lib/metrics/lpips');
  const faces = await tinyFaces(48);
  const pd = unlearnedPerceptualDistance(await loadMobileNetV2(['Conv1_relu', 'block_3_expand_relu', 'block_6_expand_relu']));
  assert.doesNotMatch(pd.name, /LPIPS/);
  const x = gatherBatch(faces, [0, 1, 2, 3]).x;
  const noisy = (s: number) => tf.tidy(() => tf.clipByValue(tf.add(x, tf.randomNormal(x.shape, 0, s, 'float32', 7)), 0, 1)) as tf.Tensor4D;
  const [n1, n2] = [noisy(0.05), noisy(0.2)];
  const same = pd.distance(x, x).dataSync();
  assert.ok(same.every((v) => Math.abs(v) < 1e-6), `identical: ${same}`);
  const ab = pd.distance(x, n1).dataSync();
  const ba = pd.distance(n1, x).dataSync();
  ab.forEach((v, i) => assert.ok(Math.abs(v - ba[i]) < 1e-5 * Math.max(1, v), 'symmetric'));
  const far = pd.distance(x, n2).dataSync();
  ab.forEach((v, i) => assert.ok(v > 0 && far[i] > v, `more noise, larger distance: ${v} → ${far[i]}`));
  // The calibrated path: weights from ../shared when present, else a stand-in file of the same format.
  const shared = path.resolve(__dirname, '..', '..', 'shared', 'weights', 'lpips', 'vgg.json');
  if (fs.existsSync(shared)) assert.deepEqual(loadLpipsLinearWeights(shared).map((t) => t.shape[0]), [64, 128, 256, 512, 512]);
  const weightsFile = path.join(tempDir(), 'lin.json');
  fs.writeFileSync(weightsFile, JSON.stringify(Object.fromEntries([32, 144].map((c, i) => [`lin${i}.model.1.weight`, { shape: [1, c, 1, 1], data: Array(c).fill(0.5) }]))));
  const lin = loadLpipsLinearWeights(weightsFile);
  const net2 = await loadMobileNetV2(['Conv1_relu', 'block_3_expand_relu']);
  const unweighted = lpipsDistance((a) => net2.features(a), null, x, n1).dataSync();
  const weighted = lpipsDistance((a) => net2.features(a), lin, x, n1).dataSync();
  weighted.forEach((v, i) => assert.ok(Math.abs(v - 0.5 * unweighted[i]) < 1e-4 * unweighted[i], 'linear weights scale each channel'));
  fs.writeFileSync(weightsFile, JSON.stringify({ 'lin0.model.1.weight': { shape: [1, 3, 1, 1], data: [1, 2] } }));
  assert.throws(() => loadLpipsLinearWeights(weightsFile), /lin0\.model\.1\.weight has shape 1,3,1,1 but 2 values/);
});

test('classifier score: 1 for constant predictions, K for confident balanced ones', async () => {
  const { classifierScore } = await import('../src/lib/metrics/classifierScore');
  const K = 4;
  const constant = new Float32Array(100 * K).fill(1 / K);
  assert.ok(Math.abs(classifierScore(constant, K).mean - 1) < 1e-6);
  const confident = new Float32Array(120 * K); // splits of 12: each holds every class 3 times
  for (let i = 0; i < 120; i++) confident[i * K + (i % K)] = 1;
  const s = classifierScore(confident, K);
  assert.ok(Math.abs(s.mean - K) < 1e-4 && s.std < 1e-4, JSON.stringify(s));
  assert.throws(() => classifierScore(new Float32Array(5 * K), K), /cannot be split into 10/);
});

test('OpenCV Telea baseline fills only the hole', { skip: pythonSkip('cv2', 'python3-opencv') }, async () => {
  await ready;
  const { teleaComplete } = await import('../src/lib/metrics/telea');
  const faces = await tinyFaces(48);
  const b = gatherBatch(faces, [0, 1]);
  const mask = makeMaskBatch(parseMaskSpec('centre:0.5'), 2, 32);
  const out = await teleaComplete(b.x, mask);
  const [o, x, m] = [out.dataSync(), b.x.dataSync(), mask.dataSync()];
  let holeChanged = 0;
  for (let i = 0; i < o.length; i++) {
    if (m[Math.floor(i / 3)] === 1) assert.equal(o[i], x[i]);
    else if (Math.abs(o[i] - x[i] * 0) > 1e-3) holeChanged++;
  }
  assert.ok(holeChanged > 0.9 * (o.length / 4), 'the hole is filled with non-zero colours');
  const l1 = maskedL1(out, b.x, mask).dataSync();
  assert.ok(l1.every((v) => v < 0.3), `Telea is a plausible fill: masked L1 ${l1}`);
});
