import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/lib/backend/selectBackend';
import { attributeClassifierFor, classBalanceWeights, predictAttributes } from '../src/lib/metrics/attributeClassifier';
import { gatherBatch } from '../src/lib/data/faceDataset';
import { readAndDispose } from '../src/lib/tensorReads';
import { tempDir } from './helpers/fixtures';
import { tinyFaces } from './helpers/tinyData';

test('class-balance weights: each attribute\'s positives and negatives carry half the weight (clamped frequencies)', async () => {
  await selectBackend({ quiet: true });
  const faces = await tinyFaces(64);
  const a = faces.attributeNames.length;
  const { positive, negative } = classBalanceWeights(faces);
  const [pos, neg] = await readAndDispose([positive, negative]);
  for (let j = 0; j < a; j++) {
    const on = faces.splits.train.reduce((s, i) => s + faces.attributes[i * a + j], 0);
    const p = Math.min(0.99, Math.max(0.01, on / faces.splits.train.length));
    assert.ok(Math.abs(p * pos[j] - 0.5) < 1e-5 && Math.abs((1 - p) * neg[j] - 0.5) < 1e-5, `${faces.attributeNames[j]}: p ${p}, weights ${pos[j]} / ${neg[j]}`);
  }
});

test('the balanced judge says "on" for rare attributes where the plain one learns "always off"; separate caches and descriptions', async () => {
  await selectBackend({ quiet: true });
  const faces = await tinyFaces(128);
  const a = faces.attributeNames.length;
  const freq = faces.attributeNames.map((_, j) => faces.splits.train.reduce((s, i) => s + faces.attributes[i * a + j], 0) / faces.splits.train.length);
  const rare = freq.map((f, j) => (f > 0 && f < 0.25 ? j : -1)).filter((j) => j >= 0);
  assert.ok(rare.length >= 3, `rare attributes in the test faces: ${rare.length}`);
  const cacheDir = tempDir();
  const meanRareProbability = async (balanced: boolean) => {
    const c = await attributeClassifierFor(faces, { epochs: 40, seed: 0, cacheDir, balanced, onLine: () => {} });
    const b = gatherBatch(faces, faces.splits.train);
    const [p] = await readAndDispose([predictAttributes(c, b.x)]);
    tf.dispose([b.x, b.y]);
    c.model.dispose();
    return { description: c.description, mean: rare.reduce((s, j) => s + faces.splits.train.reduce((t, _, r) => t + p[r * a + j], 0) / faces.splits.train.length, 0) / rare.length };
  };
  const plain = await meanRareProbability(false);
  const balanced = await meanRareProbability(true);
  assert.match(balanced.description, /^class-balanced attribute classifier .* balanced \d+\.\d %\)$/);
  assert.doesNotMatch(plain.description, /balanced/);
  const meanFreq = rare.reduce((s, j) => s + freq[j], 0) / rare.length;
  assert.ok(balanced.mean > plain.mean + 0.1, `mean p(rare attribute on): balanced ${balanced.mean.toFixed(3)} vs plain ${plain.mean.toFixed(3)} (frequency ${meanFreq.toFixed(3)})`);
});
