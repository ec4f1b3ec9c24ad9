import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/lib/backend/selectBackend';
import { tensorFromRuns, type RunLayout } from '../src/lib/backend/copyRuns';

/** Layouts that write every value of a [6, 5, len·k] destination exactly once, from a permuted source. */
function cases(): { shape: number[]; srcSize: number; layout: RunLayout }[] {
  return [1, 3, 4, 5, 8, 13].map((len) => ({
    shape: [6, 5, 2 * len],
    srcSize: 6 * 5 * 2 * len + 7,
    // source [2, 5, 6, len] (+7 leading values) -> destination [6, 5, 2, len]
    layout: { len, srcStart: 7, loops: [[2, 5 * 6 * len, len], [5, 6 * len, 2 * len], [6, len, 5 * 2 * len]] },
  }));
}

async function run(): Promise<number[][]> {
  const out: number[][] = [];
  for (const c of cases()) {
    const src = tf.range(0, c.srcSize, 1, 'float32');
    const t = tensorFromRuns(c.shape, [{ src, layout: c.layout }]);
    out.push(Array.from(await t.data()));
    tf.dispose([src, t]);
  }
  return out;
}

test('copyRuns: the wasm SIMD kernel and the JS loops give the same permutation, for any run length', async () => {
  await selectBackend({ force: 'cpu', quiet: true });
  const js = await run();
  // each destination value is a distinct source value: the layout is a permutation
  js.forEach((values, i) => assert.equal(new Set(values).size, values.length, `case ${i}`));
  await selectBackend({ force: 'wasm', quiet: true });
  const before = tf.memory().numTensors;
  const simd = await run();
  assert.equal(tf.memory().numTensors, before);
  assert.deepEqual(simd, js);
  // spot check against the index formula: destination [a, b, c, k] <- source [c, b, a, k]
  const len = 3;
  const values = simd[1];
  const at = (a: number, b: number, c: number, k: number) => values[((a * 5 + b) * 2 + c) * len + k];
  assert.equal(at(4, 2, 1, 2), 7 + ((1 * 5 + 2) * 6 + 4) * len + 2);
});
