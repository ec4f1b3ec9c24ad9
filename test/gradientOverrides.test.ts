import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { GRADIENT_OVERRIDES, registerGradientOverrides } from '../src/lib/backend/gradientOverrides';
import { selectBackend } from '../src/lib/backend/selectBackend';
import { relativeError } from './helpers/compare';
import { createRng } from '../src/lib/rng';

const rand = (shape: number[], seed: number) => {
  const rng = createRng(seed);
  return tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()), shape);
};

/** Gradients of sum(op(inputs) * g) w.r.t. every input, for each overridden kernel. */
const GRADIENTS: Record<string, () => Float32Array[]> = {
  FusedBatchNorm: () =>
    tf.tidy(() => {
      const [x, g] = [rand([2, 5, 4, 3], 1), rand([2, 5, 4, 3], 2)];
      const mean = rand([3], 3);
      const variance = tf.abs(rand([3], 4));
      const [offset, scale] = [rand([3], 5), rand([3], 6)];
      const f = (a: tf.Tensor, m: tf.Tensor, v: tf.Tensor, o: tf.Tensor, s: tf.Tensor) => tf.sum(tf.mul(tf.batchNorm(a as tf.Tensor4D, m, v, o, s, 1e-3), g));
      return tf.grads(f)([x, mean, variance, offset, scale]).map((t) => t.dataSync() as Float32Array);
    }),
  LeakyRelu: () =>
    tf.tidy(() => {
      // exact zeros included: they take the alpha branch, as in tfjs-core
      const x = tf.mul(rand([3, 7, 5, 4], 7), tf.cast(tf.greater(rand([3, 7, 5, 4], 8), -0.5), 'float32'));
      const g = rand([3, 7, 5, 4], 9);
      return [tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.leakyRelu(a, 0.2), g)))(x).dataSync() as Float32Array];
    }),
  Relu6: () =>
    tf.tidy(() => {
      // the edges 0 and 6 exactly, and values beyond both
      const x = tf.concat([tf.mul(rand([420], 10), 5), tf.tensor([0, 6, -0, 6.000001, 5.999999, 1e-30, -1e-30, 100])]);
      const g = rand(x.shape, 11);
      return [tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.relu6(a), g)))(x).dataSync() as Float32Array];
    }),
};

test('the replacement gradients equal tfjs-core\'s on cpu and wasm', async () => {
  await tf.setBackend('cpu');
  assert.deepEqual(GRADIENT_OVERRIDES.map((c) => c.kernelName).sort(), Object.keys(GRADIENTS).sort());
  // before registration: tfjs-core's own gradients
  const stock = Object.fromEntries(Object.entries(GRADIENTS).map(([k, f]) => [k, f()]));
  for (const config of GRADIENT_OVERRIDES) assert.notEqual(tf.getGradient(config.kernelName)?.gradFunc, config.gradFunc);
  registerGradientOverrides();
  for (const config of GRADIENT_OVERRIDES) assert.equal(tf.getGradient(config.kernelName)?.gradFunc, config.gradFunc);
  for (const backend of ['cpu', 'wasm'] as const) {
    await selectBackend({ force: backend, quiet: true });
    for (const [kernel, f] of Object.entries(GRADIENTS)) {
      f(); // first call: the wasm kernels may keep constant filters they reuse
      const before = tf.memory().numTensors;
      f().forEach((got, i) => {
        const e = relativeError(got, stock[kernel][i]);
        assert.ok(e < 1e-5, `${kernel} on ${backend}, input ${i}: relative error ${e}`);
      });
      assert.equal(tf.memory().numTensors, before, `${kernel} gradient leaks no tensors`);
    }
  }
});

test('on wasm the relu6 gradient is one SIMD pass (no Step/Sub/Multiply kernels) with the five-kernel path\'s values', async () => {
  const { relu6Backward } = await import('../src/lib/backend/wasm/activationGradients');
  await selectBackend({ force: 'wasm', quiet: true });
  const x = tf.concat([tf.mul(rand([1020], 12), 5), tf.tensor([0, 6, 6.000001, 5.999999])]);
  const dy = rand(x.shape, 13);
  const profile = await tf.profile(() => relu6Backward(dy, x));
  assert.deepEqual(profile.kernelNames.filter((k) => ['Step', 'Sub', 'Multiply'].includes(k)), [], `kernels run: ${profile.kernelNames.join(', ')}`);
  const fused = relu6Backward(dy, x);
  const reference = tf.tidy(() => tf.mul(dy, tf.sub(tf.step(x), tf.step(tf.sub(x, 6)))));
  const [a, b] = [fused.dataSync(), reference.dataSync()];
  for (let i = 0; i < a.length; i++) assert.ok(a[i] === b[i], `value ${i} (x = ${x.dataSync()[i]}): ${a[i]} vs ${b[i]}`); // === : +0 equals −0
  // A size that is not a multiple of 4 takes the tfjs path, with the same values.
  const odd = relu6Backward(dy.slice(0, 1023), x.slice(0, 1023)).dataSync();
  assert.deepEqual(Array.from(odd).map((v) => v + 0), Array.from(b.slice(0, 1023)).map((v) => v + 0));
  tf.dispose([x, dy, fused, reference]);
});
