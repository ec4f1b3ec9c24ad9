import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/lib/backend/selectBackend';
import { FusedAdamOptimizer } from '../src/lib/backend/fusedAdam';
import { assembleSimdKernels, GENERATED } from '../scripts/build_simd_kernels';
import { threeAdamSteps } from './helpers/adamSteps';

test('the fused Adam gives tf.train.adam\'s values, moments and state names exactly (SIMD pass on wasm; stock update on cpu), and leaks nothing', async () => {
  for (const backend of ['wasm', 'cpu'] as const) {
    await selectBackend({ force: backend, quiet: true });
    let before = tf.memory().numTensors;
    const stock = await threeAdamSteps(() => tf.train.adam(0.01), `stock-${backend}-`);
    const stockLeft = tf.memory().numTensors - before;
    before = tf.memory().numTensors;
    const simd = await threeAdamSteps(() => new FusedAdamOptimizer(0.01), `simd-${backend}-`);
    assert.equal(tf.memory().numTensors - before, stockLeft, `${backend}: no more tensors left behind than the stock optimizer`);
    assert.deepEqual(simd.fusedSteps, { simd: backend === 'wasm' ? 3 : 0, kernel: 0 }, `${backend}: which update ran`);
    assert.deepEqual(simd.names, stock.names);
    assert.deepEqual(simd.values, stock.values, `${backend}: variable values`);
    assert.deepEqual(simd.state, stock.state, `${backend}: optimizer state`);
  }
});

test('the generated SIMD kernel module is up to date with its .wat sources (npm run kernels:build)', async () => {
  assert.equal(fs.readFileSync(GENERATED, 'utf8'), await assembleSimdKernels());
});
