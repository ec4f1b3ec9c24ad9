// The checkerboard measure (issue 38): a synthetic checkerboard scores high, a photograph about 1,
// a blurred photograph below 1; the hole window measures the hole only.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { checkerboardRatio, nyquistFraction } from '../src/lib/metrics/checkerboard';
import { gatherBatch } from '../src/lib/data/faceDataset';
import { loadCelebA } from '../src/lib/data/loadCelebA';
import { makeMaskBatch, parseMaskSpec } from '../src/lib/masks';
import { SHARED_CELEBA, sharedCelebaSkip } from './helpers/fixtures';

const S = 64;

/** ±a at the stride-2 phases (what a transposed 4×4/2 layer leaves) on a grey image. */
function checkerboard(n: number, a: number): tf.Tensor4D {
  return tf.tidy(() => {
    const p = tf.tensor2d(Array.from({ length: S * S }, (_, i) => ((Math.floor(i / S) + (i % S)) % 2 ? -a : a)), [S, S]);
    return tf.tile(tf.reshape(p, [1, S, S, 1]), [n, 1, 1, 3]) as tf.Tensor4D;
  });
}

function blur(x: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => tf.depthwiseConv2d(x, tf.fill([3, 3, 3, 1], 1 / 9) as tf.Tensor4D, 1, 'same') as tf.Tensor4D);
}

const read = async (t: tf.Tensor) => Array.from((await t.data()) as Float32Array);

test('a pure checkerboard puts all its AC energy on the Nyquist lines (fraction 1); a smooth ramp none', async () => {
  const board = tf.add(checkerboard(2, 0.1), 0.5) as tf.Tensor4D;
  const fraction = await read(nyquistFraction(board));
  for (const f of fraction) assert.ok(Math.abs(f - 1) < 1e-4, `checkerboard fraction ${f}, expected 1 (a wrong sign or normalisation breaks this)`);
  const ramp = tf.tidy(() => tf.tile(tf.reshape(tf.linspace(0.2, 0.8, S), [1, 1, S, 1]), [1, S, 1, 3]) as tf.Tensor4D);
  // A ramp's DFT is not zero at Nyquist (its ends jump), but is tiny next to the checkerboard's.
  const [r] = await read(nyquistFraction(ramp));
  assert.ok(r < 0.02, `ramp fraction ${r}`);
  const flat = tf.fill([1, S, S, 3], 0.5) as tf.Tensor4D;
  assert.ok(Number.isNaN((await read(nyquistFraction(flat)))[0]), 'a flat image has no AC energy: NaN, not 0 or ∞');
  tf.dispose([board, ramp, flat]);
});

test('the ratio is per decoded image over the real images\' mean, NaN left out', () => {
  const r = checkerboardRatio([0.02, 0.04, NaN], [0.01, 0.03, NaN]);
  assert.ok(Math.abs(r.mean - 1.5) < 1e-12, `mean ${r.mean}`);
  assert.ok(Number.isNaN(checkerboardRatio([], [0.1]).mean));
});

test('the hole window measures only the hole: a checkerboard outside it is not counted', async () => {
  const mask = makeMaskBatch(parseMaskSpec('centre:0.5'), 1, S); // 1 = observed
  const hole = tf.sub(1, mask) as tf.Tensor4D;
  const base = tf.tidy(() => tf.tile(tf.reshape(tf.linspace(0.2, 0.8, S), [1, S, 1, 1]), [1, 1, S, 3]) as tf.Tensor4D);
  const outside = tf.tidy(() => tf.add(base, tf.mul(checkerboard(1, 0.1), mask)) as tf.Tensor4D);
  const inside = tf.tidy(() => tf.add(base, tf.mul(checkerboard(1, 0.1), hole)) as tf.Tensor4D);
  const [fOut] = await read(nyquistFraction(outside, hole));
  const [fIn] = await read(nyquistFraction(inside, hole));
  const [fWhole] = await read(nyquistFraction(outside));
  assert.ok(fOut < 0.02, `checkerboard outside the hole counted inside it: ${fOut}`);
  assert.ok(fIn > 0.5, `checkerboard in the hole missed: ${fIn}`);
  assert.ok(fWhole > 0.1, `without a window the whole image is measured: ${fWhole}`);
  tf.dispose([mask, hole, base, outside, inside]);
});

test('on real faces: photographs score about 1 against other photographs, blurred ones below, a faint checkerboard above', { skip: sharedCelebaSkip }, async () => {
  const data = await loadCelebA({ dir: SHARED_CELEBA, limit: 96, preprocess: { size: S, cropFraction: 148 / 178 }, cacheDir: null });
  const a = gatherBatch(data, Array.from({ length: 48 }, (_, i) => i));
  const b = gatherBatch(data, Array.from({ length: 48 }, (_, i) => 48 + i));
  const real = await read(nyquistFraction(b.x));
  const score = async (x: tf.Tensor4D) => checkerboardRatio(await read(nyquistFraction(x)), real).mean;
  const photo = await score(a.x);
  const blurred = blur(a.x);
  const boarded = tf.tidy(() => tf.clipByValue(tf.add(a.x, checkerboard(48, 0.01)), 0, 1) as tf.Tensor4D);
  const soft = await score(blurred);
  const board = await score(boarded);
  assert.ok(photo > 0.7 && photo < 1.4, `photographs against photographs: ${photo}, expected about 1`);
  assert.ok(soft < 0.3, `a 3×3 box blur should remove most Nyquist energy: ${soft}`);
  assert.ok(board > 2, `a ±0.01 checkerboard (2.5 grey levels) should stand out: ${board}`);
  tf.dispose([a.x, a.y, b.x, b.y, blurred, boarded]);
});
