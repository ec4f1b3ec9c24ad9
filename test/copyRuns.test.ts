import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { cpuAndWasm } from './helpers/cpuAndWasm';
import { tensorFromRuns, type RunLayout } from '../src/lib/backend/wasm/copyRuns';
import { transpose2d } from '../src/lib/backend/wasm/transpose2d';

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
  const { cpu: js, wasm: simd } = await cpuAndWasm(run);
  // each destination value is a distinct source value: the layout is a permutation
  js.forEach((values, i) => assert.equal(new Set(values).size, values.length, `case ${i}`));
  assert.deepEqual(simd, js);
  // spot check against the index formula: destination [a, b, c, k] <- source [c, b, a, k]
  const len = 3;
  const values = simd[1];
  const at = (a: number, b: number, c: number, k: number) => values[((a * 5 + b) * 2 + c) * len + k];
  assert.equal(at(4, 2, 1, 2), 7 + ((1 * 5 + 2) * 6 + 4) * len + 2);
});

test('transpose2d (4×4 SIMD blocks on wasm, fallbacks elsewhere) equals tf.transpose on cpu', async () => {
  const shapes: [number, number][] = [[8, 12], [64, 4096], [4096, 128], [5, 7], [4, 6]];
  const run = async () => {
    const out: number[][] = [];
    for (const [r, c] of shapes) {
      const t = tf.tidy(() => tf.reshape(tf.range(0, r * c, 1, 'float32'), [r, c]) as tf.Tensor2D);
      const y = transpose2d(t);
      assert.deepEqual(y.shape, [c, r]);
      out.push(Array.from(await y.data()));
      tf.dispose([t, y]);
    }
    return out;
  };
  const { cpu, wasm } = await cpuAndWasm(run);
  assert.deepEqual(wasm, cpu);
});
