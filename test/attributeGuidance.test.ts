import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/lib/backend/selectBackend';
import { klWeightAt, modelConfig } from '../src/lib/models/config';
import { gatherBatch } from '../src/lib/data/faceDataset';
import { createTrainingRun, trainStep, disposeRun } from '../src/lib/training/trainer';
import { guidanceTargets } from '../src/lib/training/attributeGuidance';
import { historyCsv, parseHistoryCsv } from '../src/lib/training/history';
import { tinyFaces, tinyModel, tinyTrain } from './helpers/tinyData';

const ready = selectBackend({ quiet: true });

test('guidance targets: 1/0 like the data, seeded, another face\'s attributes with one in 2A redrawn', async () => {
  await ready;
  const y = tf.tensor2d(Array.from({ length: 64 * 40 }, (_, i) => ((i * 7919) % 3 === 0 ? 1 : 0)), [64, 40]);
  const a = guidanceTargets(y, 5);
  const b = guidanceTargets(y, 5);
  const c = guidanceTargets(y, 6);
  const [va, vb, vc, rolled] = [a.dataSync(), b.dataSync(), c.dataSync(), tf.concat([y.slice(1), y.slice(0, 1)]).dataSync()];
  // The data's encoding (a -1 would be an input value the decoder never sees at test time).
  assert.ok(va.every((v) => v === 1 || v === 0));
  assert.deepEqual(va, vb);
  assert.notDeepEqual(va, vc);
  // Kept from the rolled batch where not redrawn (probability 1 − 1/80); a redrawn value equals the old one half the time.
  const agree = va.filter((v, i) => v === rolled[i]).length / va.length;
  assert.ok(agree > 0.985 && agree < 1, `agreement with the other face's attributes ${agree}`);
  // One attribute: redrawn with probability 1/2, so agreement ≈ 3/4.
  const y1 = tf.tensor2d(Array.from({ length: 400 }, (_, i) => (i % 3 === 0 ? 1 : 0)), [400, 1]);
  const t1 = guidanceTargets(y1, 5).dataSync();
  const rolled1 = tf.concat([y1.slice(1), y1.slice(0, 1)]).dataSync();
  const agree1 = t1.filter((v, i) => v === rolled1[i]).length / t1.length;
  assert.ok(agree1 > 0.68 && agree1 < 0.82, `one attribute: agreement ${agree1}`);
  tf.dispose([y, a, b, c, y1]);
});

test('attribute guidance trains the decoder through a frozen guide: total = ELBO terms + guidance, tensors flat, the guide unchanged', async () => {
  await ready;
  const faces = await tinyFaces(200);
  const run = await createTrainingRun({ model: tinyModel('attr1-decoder', { attributeGuidance: 20 }), train: tinyTrain({ klWarmupSteps: 10 }), data: faces, runDir: null });
  assert.ok(run.guide, 'a guide classifier is loaded');
  assert.match(run.guide!.classifier.description, /guide classifier \(4-conv CNN, widths 24\/48\/96\/192/);
  const guideBefore = run.guide!.classifier.model.getWeights().map((w) => w.dataSync().slice());
  const batch = gatherBatch(faces, faces.splits.train.slice(0, 16), run.attributeColumns);
  const counts: number[] = [];
  for (let step = 0; step < 4; step++) {
    const row = await trainStep(run, batch.x, batch.y, 0);
    assert.ok(row.guidance > 0, `step ${step}: guidance ${row.guidance}`);
    const expected = row.recon + row.perceptual + klWeightAt(1, step, 10) * row.kl + row.guidance;
    assert.ok(Math.abs(row.total - expected) < 1e-3 * expected, `step ${step}: total ${row.total} vs ${expected}`);
    counts.push(tf.memory().numTensors);
  }
  assert.ok(counts.every((n) => n === counts[0]), `tensor counts ${counts}`);
  run.guide!.classifier.model.getWeights().forEach((w, i) => assert.deepEqual(w.dataSync(), guideBefore[i]));
  // The history keeps the term; histories written before it existed still load.
  const rows = parseHistoryCsv(historyCsv(run.history));
  assert.equal(rows[3].guidance.toPrecision(5), run.history[3].guidance.toPrecision(5));
  const old = parseHistoryCsv('step,epoch,total,recon,perceptual,kl,ms\n0,0,1,1,0,0,5\n');
  assert.equal(old[0].guidance, 0);
  tf.dispose([batch.x, batch.y]);
  disposeRun(run);
});

test('guidance needs y in the decoder', () => {
  assert.throws(() => modelConfig('attr1-encoder', { attributeGuidance: 1 }), /attributeGuidance needs attributes in the decoder/);
  assert.throws(() => modelConfig('attr1-decoder', { attributeGuidance: -1 }), /attributeGuidance -1 must be ≥ 0/);
  assert.equal(modelConfig('attr1-both', { attributeGuidance: 3 }).attributeGuidance, 3);
});

test('a balanced guide is asked for by attributeGuide, which needs guidance on; absent means the plain guide', async () => {
  assert.throws(() => modelConfig('attr1-decoder', { attributeGuide: 'balanced' }), /attributeGuide needs attributeGuidance > 0/);
  assert.throws(() => modelConfig('attr1-decoder', { attributeGuidance: 2, attributeGuide: 'fair' as 'balanced' }), /attributeGuide "fair": expected balanced/);
  assert.equal('attributeGuide' in modelConfig('attr1-decoder', { attributeGuidance: 2 }), false, 'configs without it compare equal to runs saved before it existed');
  await ready;
  const faces = await tinyFaces(200);
  const run = await createTrainingRun({ model: tinyModel('attr1-decoder', { attributeGuidance: 20, attributeGuide: 'balanced' }), train: tinyTrain(), data: faces, runDir: null });
  assert.match(run.guide!.classifier.description, /^class-balanced attribute guide classifier \(4-conv CNN, widths 24\/48\/96\/192/);
  disposeRun(run);
});

test('guidanceOn completion: the guide sees forced completions (observed pixels kept, z from q(z | x\', m, y\')) and whole prior samples', async () => {
  await ready;
  const { buildVae } = await import('../src/lib/models/vae');
  const { makeMaskBatch, parseMaskSpec } = await import('../src/lib/masks');
  const { attributeGuidanceLoss } = await import('../src/lib/training/attributeGuidance');
  assert.throws(() => tinyModel('complete-attr40', { attributeGuidance: 4, guidanceOn: 'completion' }), /guidanceOn needs attributeGuidance > 0 and a masked model/);
  const config = tinyModel('attr1-both', { attributeGuidance: 4, guidanceOn: 'completion' });
  const model = buildVae(config, 3);
  const n = 16;
  const x = tf.randomUniform([n, 32, 32, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
  const mask = makeMaskBatch(parseMaskSpec('centre:0.5'), n, 32);
  const hole = { x: tf.mul(x, mask) as tf.Tensor4D, mask };
  const y = tf.tensor2d(Array.from({ length: n }, (_, i) => i % 2), [n, 1]);
  const posterior = model.encode(hole.x, mask, y);
  let seen: tf.Tensor4D | null = null;
  const guide = { columns: [0], classifier: { model: { apply: (img: tf.Tensor4D) => ((seen = tf.keep(img.clone())), tf.zeros([img.shape[0], 2])) } } } as never;
  tf.dispose(attributeGuidanceLoss(model, guide, y, posterior, null, 11, hole));
  const [v, m, h] = [seen!.dataSync(), mask.dataSync(), hole.x.dataSync()];
  let completions = 0;
  for (let i = 0; i < n; i++) {
    // Observed pixels equal to the photograph's: a completion; otherwise a whole decoded prior sample.
    let kept = true;
    for (let p = 0; p < 32 * 32; p++) if (m[i * 1024 + p] === 1) for (let c = 0; c < 3; c++) if (v[(i * 1024 + p) * 3 + c] !== h[(i * 1024 + p) * 3 + c]) kept = false;
    completions += +kept;
  }
  assert.ok(completions > 2 && completions < n - 2, `${completions} of ${n} images judged as completions (about half expected)`);
  tf.dispose([seen!, x, mask, hole.x, y, posterior.mu, posterior.logVar]);
  model.dispose();
});
