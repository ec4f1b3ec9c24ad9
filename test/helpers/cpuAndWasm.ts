import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../src/lib/backend/selectBackend';

/**
 * `run` on the cpu backend (the reference) and on wasm (with this project's kernels), the wasm
 * run after a warm-up (kernels may keep constant filters) and checked to leave no tensors behind.
 */
export async function cpuAndWasm<T>(run: () => Promise<T>): Promise<{ cpu: T; wasm: T }> {
  await selectBackend({ force: 'cpu', quiet: true });
  const cpu = await run();
  await selectBackend({ force: 'wasm', quiet: true });
  await run();
  const before = tf.memory().numTensors;
  const wasm = await run();
  assert.equal(tf.memory().numTensors, before, 'no tensors left behind on wasm');
  return { cpu, wasm };
}
