import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/lib/backend/selectBackend';
import { TABLE1_PRESETS, PAPER_ROWS, EXTRA_ROWS, klWeightAt, decoderAttributes, rowName, rowPreset } from '../src/lib/models/config';
import { buildVae } from '../src/lib/models/vae';
import { complete, forceAttributes, parseAttributeSettings } from '../src/lib/completion';
import { makeMaskBatch, maskPixels, parseMaskSpec } from '../src/lib/masks';
import { gatherBatch } from '../src/lib/data/faceDataset';
import { createTrainingRun, trainEpochs, trainStep, disposeRun } from '../src/lib/training/trainer';
import { attributeControl, controlRate, controlTable, realFillControl } from '../src/lib/experiments/attributeControl';
import type { FaceDataset } from '../src/lib/data/faceDataset';
import { completeFolder } from '../src/lib/experiments/completeFolder';
import { writeSyntheticFaces } from '../src/lib/data/syntheticFaces';
import type { AttributeClassifier } from '../src/lib/metrics/attributeClassifier';
import { CELEBA_ATTRIBUTES } from '../src/lib/data/attributes';
import { tableMarkdown, tableLatex } from '../src/lib/export/table';
import { tinyFaces, tinyModel, tinyTrain } from './helpers/tinyData';
import { tempDir } from './helpers/fixtures';

const ready = selectBackend({ quiet: true });
const facesPromise = tinyFaces(48);

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

test('Table 1 presets: the paper\'s eight rows in its order, then the extra ablations', () => {
  assert.deepEqual(Object.values(PAPER_ROWS), [
    'Complete + no attributes',
    'Cropped + no attributes',
    'Cropped + no attr, unmasked recon',
    'Complete + all attributes',
    'Complete + all attr, unmasked recon',
    'Cropped + 1 attribute (E)',
    'Cropped + 1 attribute (D)',
    'Cropped + 1 attribute (E + D)',
  ]);
  assert.deepEqual(Object.keys(TABLE1_PRESETS), [...Object.keys(PAPER_ROWS), ...Object.keys(EXTRA_ROWS)]);
  const p = TABLE1_PRESETS;
  assert.equal(p['complete-attr40'].trainInput, 'complete');
  assert.equal(p['complete-attr40'].attributes!.length, 40);
  assert.equal(p['oneshot-attr40'].decoderSeesObserved, true, 'all-attr unmasked recon is the one-shot model');
  assert.equal(p['oneshot-attr40'].attributes!.length, 40);
  assert.deepEqual([p['attr1-encoder'].placement, p['attr1-decoder'].placement, p['attr1-both'].placement], ['encoder', 'decoder', 'both']);
});

test('run folders name their row: a preset, a guided run PRESET-gλ, anything else as itself', () => {
  assert.equal(rowName('attr1-both'), 'Cropped + 1 attribute (E + D)');
  assert.equal(rowName('complete-attr40-g30'), 'Complete + all attributes + guidance (λ_a = 30)');
  assert.equal(rowPreset('complete-attr40-g2.5'), 'complete-attr40');
  assert.equal(rowName('complete-attr40-g10b'), 'Complete + all attributes + balanced guidance (λ_a = 10)');
  assert.equal(rowName('no-such-preset-g4'), 'no-such-preset-g4', 'only a known preset gets the guided name');
  assert.equal(rowPreset('no-such-preset-g4'), 'no-such-preset-g4');
});

test('the Gibbs chain encodes the current estimate: with z = μ, 10 steps differ from 1 for every masked preset after training', async () => {
  await ready;
  const faces = await facesPromise;
  const masked = Object.keys(TABLE1_PRESETS).filter((p) => TABLE1_PRESETS[p].trainInput === 'masked');
  assert.ok(masked.length >= 8);
  const batch = gatherBatch(faces, faces.splits.val.slice(0, 4));
  const mask = makeMaskBatch(parseMaskSpec('centre:0.5'), 4, 32);
  for (const preset of masked) {
    const run = await createTrainingRun({ model: tinyModel(preset), train: tinyTrain({ stepsPerEpoch: 3 }), data: faces, runDir: null });
    await trainEpochs(run);
    const y = run.modelConfig.attributes.length ? (tf.gather(batch.y, run.attributeColumns, 1) as tf.Tensor2D) : null;
    const run1 = (steps: number, encoderInput: 'estimate' | 'observed') => complete(run.model, batch.x, mask, y, { method: 'gibbs', steps, latent: 'mean', seed: 0, encoderInput }).completed;
    const [one, ten] = [run1(1, 'estimate'), run1(10, 'estimate')];
    assert.ok(maxAbsDiff(one, ten) > 1e-4, `${preset}: T = 10 equals T = 1 (the chain does not iterate)`);
    // The named ablation: encoding only m ⊙ x makes every step with z = μ the same.
    const [o1, o10] = [run1(1, 'observed'), run1(10, 'observed')];
    assert.equal(maxAbsDiff(o1, o10), 0, `${preset}: encoding m ⊙ x only should repeat the same step`);
    tf.dispose([one, ten, o1, o10, ...(y ? [y] : [])]);
    disposeRun(run);
  }
  tf.dispose([batch.x, batch.y, mask]);
});

test('y modulates every decoder block (FiLM) of decoder-conditioned models, and only those', async () => {
  await ready;
  for (const preset of Object.keys(TABLE1_PRESETS)) {
    const c = tinyModel(preset);
    const vae = buildVae(c, 0);
    const films = vae.decoder.layers.map((l) => l.name).filter((n) => /^dec_film\d+_scale$/.test(n));
    assert.equal(films.length, decoderAttributes(c) ? c.channels.length : 0, `${preset}: FiLM blocks`);
    if (decoderAttributes(c)) {
      // Every block's scale and shift read y (the decoder's y input), not z.
      for (const n of films) assert.equal(vae.decoder.getLayer(n).inboundNodes[0].inboundLayers[0].name, 'dec_y', `${preset}: ${n} reads y`);
    }
    vae.dispose();
  }
});

test('the KL weight warms up linearly to β over klWarmupSteps, and training uses it', async () => {
  await ready;
  assert.equal(klWeightAt(1, 0, 100), 0.01);
  assert.equal(klWeightAt(2, 49, 100), 1);
  assert.equal(klWeightAt(2, 500, 100), 2);
  assert.equal(klWeightAt(0.5, 0, 0), 0.5);
  const faces = await facesPromise;
  const run = await createTrainingRun({ model: tinyModel('vae-complete'), train: tinyTrain({ klWarmupSteps: 10 }), data: faces, runDir: null });
  const batch = gatherBatch(faces, faces.splits.train.slice(0, 8));
  for (let step = 0; step < 3; step++) {
    const row = await trainStep(run, batch.x, batch.y, 0);
    const expected = row.recon + row.perceptual + klWeightAt(1, step, 10) * row.kl;
    assert.ok(Math.abs(row.total - expected) < 1e-3 * Math.abs(expected), `step ${step}: total ${row.total} vs ${expected}`);
    assert.ok(row.kl > 0);
  }
  tf.dispose([batch.x, batch.y]);
  disposeRun(run);
});

test('forced attributes: --set parsing, and y with a column forced on or off', async () => {
  await ready;
  assert.deepEqual(parseAttributeSettings('Smiling=1,Male=-1'), { Smiling: 1, Male: 0 });
  assert.throws(() => parseAttributeSettings('Smiling=2'), /--set "Smiling=2": expected ATTRIBUTE=1 or ATTRIBUTE=-1/);
  assert.throws(() => parseAttributeSettings('Smiles=1'), /--set Smiles: not a CelebA attribute/);
  const y = tf.tensor2d([[1, 0, 1], [0, 0, 1]]);
  assert.deepEqual(forceAttributes(y, ['A', 'B', 'C'], { B: 1, C: 0 }).arraySync(), [[1, 1, 0], [0, 1, 0]]);
  // Strength s: forced values at 0.5 ± s/2 (a strength applied to the kept columns, or to 1 − v, fails here).
  assert.deepEqual(forceAttributes(y, ['A', 'B', 'C'], { B: 1, C: 0 }, 2).arraySync(), [[1, 1.5, -0.5], [0, 1.5, -0.5]]);
  assert.deepEqual(forceAttributes(y, ['A', 'B', 'C'], { A: 1 }, 1.5).arraySync(), [[1.25, 0, 1], [1.25, 0, 1]]);
  for (const bad of [0, -1, NaN, Infinity]) assert.throws(() => forceAttributes(y, ['A', 'B', 'C'], { A: 1 }, bad), new RegExp(`attribute strength ${bad}: expected a number > 0`));
  y.dispose();
});

/** A judge that calls every attribute "on" for bright images: mean brightness → logit. */
function brightnessClassifier(): AttributeClassifier {
  const model = tf.sequential({ layers: [tf.layers.globalAveragePooling2d({ inputShape: [32, 32, 3] }), tf.layers.dense({ units: 40, kernelInitializer: 'ones', biasInitializer: tf.initializers.constant({ value: -1.5 }) })] });
  return { model, imageSize: 32, attributeNames: [...CELEBA_ATTRIBUTES], valAccuracy: 1, description: 'brightness judge' };
}

test('control rate: the fraction of off/on pairs the classifier judges off and on', async () => {
  await ready;
  const judge = brightnessClassifier();
  const dark = tf.fill([4, 32, 32, 3], 0.1) as tf.Tensor4D;
  const bright = tf.fill([4, 32, 32, 3], 0.9) as tf.Tensor4D;
  const mixed = tf.concat([dark.slice(0, 1), bright.slice(0, 3)]) as tf.Tensor4D;
  assert.deepEqual(await controlRate(judge, dark, bright, 'Smiling'), { rate: 1, offRate: 1, onRate: 1, direction: 1, pairs: 4 });
  assert.deepEqual(await controlRate(judge, bright, dark, 'Smiling'), { rate: 0, offRate: 0, onRate: 0, direction: 0, pairs: 4 });
  assert.equal((await controlRate(judge, dark, dark, 'Smiling')).direction, 0, 'no change: never higher');
  assert.deepEqual(await controlRate(judge, mixed, bright, 'Male'), { rate: 0.25, offRate: 0.25, onRate: 1, direction: 0.25, pairs: 4 });
  tf.dispose([dark, bright, mixed]);
  judge.model.dispose();
});

test('real fill: each face keeps its observed pixels and takes its hole from a real face without / with the attribute', async () => {
  await ready;
  const judge = brightnessClassifier();
  const size = 32;
  const n = 8;
  const a = CELEBA_ATTRIBUTES.length;
  const col = CELEBA_ATTRIBUTES.indexOf('Smiling');
  const hole = maskPixels(parseMaskSpec('centre:0.5'), size);
  // Observed pixels 0.5 everywhere; the hole bright (0.9) on smiling faces, dark (0.1) otherwise: the
  // brightness judge then calls a face on exactly when its hole came from a smiling face.
  const smiling = [1, 0, 0, 1, 0, 1, 1, 0];
  const pixels = new Uint8Array(n * size * size * 3);
  const attributes = new Uint8Array(n * a);
  smiling.forEach((s, i) => {
    attributes[i * a + col] = s;
    for (let p = 0; p < size * size; p++) pixels.fill(Math.round(255 * (hole[p] ? 0.5 : s ? 0.9 : 0.1)), (i * size * size + p) * 3, (i * size * size + p + 1) * 3);
  });
  const idx = Array.from({ length: n }, (_, i) => i);
  const data = { kind: 'synthetic', root: '-', imageDir: '-', preprocess: { size, cropFraction: 1 }, images: idx.map(String), pixels, attributeNames: [...CELEBA_ATTRIBUTES], attributes, splits: { train: [], val: [], test: idx }, partition: 'seeded', skipped: [], fromCache: false } as unknown as FaceDataset;
  const x = gatherBatch(data, idx, []);
  const mask = makeMaskBatch(parseMaskSpec('centre:0.5'), n, size);
  const fill = await realFillControl(judge, data, idx, x.x, mask, 'Smiling');
  assert.deepEqual(fill, { rate: 1, offRate: 1, onRate: 1, direction: 1, pairs: n }, 'donors of the wrong side, or the face\'s own hole, would score 0');
  // A judge of the observed pixels only (the faces' own holes kept) cannot tell the fills apart.
  const ownHole = await realFillControl(judge, data, idx, x.x, tf.onesLike(mask), 'Smiling');
  assert.equal(ownHole!.direction, 0);
  data.attributes.fill(0);
  assert.equal(await realFillControl(judge, data, idx, x.x, mask, 'Smiling'), null, 'no smiling donor: no figure');
  const table = controlTable({ m: [{ attribute: 'Smiling', decoder: null, completion: { rate: 0.2, offRate: 0.5, onRate: 0.5, direction: 0.9, pairs: 8 }, realPair: 0.8, realFill: fill }] }, ['Smiling']);
  assert.deepEqual(table.rows.map((r) => r.cells[0]), ['0.80', '1.00', '— / 0.20 (0.90; 0.25× real; 0.20× real fill)']);
  tf.dispose([x.x, x.y, mask]);
  judge.model.dispose();
});

test('vii sweep layout: ATTR/off|on/NNN.png from the same z, completions forced off and on, control.json', async () => {
  await ready;
  const faces = await facesPromise;
  const run = await createTrainingRun({ model: tinyModel('attr40-both'), train: tinyTrain({ stepsPerEpoch: 2 }), data: faces, runDir: null });
  await trainEpochs(run);
  const judge = brightnessClassifier();
  const out = tempDir();
  const results = await attributeControl({ model: run.model, data: faces, classifier: judge, attributes: ['Smiling', 'Young'], samples: 3, seed: 1, out, gibbsSteps: 2 });
  assert.deepEqual(results.map((r) => r.attribute), ['Smiling', 'Young']);
  for (const a of ['Smiling', 'Young']) {
    for (const d of ['off', 'on', 'completion-off', 'completion-on']) {
      assert.deepEqual(fs.readdirSync(path.join(out, a, d)).sort(), ['000.png', '001.png', '002.png'], `${a}/${d}`);
    }
  }
  const saved = JSON.parse(fs.readFileSync(path.join(out, 'control.json'), 'utf8'));
  assert.equal(saved.samples, 3);
  assert.equal(saved.results[0].decoder.pairs, 3);
  for (const r of results) for (const c of [r.decoder!, r.completion]) assert.ok(c.rate >= 0 && c.rate <= Math.min(c.offRate, c.onRate));
  for (const r of results) assert.ok(r.completionCheckerboard!.off > 0 && r.completionCheckerboard!.on > 0, 'the forced completions\' checkerboard against the photographs, off and on');
  assert.ok(fs.existsSync(path.join(out, 'sweep-grid.png')) && fs.existsSync(path.join(out, 'completion-grid.png')));
  await assert.rejects(attributeControl({ model: run.model, data: faces, classifier: judge, attributes: ['Smiles'], samples: 2, seed: 1, out: null }), /--attributes Smiles: model "attr40-both" is conditioned on 40 attributes/);
  // A strength reaches the forced completions (same faces, z and seeds) and is recorded; 0 is refused.
  const strong = tempDir();
  await attributeControl({ model: run.model, data: faces, classifier: judge, attributes: ['Smiling'], samples: 3, seed: 1, out: strong, gibbsSteps: 2, strength: 3 });
  assert.equal(JSON.parse(fs.readFileSync(path.join(strong, 'control.json'), 'utf8')).strength, 3);
  assert.equal(saved.strength, 1);
  for (const side of ['completion-on', 'on']) assert.notDeepEqual(fs.readFileSync(path.join(strong, 'Smiling', side, '000.png')), fs.readFileSync(path.join(out, 'Smiling', side, '000.png')), side);
  await assert.rejects(attributeControl({ model: run.model, data: faces, classifier: judge, attributes: ['Smiling'], samples: 2, seed: 1, out: null, strength: 0 }), /sweep strength 0: expected a number > 0/);
  judge.model.dispose();
  disposeRun(run);
});

test('vii complete: --latent mean, --set forces attributes without an attribute file, run.json records the chain', async () => {
  await ready;
  const facesDir = tempDir();
  await writeSyntheticFaces({ dir: facesDir, count: 12, seed: 5 });
  const { loadCelebA } = await import('../src/lib/data/loadCelebA');
  const data = await loadCelebA({ dir: facesDir, preprocess: { size: 32, cropFraction: 0.9 }, cacheDir: null, kind: 'synthetic' });
  const runDir = tempDir();
  const run = await createTrainingRun({ model: tinyModel('attr1-both'), train: tinyTrain({ stepsPerEpoch: 2 }), data, runDir });
  await trainEpochs(run);
  disposeRun(run);
  const images = path.join(facesDir, 'img_align_celeba');
  const go = (set: Record<string, number>) => completeFolder({ checkpoint: runDir, images, out: tempDir(), limit: 4, steps: 5, latent: 'mean', set, log: () => {} });
  const on = await go({ Smiling: 1 });
  const off = await go({ Smiling: 0 });
  assert.equal(on.chainMaskedL1.length, 5);
  assert.ok(on.chainMaskedL1.every((v) => v > 0 && v < 1));
  assert.ok(new Set(on.chainMaskedL1).size > 1, `the chain moves: ${on.chainMaskedL1}`);
  assert.notDeepEqual(on.chainMaskedL1, off.chainMaskedL1, 'forcing Smiling changes the completions');
  const out = tempDir();
  await completeFolder({ checkpoint: runDir, images, out, limit: 2, steps: 3, latent: 'mean', set: { Smiling: 0 }, log: () => {} });
  const saved = JSON.parse(fs.readFileSync(path.join(out, 'run.json'), 'utf8'));
  assert.equal(saved.latent, 'mean');
  assert.equal(saved.encoderInput, 'estimate');
  assert.deepEqual(saved.set, { Smiling: -1 });
  assert.equal(saved.chainMaskedL1.length, 3);
  await assert.rejects(go({ Male: 1 }), /--set Male: model "attr1-both" is not conditioned on Male/);
});

test('a table puts a rule before the extra ablations (Markdown and LaTeX)', () => {
  const t = { caption: 'c', columns: ['SSIM ↑'], rows: [{ name: 'Cropped + no attributes', cells: [0.5] }, { name: 'Real images', cells: [null] }, { name: 'Cropped + all attributes (D)', cells: [0.4], rule: true }] };
  const md = tableMarkdown(t).split('\n');
  assert.match(md[md.findIndex((l) => l.includes('(D)')) - 1], /extra ablations/);
  const tex = tableLatex(t).split('\n');
  assert.equal(tex[tex.findIndex((l) => l.includes('(D)')) - 1], '\\hline');
});

test('prior mixing: images decoded from z ~ N(0, I) carry no KL term; the decoder-attribute presets use it', async () => {
  await ready;
  const { klDivergence } = await import('../src/lib/losses');
  const mu = tf.tensor2d([[1, 0], [0, 2]]);
  const lv = tf.zeros([2, 2]) as tf.Tensor2D;
  const full = klDivergence(mu, lv).dataSync()[0];
  assert.equal(full, (0.5 + 2) / 2);
  assert.equal(klDivergence(mu, lv, tf.tensor1d([0, 1])).dataSync()[0], 2 / 2, 'the first image\'s KL is dropped, the batch mean kept');
  for (const p of Object.keys(TABLE1_PRESETS)) {
    const c = tinyModel(p);
    assert.equal(c.priorMixing > 0, decoderAttributes(c), `${p}: prior mixing exactly for decoder-attribute models`);
  }
  const faces = await facesPromise;
  const batch = gatherBatch(faces, faces.splits.train.slice(0, 8));
  const klOf = async (priorMixing: number) => {
    const run = await createTrainingRun({ model: tinyModel('attr1-decoder', { priorMixing }), train: tinyTrain({ klWarmupSteps: 0 }), data: faces, runDir: null });
    const y = tf.gather(batch.y, run.attributeColumns, 1) as tf.Tensor2D;
    const kl: number[] = [];
    for (let i = 0; i < 3; i++) kl.push((await trainStep(run, batch.x, y, 0)).kl);
    y.dispose();
    disposeRun(run);
    return kl;
  };
  assert.ok((await klOf(0)).every((k) => k > 0));
  assert.deepEqual(await klOf(0.9999), [0, 0, 0], 'every image from the prior: no KL');
  tf.dispose([mu, lv, batch.x, batch.y]);
});
