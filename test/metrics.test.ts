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
const scriptDir = path.resolve(__dirname, '..', 'scripts');

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
