import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/lib/backend/selectBackend';
import { readTorchCheckpoint, TorchCheckpointError } from '../src/lib/weights/torchCheckpoint';
import { convertTorchCheckpoint, convertedModelInfo } from '../src/lib/weights/convertCheckpoint';
import { loadVgg16, loadLayersModelFromDir } from '../src/lib/weights/featureNet';
import { loadLpipsVgg, LPIPS_VGG_LAYERS } from '../src/lib/metrics/lpips';
import { loadInceptionV3 } from '../src/lib/metrics/inceptionNet';
import { tempDir } from './helpers/fixtures';
import { pythonSkip, runPython } from './helpers/python';
import { relativeError as l2RelativeError } from './helpers/compare';
import { tinyFaces } from './helpers/tinyData';
import { buildTable1 } from '../src/lib/experiments/table1';
import { loadRealMetrics } from '../src/lib/metrics/realMetrics';
import { meanFill } from '../src/lib/metrics/meanFill';
import { gatherBatch } from '../src/lib/data/faceDataset';
import { makeMaskBatch, parseMaskSpec } from '../src/lib/masks';
import { classifierScore } from '../src/lib/metrics/classifierScore';

// Debian's python3-torch + python3-torchvision write the reference checkpoints and outputs.
const torchSkip = pythonSkip('torch, torchvision', 'python3-torch python3-torchvision');

let ref = '';
let arrays: Record<string, number[]> = {};
let out = '';

before(async () => {
  await selectBackend({ force: 'wasm', quiet: true });
  if (torchSkip) return;
  ref = tempDir('vii-torch-ref-');
  out = tempDir('vii-torch-out-');
  runPython([path.join(__dirname, 'helpers', 'torch_reference.py'), ref]);
  arrays = (JSON.parse(fs.readFileSync(path.join(ref, 'index.json'), 'utf8')) as { arrays: Record<string, number[]> }).arrays;
});

function refTensor(name: string): tf.Tensor {
  const buf = fs.readFileSync(path.join(ref, `${name}.bin`));
  return tf.tensor(new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4), arrays[name]);
}

/** ‖a − b‖ / ‖b‖ over the whole tensor (the issue bounds it by 1e-4). */
function relativeError(a: tf.Tensor, b: tf.Tensor): number {
  assert.deepEqual(a.shape, b.shape);
  return l2RelativeError(a.dataSync(), b.dataSync());
}

test('the zip and the legacy torch.save formats give the same tensors', { skip: torchSkip }, () => {
  const zip = readTorchCheckpoint(path.join(ref, 'vgg16.pth'));
  const legacy = readTorchCheckpoint(path.join(ref, 'vgg16-legacy.pth'));
  assert.equal(zip.size, 32); // 13 conv + 3 linear layers, weight and bias each
  assert.equal(legacy.size, 26);
  for (const [k, t] of legacy) {
    assert.deepEqual(t.shape, zip.get(k)!.shape, k);
    assert.deepEqual(t.data, zip.get(k)!.data, k);
  }
  assert.deepEqual(zip.get('classifier.0.weight')!.shape, [4096, 25088]);
});

test('tensors saved as strided views of a shared storage come back in C order', { skip: torchSkip }, () => {
  const sd = readTorchCheckpoint(path.join(ref, 'strided.pth'));
  const expected = arrays.strided as unknown as Record<string, number[]>;
  assert.deepEqual(sd.get('transposed')!.shape, [6, 4]);
  assert.deepEqual(Array.from(sd.get('transposed')!.data), expected.transposed);
  assert.deepEqual(sd.get('columns')!.shape, [4, 3]);
  assert.deepEqual(Array.from(sd.get('columns')!.data), expected.columns);
});

test('torchvision VGG16 converted to TF.js gives torch\'s relu1_2 … relu5_3 (relative error ≤ 1e-4)', { skip: torchSkip }, async () => {
  for (const file of ['vgg16.pth', 'vgg16-legacy.pth']) {
    const converted = await convertTorchCheckpoint(path.join(ref, file), out, path.join(out, `${file}-tfjs`));
    assert.equal(converted.kind, 'vgg16');
    assert.equal(convertedModelInfo(converted.out)?.input, 'torchvision-imagenet');
    const net = await loadVgg16(converted.out, LPIPS_VGG_LAYERS);
    const x = refTensor('vgg_input') as tf.Tensor4D;
    const feats = net.features(x);
    feats.forEach((f, k) => {
      const expected = refTensor(`vgg_relu${k}`);
      const err = relativeError(f, expected);
      assert.ok(err <= 1e-4, `${file} ${LPIPS_VGG_LAYERS[k]}: relative error ${err}`);
      expected.dispose();
    });
    tf.dispose([x, ...feats]);
    net.dispose();
  }
});

test('LPIPS computed here equals the reference formula in torch with the same weights (≤ 1e-4)', { skip: torchSkip }, async () => {
  const vgg = await convertTorchCheckpoint(path.join(ref, 'vgg16.pth'), out);
  const lin = await convertTorchCheckpoint(path.join(ref, 'lpips-vgg.pth'), out);
  assert.equal(lin.kind, 'lpips-linear');
  assert.equal(lin.tensors, 5);
  const lpips = await loadLpipsVgg(vgg.out, lin.out);
  assert.equal(lpips.name, 'LPIPS (VGG, v0.1)');
  const [a, b, expected] = [refTensor('vgg_input'), refTensor('lpips_other'), refTensor('lpips')];
  const d = lpips.distance(a as tf.Tensor4D, b as tf.Tensor4D);
  const err = relativeError(d, expected);
  assert.ok(err <= 1e-4, `LPIPS relative error ${err}: ${d.dataSync()} vs ${expected.dataSync()}`);
  tf.dispose([a, b, expected, d]);
  lpips.dispose();
});

test('torchvision Inception-v3 converted to TF.js gives torch\'s logits (≤ 1e-4) and their softmax', { skip: torchSkip }, async () => {
  const converted = await convertTorchCheckpoint(path.join(ref, 'inception_v3.pth'), out);
  assert.equal(converted.kind, 'inceptionv3');
  const x = refTensor('inception_input') as tf.Tensor4D;
  const expected = refTensor('inception_logits');
  const model = await loadLayersModelFromDir(converted.out, false);
  const logits = tf.tidy(() => model.predict(tf.sub(tf.mul(x, 2), 1)) as tf.Tensor);
  const err = relativeError(logits, expected);
  assert.ok(err <= 1e-4, `Inception logits relative error ${err}`);
  const net = await loadInceptionV3(converted.out);
  const p = net.probabilities(x);
  const pRef = tf.softmax(expected as tf.Tensor2D);
  assert.ok(tf.max(tf.abs(tf.sub(p, pRef))).dataSync()[0] < 1e-4);
  tf.dispose([x, expected, logits, p, pRef]);
  model.dispose();
  net.dispose();
});

test('a wrong, truncated or foreign file is refused with its name and what was expected', { skip: torchSkip }, async () => {
  const dir = tempDir();
  const junk = path.join(dir, 'junk.pth');
  fs.writeFileSync(junk, 'not a checkpoint');
  assert.throws(() => readTorchCheckpoint(junk), (e: Error) => e instanceof TorchCheckpointError && e.message.includes(junk) && /neither the zip nor the legacy/.test(e.message));
  // A download cut short: both formats say so instead of returning wrong tensors.
  for (const name of ['vgg16-legacy.pth', 'lpips-vgg.pth']) {
    const whole = fs.readFileSync(path.join(ref, name));
    const cut = path.join(dir, `cut-${name}`);
    fs.writeFileSync(cut, whole.subarray(0, Math.floor(whole.length * 0.6)));
    assert.throws(() => readTorchCheckpoint(cut), (e: Error) => e instanceof TorchCheckpointError && e.message.includes(cut), name);
  }
  // Inception's state dict is not VGG16's: convert detects the network, and the VGG builder names the missing tensor.
  const { StateDictReader } = await import('../src/lib/weights/torchTensors');
  const { vgg16FromTorch } = await import('../src/lib/weights/vgg16FromTorch');
  const inception = path.join(ref, 'inception_v3.pth');
  assert.throws(() => vgg16FromTorch(new StateDictReader(inception, readTorchCheckpoint(inception))), /no tensor "features\.0\.weight"/);
  assert.throws(() => readTorchCheckpoint(path.join(dir, 'absent.pth')), /absent\.pth: no such file/);
});

test('with converted weights in the weights folder, Table 1 reports LPIPS and the Inception score under their real names', { skip: torchSkip }, async () => {
  // The three conversions above wrote out/vgg16-tfjs, out/lpips-vgg.json and out/inception_v3-tfjs.
  const real = await loadRealMetrics(out);
  assert.deepEqual(real.missing, []);
  const data = await tinyFaces(100);
  const outBase = path.join(tempDir(), 'table1');
  const { rows, table } = await buildTable1({ data, models: [], limit: 10, judge: 'plain', outBase, real, log: () => {}, onLine: () => {} });
  assert.deepEqual(table.columns.slice(0, 4), ['IS ↑', 'LPIPS (VGG, v0.1) ↓', 'AS ↑', 'PD-mobilenetv2 (unlearned) ↓']);
  assert.match(table.caption, /IS: the Inception score \(10 splits\) with Inception-v3 \(torchvision ImageNet checkpoint/);
  // The mean-fill row's numbers are the networks' own on the same images and holes.
  const fill = rows.find((r) => r.name === 'Mean fill')!;
  const idx = data.splits.test.slice(0, 10);
  const batch = gatherBatch(data, idx);
  const mask = makeMaskBatch(parseMaskSpec('centre:0.5'), idx.length, data.preprocess.size, 0);
  const completed = meanFill(batch.x, mask);
  const lpips = Array.from(real.lpips!.distance(completed, batch.x).dataSync());
  const probs = real.inception!.probabilities(completed).dataSync() as Float32Array;
  assert.ok(Math.abs(fill.lpips!.mean - lpips.reduce((a, b) => a + b, 0) / lpips.length) < 1e-6);
  assert.deepEqual(fill.inceptionScore, classifierScore(probs, 1000, 10));
  assert.equal(rows.find((r) => r.name === 'Real images')!.lpips!.mean, 0);
  // FID: the Fréchet distance of Inception-v3's pool features, under its name, beside the substitute.
  assert.ok(table.columns.includes('FID completions ↓') && table.columns.includes('FD-InceptionV3 (nsfwjs) completions ↓'), table.columns.join());
  const { frechetDistance } = await import('../src/lib/metrics/frechet');
  const pool = (t: tf.Tensor4D) => real.inception!.poolFeatures(t).dataSync() as Float32Array;
  assert.ok(Math.abs(fill.frechet['FID'] - frechetDistance(pool(completed), pool(batch.x), 2048)) < 1e-3 * Math.max(1, fill.frechet['FID']));
  tf.dispose([batch.x, batch.y, mask, completed]);
  real.lpips!.dispose();
  real.inception!.dispose();
  // Without weights: the same table without those columns, and what to run to get them.
  const none = await loadRealMetrics(tempDir());
  assert.equal(none.lpips, null);
  assert.match(none.missing.join('\n'), /LPIPS: no VGG16 at .* \(vii weights fetch vgg16\)/);
  assert.match(none.missing.join('\n'), /Inception score: no Inception-v3 at .* \(vii weights fetch inception\)/);
});

test('--feature-net vgg16 without a path uses the converted VGG16 of the weights folder, with gradients for the perceptual loss', { skip: torchSkip }, async () => {
  const { loadFeatureNet } = await import('../src/lib/weights/featureNet');
  const { perceptualError } = await import('../src/lib/losses');
  const { WEIGHTS_DIR_ENV } = await import('../src/lib/weights/weightsDir');
  const saved = process.env[WEIGHTS_DIR_ENV];
  process.env[WEIGHTS_DIR_ENV] = tempDir();
  await assert.rejects(loadFeatureNet({ net: 'vgg16' }, ['block1_conv2']), /run "vii weights fetch vgg16"/);
  process.env[WEIGHTS_DIR_ENV] = out;
  try {
    // relu1_2 … relu4_3, the paper's layers.
    const net = await loadFeatureNet({ net: 'vgg16' }, ['block1_conv2', 'block2_conv2', 'block3_conv3', 'block4_conv3']);
    assert.match(net.description, /VGG16 \(ImageNet, torchvision, /);
    const x = refTensor('vgg_input') as tf.Tensor4D;
    const y = refTensor('lpips_other') as tf.Tensor4D;
    const before = tf.memory().numTensors;
    const xHat = tf.variable(x, true, 'xhat');
    const { value, grads } = tf.variableGrads(() => perceptualError(net, [1e-3, 1e-3, 1e-3, 1e-3], xHat as unknown as tf.Tensor4D, y), [xHat]);
    const g = grads.xhat;
    assert.ok(value.dataSync()[0] > 0 && Number.isFinite(value.dataSync()[0]));
    assert.ok(tf.tidy(() => tf.sum(tf.abs(g)).dataSync()[0]) > 0);
    tf.dispose([value, ...Object.values(grads), xHat]);
    assert.equal(tf.memory().numTensors, before);
    tf.dispose([x, y]);
    net.dispose();
  } finally {
    if (saved === undefined) delete process.env[WEIGHTS_DIR_ENV];
    else process.env[WEIGHTS_DIR_ENV] = saved;
  }
});
