import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { makeMaskBatch, maskPixels, parseMaskSpec, formatMaskSpec, validateMaskForSize } from '../src/lib/masks';

const hole = (m: Float32Array) => m.reduce((s, v) => s + (1 - v), 0);

test('centre mask: the paper crop, a centred square hole, m = 1 observed', () => {
  const m = maskPixels(parseMaskSpec('centre:0.5'), 64);
  assert.equal(hole(m), 32 * 32);
  assert.equal(m[0], 1);
  assert.equal(m[32 * 64 + 32], 0);
  assert.equal(m[16 * 64 + 16], 0);
  assert.equal(m[15 * 64 + 16], 1);
  assert.equal(m[47 * 64 + 47], 0);
  assert.equal(m[48 * 64 + 48], 1);
});

test('halves remove exactly the named half', () => {
  for (const [side, inHole, observed] of [['left', [10, 5], [10, 40]], ['right', [10, 40], [10, 5]], ['top', [5, 10], [40, 10]], ['bottom', [40, 10], [5, 10]]] as const) {
    const m = maskPixels(parseMaskSpec(`half:${side}`), 64);
    assert.equal(hole(m), 64 * 32, side);
    assert.equal(m[inHole[0] * 64 + inHole[1]], 0, side);
    assert.equal(m[observed[0] * 64 + observed[1]], 1, side);
  }
});

test('a rect mask hides exactly the named region (rows TOP..TOP+HEIGHT, columns LEFT..LEFT+WIDTH)', () => {
  const m = maskPixels(parseMaskSpec('rect:0.625,0.25,0.25,0.5'), 64);
  assert.equal(hole(m), 16 * 32);
  assert.equal(m[40 * 64 + 16], 0);
  assert.equal(m[55 * 64 + 47], 0);
  assert.equal(m[39 * 64 + 16], 1);
  assert.equal(m[56 * 64 + 16], 1);
  assert.equal(m[40 * 64 + 15], 1);
  assert.equal(m[40 * 64 + 48], 1);
  assert.equal(formatMaskSpec(parseMaskSpec('rect:0.625,0.25,0.25,0.5')), 'rect:0.625,0.25,0.25,0.5');
});

test('random boxes and free-form strokes are seeded per image', () => {
  for (const kind of ['box', 'free']) {
    const a = maskPixels(parseMaskSpec(`${kind}:7`), 64, 3);
    assert.deepEqual(a, maskPixels(parseMaskSpec(`${kind}:7`), 64, 3));
    assert.notDeepEqual(a, maskPixels(parseMaskSpec(`${kind}:7`), 64, 4));
    assert.notDeepEqual(a, maskPixels(parseMaskSpec(`${kind}:8`), 64, 3));
    const h = hole(a);
    assert.ok(h > 64 && h < 64 * 64 * 0.8, `${kind} hole ${h}`);
    assert.ok(a.every((v) => v === 0 || v === 1));
  }
  const box = maskPixels(parseMaskSpec('box:1'), 64, 0);
  assert.ok(hole(box) >= 16 * 16 && hole(box) <= 33 * 33);
});

test('a mask batch is a [n,S,S,1] tensor matching the per-image masks', () => {
  const before = tf.memory().numTensors;
  const t = makeMaskBatch(parseMaskSpec('free:2'), 3, 32, 10);
  assert.deepEqual(t.shape, [3, 32, 32, 1]);
  assert.deepEqual(t.dataSync().subarray(32 * 32, 2 * 32 * 32), maskPixels(parseMaskSpec('free:2'), 32, 11));
  t.dispose();
  assert.equal(tf.memory().numTensors, before);
});

test('bad mask specs are clear errors', () => {
  assert.throws(() => parseMaskSpec('centre:1.5'), /mask "centre:1.5": fraction "1.5" must be a number in \(0, 1\)/);
  assert.throws(() => parseMaskSpec('half:middle'), /side "middle"/);
  assert.throws(() => parseMaskSpec('box:-1'), /seed "-1"/);
  assert.throws(() => parseMaskSpec('ring'), /unknown kind "ring"/);
  assert.throws(() => validateMaskForSize(parseMaskSpec('centre:0.01'), 32), /0-pixel hole at 32×32/);
  assert.equal(formatMaskSpec(parseMaskSpec('center:0.25')), 'centre:0.25');
  assert.throws(() => parseMaskSpec('rect:0.5,0.5,0.2'), /mask "rect:0.5,0.5,0.2": expected four numbers TOP,LEFT,HEIGHT,WIDTH/);
  assert.throws(() => parseMaskSpec('rect:0.6,0.2,0.5,0.5'), /must lie inside the image/);
  assert.throws(() => parseMaskSpec('rect:0,0,1,1'), /covers the whole image/);
  assert.throws(() => validateMaskForSize(parseMaskSpec('rect:0.5,0.5,0.001,0.3'), 32), /0×10-pixel hole at 32×32/);
});
