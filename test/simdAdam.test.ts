import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/lib/backend/selectBackend';
import { SimdAdamOptimizer } from '../src/lib/training/simdAdam';
import { assembleSimdKernels, GENERATED } from '../scripts/build_simd_kernels';
import { createRng } from '../src/lib/rng';

// sizes with and without a scalar tail after the 4-wide steps
const SHAPES = [[4, 4, 3, 8], [8], [37, 5], [1], [3]];

/** Three steps of an optimizer on variables with seeded gradients; the final values and state. */
async function threeSteps(makeOptimizer: () => tf.Optimizer, prefix: string) {
  const rng = createRng(5);
  const vars = SHAPES.map((s, i) => tf.variable(tf.tensor(Float32Array.from({ length: tf.util.sizeFromShape(s) }, () => rng.normal()), s), true, `${prefix}${i}`));
  const optimizer = makeOptimizer();
  for (let step = 0; step < 3; step++) {
    const grads = Object.fromEntries(vars.map((v) => [v.name, tf.tensor(Float32Array.from({ length: v.size }, () => rng.normal() * (step + 1)), v.shape)]));
    optimizer.applyGradients(grads);
    tf.dispose(Object.values(grads));
  }
  const values = vars.map((v) => Array.from(v.dataSync()));
  const simdSteps = optimizer instanceof SimdAdamOptimizer ? optimizer.simdSteps : null;
  const state = await optimizer.getWeights();
  const out = { simdSteps, values, names: state.map((w) => w.name.replace(prefix, '')), state: state.map((w) => Array.from(w.tensor.dataSync())) };
  tf.dispose(state.map((w) => w.tensor));
  optimizer.dispose();
  tf.dispose(vars);
  return out;
}

test('the SIMD Adam gives tf.train.adam\'s values, moments and state names exactly (wasm; stock update on cpu), and leaks nothing', async () => {
  for (const backend of ['wasm', 'cpu'] as const) {
    await selectBackend({ force: backend, quiet: true });
    let before = tf.memory().numTensors;
    const stock = await threeSteps(() => tf.train.adam(0.01), `stock-${backend}-`);
    const stockLeft = tf.memory().numTensors - before;
    before = tf.memory().numTensors;
    const simd = await threeSteps(() => new SimdAdamOptimizer(0.01), `simd-${backend}-`);
    assert.equal(tf.memory().numTensors - before, stockLeft, `${backend}: no more tensors left behind than the stock optimizer`);
    assert.equal(simd.simdSteps, backend === 'wasm' ? 3 : 0, `${backend}: which update ran`);
    assert.deepEqual(simd.names, stock.names);
    assert.deepEqual(simd.values, stock.values, `${backend}: variable values`);
    assert.deepEqual(simd.state, stock.state, `${backend}: optimizer state`);
  }
});

test('the generated SIMD kernel module is up to date with its .wat sources (npm run kernels:build)', async () => {
  assert.equal(fs.readFileSync(GENERATED, 'utf8'), await assembleSimdKernels());
});
