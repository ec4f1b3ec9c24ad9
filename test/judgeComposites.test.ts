// The judge's composites of real faces (metrics/judgeComposites.ts), its threshold over unlabelled
// faces, and the diagnosis's alterations (metrics/judgeDiagnosis.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/lib/backend/selectBackend';
import { gatherBatch } from '../src/lib/data/faceDataset';
import { blurred } from '../src/lib/metrics/blur';
import { compositeImages, compositeLabels, compositeMask, compositePlan, JUDGE_COMPOSITES } from '../src/lib/metrics/judgeComposites';
import { agreeingDonors, DIAGNOSIS_ALTERATIONS } from '../src/lib/metrics/judgeDiagnosis';
import { bestThreshold } from '../src/lib/metrics/pretrainedJudge';
import { makeMaskBatch, parseMaskSpec } from '../src/lib/masks';
import { tinyFaces } from './helpers/tinyData';

test('compositePlan: seeded, one per face, the face itself blurred (2× or 4×) about half the time, else another face of the split', async () => {
  const faces = Array.from({ length: 400 }, (_, i) => 1000 + 2 * i);
  const plan = compositePlan(faces, 5, 'train');
  assert.deepEqual(plan, compositePlan(faces, 5, 'train'));
  assert.notDeepEqual(plan.map((c) => c.donor), compositePlan(faces, 5, 'val').map((c) => c.donor), 'each split its own stream');
  assert.deepEqual(plan.map((c) => c.host), faces);
  const self = plan.filter((c) => c.donor === c.host);
  assert.ok(Math.abs(self.length / plan.length - JUDGE_COMPOSITES.self) < 0.08, `self share ${self.length / plan.length}`);
  assert.ok(self.every((c) => c.blur > 1), 'a face filled from itself unblurred would be the photograph');
  assert.ok(plan.every((c) => faces.includes(c.donor)), 'donors from the same split');
  for (const k of JUDGE_COMPOSITES.holes.keys()) assert.ok(plan.some((c) => c.hole === k), `hole ${JUDGE_COMPOSITES.holes[k]} used`);
  assert.throws(() => compositePlan([3], 1, 'train'), /at least 2 faces/);
});

test('compositeLabels: a face filled from itself keeps every label; from another, the labels where the two agree and NaN where they differ', async () => {
  const data = await tinyFaces(48);
  const a = data.attributeNames.length;
  const [h, d] = [data.splits.train[0], data.splits.train[1]];
  const y = compositeLabels(data, [{ host: h, donor: h, hole: 0, boxIndex: 0, blur: 2 }, { host: h, donor: d, hole: 0, boxIndex: 0, blur: 1 }]);
  let disagree = 0;
  for (let j = 0; j < a; j++) {
    const [yh, yd] = [data.attributes[h * a + j], data.attributes[d * a + j]];
    assert.equal(y[j], yh);
    if (yh === yd) assert.equal(y[a + j], yh);
    else {
      assert.ok(Number.isNaN(y[a + j]), `attribute ${j}: host ${yh}, donor ${yd} must be unlabelled`);
      disagree++;
    }
  }
  assert.ok(disagree > 0, 'two faces that agree on all 40 attributes would not test the rule');
});

test('compositeImages: the host outside the hole, the donor blurred by its factor inside, pixel for pixel', async () => {
  await selectBackend();
  const data = await tinyFaces(48);
  const [h, d] = [data.splits.train[2], data.splits.train[5]];
  const S = data.preprocess.size;
  for (const [hole, blur] of [[0, 1], [1, 2], [2, 4]] as const) {
    const c = { host: h, donor: d, hole, boxIndex: 3, blur };
    const got = compositeImages(data, [c]);
    const hostX = gatherBatch(data, [h], []);
    const donorX = gatherBatch(data, [d], []);
    const soft = blurred(donorX.x, blur);
    const [g, hx, dx] = [got.dataSync(), hostX.x.dataSync(), soft.dataSync()];
    const m = compositeMask(c, S);
    let inside = 0;
    for (let p = 0; p < S * S; p++) {
      for (let ch = 0; ch < 3; ch++) {
        const want = m[p] === 1 ? hx[p * 3 + ch] : dx[p * 3 + ch];
        assert.ok(Math.abs(g[p * 3 + ch] - want) < 1e-6, `${JUDGE_COMPOSITES.holes[hole]} blur ${blur}: pixel ${p}`);
      }
      inside += +(m[p] === 0);
    }
    assert.ok(inside > S * S * 0.05, `${JUDGE_COMPOSITES.holes[hole]}: a hole of ${inside} pixels`);
    tf.dispose([got, hostX.x, hostX.y, donorX.x, donorX.y, soft]);
  }
});

test('bestThreshold ignores unlabelled (NaN) faces: the cut is the one of the labelled faces alone', () => {
  const p = [0.1, 0.2, 0.35, 0.4, 0.6, 0.7, 0.8, 0.9];
  const y = [0, 0, 0, 1, 0, 1, 1, 1];
  const cut = bestThreshold(p, y, 'balanced');
  // Unlabelled faces at the extremes would move the cut if they were counted as either class.
  const withUnlabelled = bestThreshold([...p, 0.05, 0.95, 0.5], [...y, NaN, NaN, NaN], 'balanced');
  assert.equal(withUnlabelled, cut);
  assert.ok(cut > 0.35 && cut < 0.9);
});

test('diagnosis: every alteration keeps the pixels outside the hole; in place blurs the hole, donors fill it from a face that agrees', async () => {
  await selectBackend();
  const data = await tinyFaces(48);
  const faces = data.splits.train.slice(0, 12);
  const donors = agreeingDonors(data, faces, 'Smiling');
  const a = data.attributeNames.length;
  const col = data.attributeNames.indexOf('Smiling');
  donors.forEach((d, k) => {
    assert.notEqual(d, faces[k]);
    assert.equal(data.attributes[d * a + col], data.attributes[faces[k] * a + col]);
  });
  const S = data.preprocess.size;
  const b = gatherBatch(data, faces.slice(0, 2), []);
  const dn = gatherBatch(data, donors.slice(0, 2), []);
  const m = makeMaskBatch(parseMaskSpec('rect:0.62,0.25,0.3,0.5'), 2, S, 0);
  const mv = m.dataSync();
  const x = b.x.dataSync();
  for (const alt of DIAGNOSIS_ALTERATIONS) {
    const out = alt.apply(b.x, dn.x, m);
    const v = out.dataSync();
    let changedInside = 0;
    let changedOutside = 0;
    for (let p = 0; p < 2 * S * S; p++) for (let ch = 0; ch < 3; ch++) {
      const diff = Math.abs(v[p * 3 + ch] - x[p * 3 + ch]) > 1e-6;
      if (mv[p] === 1) changedOutside += +diff;
      else changedInside += +diff;
    }
    if (alt.condition === 'photograph') assert.equal(changedInside + changedOutside, 0);
    else if (alt.condition.startsWith('whole face')) assert.ok(changedOutside > 0);
    else {
      assert.equal(changedOutside, 0, `${alt.condition}: pixels outside the hole changed`);
      assert.ok(changedInside > 0, `${alt.condition}: the hole unchanged`);
    }
    out.dispose();
  }
  tf.dispose([b.x, b.y, dn.x, dn.y, m]);
});
