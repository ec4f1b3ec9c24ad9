import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/lib/backend/selectBackend';
import { loadMobileNetV2, loadMobileNetV2Layers } from '../src/lib/weights/featureNet';
import { relativeError } from './helpers/compare';


test('the frozen-graph MobileNetV2 (batch norms folded) matches tfjs-layers, and its input gradient too', async () => {
  await selectBackend({ force: 'wasm', quiet: true });
  const layers = ['Conv1_relu', 'block_3_expand_relu', 'block_6_expand_relu', 'block_13_expand_relu'];
  const net = await loadMobileNetV2(layers);
  const reference = await loadMobileNetV2Layers(layers);
  const x = tf.randomUniform([2, 48, 40, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
  const ours = net.features(x);
  const theirs = reference.predict(tf.sub(tf.mul(x, 2), 1)) as tf.Tensor[];
  ours.forEach((t, i) => {
    assert.deepEqual(t.shape, theirs[i].shape);
    const e = relativeError(t.dataSync(), theirs[i].dataSync());
    assert.ok(e < 1e-4, `${layers[i]}: relative error ${e}`);
  });
  const loss = (f: (a: tf.Tensor4D) => tf.Tensor[]) => (a: tf.Tensor) => tf.addN(f(a as tf.Tensor4D).map((t) => tf.mean(tf.square(t))));
  const gOurs = tf.grad(loss((a) => net.features(a)))(x);
  const gTheirs = tf.grad(loss((a) => reference.apply(tf.sub(tf.mul(a, 2), 1)) as tf.Tensor[]))(x);
  const e = relativeError(gOurs.dataSync(), gTheirs.dataSync());
  assert.ok(e < 1e-3, `input gradient relative error ${e}`);
  const before = tf.memory().numTensors;
  tf.tidy(() => {
    net.features(x);
  });
  assert.equal(tf.memory().numTensors, before);
});

test('a user VGG16 in TF.js layers format loads as feature net and as the LPIPS backbone', async () => {
  const fs = await import('fs');
  const path = await import('path');
  const { tempDir } = await import('./helpers/fixtures');
  const { loadVgg16 } = await import('../src/lib/weights/featureNet');
  const { loadLpipsVgg, LPIPS_VGG_LAYERS } = await import('../src/lib/metrics/lpips');
  await selectBackend({ force: 'wasm', quiet: true });
  // A miniature network with Keras VGG16's layer names and widths 4..8 stands in for the real weights.
  const widths = [4, 5, 6, 7, 8];
  const input = tf.input({ shape: [32, 32, 3] });
  let h: tf.SymbolicTensor = input;
  LPIPS_VGG_LAYERS.forEach((name, i) => {
    if (i > 0) h = tf.layers.maxPooling2d({ poolSize: 2 }).apply(h) as tf.SymbolicTensor;
    h = tf.layers.conv2d({ filters: widths[i], kernelSize: 3, padding: 'same', activation: 'relu', name }).apply(h) as tf.SymbolicTensor;
  });
  const mini = tf.model({ inputs: input, outputs: h });
  const dir = tempDir();
  await mini.save(tf.io.withSaveHandler(async (artifacts) => {
    fs.writeFileSync(path.join(dir, 'weights.bin'), new Uint8Array(artifacts.weightData as ArrayBuffer));
    fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify({ modelTopology: artifacts.modelTopology, weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }] }));
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  const net = await loadVgg16(dir, ['block1_conv2', 'block2_conv2']);
  const x = tf.randomUniform([2, 32, 32, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
  assert.deepEqual(net.features(x).map((f) => f.shape), [[2, 32, 32, 4], [2, 16, 16, 5]]);
  net.dispose();
  const weightsFile = path.join(dir, 'lin.json');
  fs.writeFileSync(weightsFile, JSON.stringify(Object.fromEntries(widths.map((c, i) => [`lin${i}.model.1.weight`, { shape: [1, c, 1, 1], data: Array(c).fill(1) }]))));
  const lpips = await loadLpipsVgg(dir, weightsFile);
  assert.equal(lpips.name, 'LPIPS (VGG, v0.1)');
  const d = lpips.distance(x, x.reverse(2) as tf.Tensor4D).dataSync();
  assert.ok(d.every((v) => v > 0) && lpips.distance(x, x).dataSync().every((v) => Math.abs(v) < 1e-6));
  await assert.rejects(loadVgg16(path.join(dir, 'missing'), ['block1_conv2']), /no TF\.js model\.json here/);
});
