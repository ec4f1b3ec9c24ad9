import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/lib/backend/selectBackend';
import { FusedAdamOptimizer } from '../src/lib/training/fusedAdam';
import { relativeError } from './helpers/compare';
import { createRng } from '../src/lib/rng';

const SHAPES = [[4, 4, 3, 8], [8], [37, 5], [1]];

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
  const values = vars.map((v) => v.dataSync() as Float32Array);
  const fusedUpdates = optimizer instanceof FusedAdamOptimizer ? optimizer.fusedUpdates : null;
  const state = await optimizer.getWeights();
  const out = { fusedUpdates, values, names: state.map((w) => w.name.replace(prefix, '')), state: state.map((w) => w.tensor.dataSync() as Float32Array) };
  optimizer.dispose();
  tf.dispose(vars);
  return out;
}

test('the fused Adam matches tf.train.adam (values, moments, state names) on wasm and cpu, and leaks nothing', async () => {
  for (const backend of ['wasm', 'cpu'] as const) {
    await selectBackend({ force: backend, quiet: true });
    let before = tf.memory().numTensors;
    const stock = await threeSteps(() => tf.train.adam(0.01), `stock-${backend}-`);
    const stockLeft = tf.memory().numTensors - before; // getWeights' iteration scalar, dispose() quirks
    before = tf.memory().numTensors;
    const fused = await threeSteps(() => new FusedAdamOptimizer(0.01), `fused-${backend}-`);
    assert.equal(tf.memory().numTensors - before, stockLeft, `${backend}: no more tensors left behind than the stock optimizer`);
    assert.equal(fused.fusedUpdates, backend === 'wasm' ? 3 : 0, `${backend}: which update ran`);
    assert.deepEqual(fused.names, stock.names);
    fused.values.forEach((v, i) => assert.ok(relativeError(v, stock.values[i]) < 1e-5, `${backend} variable ${i}: relative error ${relativeError(v, stock.values[i])}`));
    fused.state.forEach((s, i) => assert.ok(relativeError(s, stock.state[i]) < 1e-5, `${backend} state ${fused.names[i]}: relative error ${relativeError(s, stock.state[i])}`));
  }
});
