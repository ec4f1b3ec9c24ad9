import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/lib/backend/selectBackend';
import { attributeProbabilities, attributeTallies, disposeClassifier, meanAccuracy, meanBalanced, predictAttributes, talliesOf } from '../src/lib/metrics/attributeClassifier';
import { balancedThreshold, bestThreshold, gridMeans, perAttributeThresholds, pretrainedJudgeCache, pretrainedJudgeFor } from '../src/lib/metrics/pretrainedJudge';
import { blurred } from '../src/lib/metrics/blur';
import { gatherBatch } from '../src/lib/data/faceDataset';
import { tinyFaces } from './helpers/tinyData';
import { tempDir } from './helpers/fixtures';

test('blurred: bilinear down and up by the factor (1: the image itself), values kept in range', async () => {
  await selectBackend();
  const x = tf.randomUniform([2, 16, 16, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
  const [b1, b4] = [blurred(x, 1), blurred(x, 4)];
  assert.deepEqual(b4.shape, x.shape);
  assert.equal(tf.max(tf.abs(tf.sub(b1, x))).dataSync()[0], 0);
  // A 4× blur of noise keeps its mean and loses most of its pixel-to-pixel variation.
  const step = (t: tf.Tensor4D) => tf.mean(tf.abs(tf.sub(t.slice([0, 0, 1, 0], [-1, -1, 15, -1]), t.slice([0, 0, 0, 0], [-1, -1, 15, -1])))).dataSync()[0];
  assert.ok(Math.abs(tf.mean(b4).dataSync()[0] - tf.mean(x).dataSync()[0]) < 0.05);
  assert.ok(step(b4) < 0.5 * step(x), `neighbour difference ${step(b4)} vs ${step(x)}`);
  tf.dispose([x, b1, b4]);
});

test('gridMeans: the means of a g × g grid of cells, row-major, channels within a cell; g = 1 the spatial mean', async () => {
  await selectBackend();
  // 7 × 7 map, 2 channels: channel 0 = the row index, channel 1 = the column index.
  const map = tf.tensor4d(Array.from({ length: 49 }, (_, i) => [Math.floor(i / 7), i % 7]).flat(), [1, 7, 7, 2]);
  const g = Array.from(await gridMeans(map, 3).data());
  // Cuts at rows/columns 0, 2, 5, 7: cell means of the index are 0.5, 3, 5.5.
  const centres = [0.5, 3, 5.5];
  assert.deepEqual(g.map((v) => Math.round(v * 1e5) / 1e5), centres.flatMap((r) => centres.flatMap((c) => [r, c])));
  assert.deepEqual(Array.from(await gridMeans(map, 1).data()), [3, 3]);
  map.dispose();
});

test('balancedThreshold picks the cut with the best (recall + specificity) / 2', () => {
  // Rare positives (2 of 8) at high p: a cut between 0.6 and 0.8 separates them perfectly.
  const t = balancedThreshold([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 0.9], [0, 0, 0, 0, 0, 0, 1, 1]);
  assert.ok(t > 0.6 && t < 0.8, String(t));
  assert.equal(balancedThreshold([0.2, 0.7], [1, 1]), 0.5, 'one class only: the plain cut');
});

test('bestThreshold for accuracy calls a rare attribute off where the balanced cut would call it on', () => {
  // 2 positives of 10, one of them at low p: the balanced cut takes it (and 2 negatives) in; the
  // accuracy cut gives it up (9 of 10 right, against 8 of 10).
  const p = [0.05, 0.1, 0.2, 0.25, 0.3, 0.32, 0.34, 0.36, 0.38, 0.9];
  const y = [0, 0, 0, 0, 0, 0, 1, 0, 0, 1];
  const right = (t: number) => p.filter((v, i) => (v > t ? 1 : 0) === y[i]).length;
  const bal = bestThreshold(p, y, 'balanced');
  const acc = bestThreshold(p, y, 'accuracy');
  assert.ok(bal > 0.32 && bal < 0.34, `balanced cut ${bal}`);
  assert.equal(right(acc), 9, `accuracy cut ${acc}`);
  assert.equal(right(bal), 8);
  assert.equal(bestThreshold([0.2, 0.7], [0, 0], 'accuracy'), 0.5, 'one class only: the plain cut');
  // Face-major, two attributes: attribute 0 is that example, attribute 1 its reverse order.
  const p2 = p.flatMap((v) => [v, 1 - v]);
  const y2 = y.flatMap((v, i) => [v, 1 - y[i]]);
  assert.deepEqual(perAttributeThresholds(p2, y2, 2, 'accuracy'), [acc, bestThreshold(p.map((v) => 1 - v), y.map((v) => 1 - v), 'accuracy')]);
  assert.equal(perAttributeThresholds(p2, y2, 2, 'balanced')[0], bal);
});

test('talliesOf: verdicts p > cut per attribute (default 0.5), face-major p and y', () => {
  // 3 faces × 2 attributes.
  const p = [0.6, 0.2, 0.4, 0.35, 0.9, 0.1];
  const y = [1, 0, 1, 1, 0, 0];
  const plain = talliesOf(p, y, 2);
  assert.deepEqual([plain[0].truePositives, plain[0].positives, plain[0].trueNegatives, plain[0].negatives], [1, 2, 0, 1]);
  assert.deepEqual([plain[1].truePositives, plain[1].positives, plain[1].trueNegatives, plain[1].negatives], [0, 1, 2, 2]);
  // Cuts 0.3 / 0.3: attribute 0 calls face 1 (p 0.4) on; attribute 1 calls face 1 (0.35) on.
  const cut = talliesOf(p, y, 2, [0.3, 0.3]);
  assert.deepEqual([cut[0].truePositives, cut[0].trueNegatives], [2, 0]);
  assert.deepEqual([cut[1].truePositives, cut[1].trueNegatives], [1, 2]);
  // Means over attributes: 1 of 3 and 2 of 3 right; balanced (0.5 + 0) / 2 and (0 + 1) / 2.
  assert.ok(Math.abs(meanAccuracy(plain) - 0.5) < 1e-12 && Math.abs(plain[1].accuracy - 2 / 3) < 1e-12);
  assert.ok(Math.abs(meanBalanced(plain) - 0.375) < 1e-12);
  assert.ok(Math.abs(meanAccuracy(cut) - 5 / 6) < 1e-12);
});

test('the pretrained judge learns attributes from real labels and not from shuffled ones; its cache gives the same verdicts', { timeout: 600_000 }, async () => {
  await selectBackend();
  const data = await tinyFaces(300);
  const cacheDir = tempDir();
  const meanBalanced = async (shuffleLabels: boolean) => {
    const judge = await pretrainedJudgeFor(data, { cacheDir, epochs: 30, shuffleLabels });
    // All held-out faces (validation and test): a 300-face set holds only 30 of each.
    const tallies = await attributeTallies(judge, data, [...data.splits.val, ...data.splits.test]);
    const both = tallies.filter((t) => t.positives >= 3 && t.negatives >= 3);
    disposeClassifier(judge);
    return both.reduce((s, t) => s + t.balanced, 0) / both.length;
  };
  const real = await meanBalanced(false);
  const shuffled = await meanBalanced(true);
  console.log(`mean balanced accuracy on held-out faces: real labels ${real.toFixed(3)}, shuffled ${shuffled.toFixed(3)}`);
  assert.ok(real > 0.6, `real labels: mean balanced accuracy ${real.toFixed(3)}`);
  assert.ok(shuffled < 0.6 && real - shuffled > 0.08, `shuffled labels: ${shuffled.toFixed(3)} (real ${real.toFixed(3)})`);

  // Loaded from the cache, the judge says exactly what it said when trained: the probes trained again
  // on the same cached features (a copy without the probes) equal the cached probes.
  const again = tempDir();
  for (const d of fs.readdirSync(cacheDir).filter((d) => d.startsWith('judge-features-'))) fs.cpSync(path.join(cacheDir, d), path.join(again, d), { recursive: true });
  const fresh = await pretrainedJudgeFor(data, { cacheDir: again, epochs: 30 });
  const cached = await pretrainedJudgeFor(data, { cacheDir, epochs: 30 });
  const b = gatherBatch(data, data.splits.test.slice(0, 16));
  const [p1, p2] = [predictAttributes(fresh, b.x), predictAttributes(cached, b.x)];
  assert.ok(tf.max(tf.abs(tf.sub(p1, p2))).dataSync()[0] < 1e-5);
  assert.equal(cached.description, fresh.description);
  // A hidden-layer head (the heads pilot, results/logs/judge/judge-heads-64.md) is cached under its own key and reloads its four
  // weights in order: the same verdicts again, and not the linear head's.
  const mlp = await pretrainedJudgeFor(data, { cacheDir, epochs: 5, hidden: 16 });
  const mlpCached = await pretrainedJudgeFor(data, { cacheDir, epochs: 5, hidden: 16 });
  const [p3, p4] = [predictAttributes(mlp, b.x), predictAttributes(mlpCached, b.x)];
  assert.ok(tf.max(tf.abs(tf.sub(p3, p4))).dataSync()[0] < 1e-5);
  assert.ok(tf.max(tf.abs(tf.sub(p3, p2))).dataSync()[0] > 1e-3, 'the MLP head is not the cached linear one');
  assert.match(mlpCached.description, /16 ReLU units/);
  assert.equal(mlp.model.layers.length, 2);
  // Verdicts on real faces are cached by the judge's weights and the faces' pixels: the second call reads the
  // file (the same p), another judge (the MLP) gets its own file, other faces another.
  const verdicts = path.join(cacheDir, 'judge-verdicts');
  const files = () => (fs.existsSync(verdicts) ? fs.readdirSync(verdicts).length : 0);
  const before = files();
  const first = await attributeProbabilities(cached, data, data.splits.test);
  assert.equal(files(), before + 1);
  const second = await attributeProbabilities(cached, data, data.splits.test);
  assert.equal(files(), before + 1);
  assert.deepEqual(Array.from(second.p), Array.from(first.p));
  await attributeProbabilities(mlpCached, data, data.splits.test);
  await attributeProbabilities(cached, data, data.splits.test.slice(1));
  assert.equal(files(), before + 3);
  const blurredP = await attributeProbabilities(cached, data, data.splits.test, (x) => blurred(x, 2));
  assert.ok(Array.from(blurredP.p).some((v, i) => Math.abs(v - first.p[i]) > 1e-4), 'a transform is never served from the cache');
  tf.dispose([p1, p2, p3, p4, b.x, b.y]);
  [fresh, cached, mlp, mlpCached].forEach(disposeClassifier);
});

test('the judge trained with composites is cached apart from the faces-only judge (whose committed tables it must not overwrite)', async () => {
  const data = await tinyFaces(48);
  const withComposites = pretrainedJudgeCache(data, {});
  const facesOnly = pretrainedJudgeCache(data, { composites: false });
  assert.equal(withComposites.composites, true);
  assert.equal(facesOnly.compositeDir, null);
  assert.notEqual(withComposites.headDir, facesOnly.headDir);
  assert.equal(withComposites.featureDir, facesOnly.featureDir, 'both read the same faces\' features');
  assert.throws(() => pretrainedJudgeCache(data, { layout: 'means', composites: true }), /grid features/);
});
