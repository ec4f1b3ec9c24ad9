// Issue 38: the decoder's upsampling setting and the adversarial term (a patch discriminator).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/lib/backend/selectBackend';
import { configRow, modelConfig } from '../src/lib/models/config';
import { buildVae } from '../src/lib/models/vae';
import { loadCheckpoint } from '../src/lib/models/checkpoint';
import { nyquistFraction } from '../src/lib/metrics/checkerboard';
import { makeMaskBatch, parseMaskSpec } from '../src/lib/masks';
import { gatherBatch } from '../src/lib/data/faceDataset';
import { buildDiscriminator, discriminatorGradients, discriminatorLoss, generatorLoss, patchWeights } from '../src/lib/training/adversarial';
import { createTrainingRun, disposeRun, trainEpochs, trainStep, TrainingDivergedError } from '../src/lib/training/trainer';
import { runFolderName } from '../src/lib/spec/experimentSpec';
import { tinyFaces, tinyModel, tinyTrain } from './helpers/tinyData';
import { tempDir } from './helpers/fixtures';
import { historyWithoutTimes, wholeAndResumed } from './helpers/resumeRuns';

const ready = selectBackend({ quiet: true });
const facesPromise = tinyFaces(48);

const params = (c: ReturnType<typeof modelConfig>) => {
  const m = buildVae(c, 3);
  const n = m.encoder.countParams() + m.decoder.countParams();
  m.dispose();
  return n;
};

test('upsampling: every variant decodes 64×64 at the transposed decoder\'s parameter budget (within 10 %); resize and sub-pixel start without a checkerboard', async () => {
  await ready;
  const base = params(modelConfig('vae-partial'));
  const z = tf.randomNormal([8, 128], 0, 1, 'float32', 11) as tf.Tensor2D;
  const fraction: Record<string, number> = {};
  for (const u of ['transposed', 'resize', 'subpixel'] as const) {
    const c = modelConfig('vae-partial', { upsampling: u });
    const n = params(c);
    assert.ok(Math.abs(n / base - 1) <= 0.1, `${u}: ${n} parameters against ${base}`);
    const m = buildVae(c, 3);
    const x = m.decode(z, null, null);
    assert.deepEqual(x.shape, [8, 64, 64, 3]);
    const f = (await nyquistFraction(x).data()) as Float32Array;
    fraction[u] = f.reduce((a, b) => a + b, 0) / f.length;
    tf.dispose(x);
    m.dispose();
  }
  // An untrained 4×4/2 transposed conv already leaves its checkerboard; ICNR (tied sub-pixel phases) and resize-conv cannot.
  assert.ok(fraction.transposed > 0.1, `transposed ${fraction.transposed}`);
  assert.ok(fraction.resize < 0.01 && fraction.subpixel < 0.01, `resize ${fraction.resize}, subpixel ${fraction.subpixel} (untied sub-pixel phases would show one)`);
  z.dispose();
});

test('upsampling is a setting: the default stays absent (old hashes hold), unknown values are refused, a fine-tune cannot change it', async () => {
  await ready;
  const plain = modelConfig('vae-partial');
  const explicit = modelConfig('vae-partial', { upsampling: 'transposed', adversarial: 0 });
  assert.deepEqual(explicit, plain, '"transposed" and λ_adv 0 are stored as absent');
  assert.equal(runFolderName(explicit, tinyTrain(), null), runFolderName(plain, tinyTrain(), null));
  assert.match(runFolderName(modelConfig('vae-partial', { upsampling: 'resize', adversarial: 0.01 }), tinyTrain(), null), /-resize-adv0\.01-/);
  assert.equal(configRow(modelConfig('vae-partial', { upsampling: 'resize', adversarial: 0.01 })), 'Cropped + no attributes + resize-conv decoder + adversarial (λ_adv = 0.01)', 'tables name the variant');
  assert.throws(() => modelConfig('vae-partial', { upsampling: 'bicubic' as never }), /upsampling "bicubic": expected transposed, resize, subpixel/);
  assert.throws(() => modelConfig('vae-partial', { adversarial: -1 }), /adversarial -1/);
  const faces = await facesPromise;
  const parentDir = tempDir();
  const parent = await createTrainingRun({ model: tinyModel('vae-partial'), train: tinyTrain({ stepsPerEpoch: 1 }), data: faces, runDir: parentDir });
  await trainEpochs(parent);
  disposeRun(parent);
  await assert.rejects(
    createTrainingRun({ model: tinyModel('vae-partial', { upsampling: 'resize' }), train: tinyTrain({ initFrom: { checkpoint: parentDir, step: 1 } }), data: faces, runDir: tempDir() }),
    /upsampling undefined, this run's "resize"; a fine-tune keeps the architecture/,
  );
});

test('the discriminator\'s step reaches only its own weights; the VAE\'s adversarial term reaches only the VAE\'s', async () => {
  await ready;
  const faces = await facesPromise;
  const run = await createTrainingRun({ model: tinyModel('vae-partial', { adversarial: 0.01 }), train: tinyTrain(), data: faces, runDir: null });
  const d = run.discriminator!;
  const batch = gatherBatch(faces, [0, 1, 2, 3, 4, 5, 6, 7]);
  const mask = makeMaskBatch(parseMaskSpec('centre:0.5'), 8, 32);
  const fake = tf.tidy(() => tf.clipByValue(tf.add(batch.x, tf.randomNormal(batch.x.shape, 0, 0.2, 'float32', 5)), 0, 1) as tf.Tensor4D);
  const w = patchWeights(mask, false);
  // D's gradients: exactly D's variables (a D loss on a completion still on the VAE's tape would list the VAE's).
  const { loss, grads } = discriminatorGradients(d, batch.x, fake, mask, w);
  assert.deepEqual(Object.keys(grads).sort(), d.weights.map((v) => v.name).sort());
  tf.dispose([loss, ...Object.values(grads)]);
  // The VAE's step: its gradient list is the VAE's weights only, and it leaves D's weights as they were.
  const before = d.weights.map((v) => v.dataSync().slice());
  const vaeBefore = run.model.trainableWeights().map((v) => v.dataSync().slice());
  const row = await trainStep(run, batch.x, batch.y, 0);
  assert.ok(row.adversarial !== 0 && row.discriminator > 0, `both terms recorded: ${row.adversarial}, ${row.discriminator}`);
  // D's step of trainStep changed D; the VAE's weights changed too (its own step).
  assert.ok(d.weights.some((v, i) => v.dataSync().some((x, j) => x !== before[i][j])), 'D was updated');
  assert.ok(run.model.trainableWeights().some((v, i) => v.dataSync().some((x, j) => x !== vaeBefore[i][j])), 'the VAE was updated');
  // More steps leave no tensors behind (D's patch weights, the kept completion, D's loss and gradients).
  const tensors = tf.memory().numTensors;
  for (let i = 1; i < 4; i++) await trainStep(run, batch.x, batch.y, i * 8);
  assert.equal(tf.memory().numTensors, tensors, 'the tensor count stays flat over adversarial steps');
  tf.dispose([batch.x, batch.y, mask, fake, w]);
  disposeRun(run);
});

test('the hinge terms pull the right way: D\'s step lowers its loss, the VAE\'s adversarial gradient raises D\'s score of the fill', async () => {
  await ready;
  const faces = await facesPromise;
  const d = buildDiscriminator(2e-3, 3);
  const batch = gatherBatch(faces, [0, 1, 2, 3, 4, 5, 6, 7]);
  const mask = makeMaskBatch(parseMaskSpec('centre:0.5'), 8, 32);
  const w = patchWeights(mask, false);
  const fake = tf.tidy(() => tf.add(tf.mul(batch.x, mask), tf.mul(tf.sub(1, mask), 0.5)) as tf.Tensor4D); // a grey fill
  const lossOf = async () => (await discriminatorLoss(d, batch.x, fake, mask, w).data())[0];
  const first = await lossOf();
  for (let i = 0; i < 5; i++) {
    const { loss, grads } = discriminatorGradients(d, batch.x, fake, mask, w);
    d.optimizer.applyGradients(grads as Record<string, tf.Variable>);
    tf.dispose([loss, ...Object.values(grads)]);
  }
  const last = await lossOf();
  assert.ok(last < first, `D's hinge loss ${first} → ${last}`);
  // A fill variable g: descending the generator loss must raise D's weighted logit on the completion.
  const fill = tf.variable(tf.fill([8, 32, 32, 3], 0.5), true, 'adv-test-fill');
  const completed = () => tf.add(tf.mul(batch.x, mask), tf.mul(tf.sub(1, mask), fill)) as tf.Tensor4D;
  const g0 = (await generatorLoss(d, completed(), mask, w).data())[0];
  const { value, grads } = tf.variableGrads(() => generatorLoss(d, completed(), mask, w), [fill]);
  fill.assign(tf.sub(fill, tf.mul(grads[fill.name], 50)) as tf.Tensor4D);
  const g1 = (await generatorLoss(d, completed(), mask, w).data())[0];
  assert.ok(g1 < g0, `−D(fill) ${g0} → ${g1}: the VAE's term should make the fill look real to D`);
  // Cells without hole pixels weigh nothing: the observed ring of a centre hole is real in both images.
  const weights = Array.from(await w.data());
  assert.ok(weights.some((v) => v === 0) && weights.some((v) => v === 1), 'cells outside the hole 0, inside 1');
  tf.dispose([value, ...Object.values(grads), fill, batch.x, batch.y, mask, w, fake]);
  d.dispose();
});

test('an adversarial run killed mid-way and resumed ends bit-exactly as one uninterrupted run (D\'s weights, spectral vectors and Adam included)', async () => {
  await ready;
  const faces = await facesPromise;
  const model = tinyModel('vae-partial', { adversarial: 0.01 });
  const train = tinyTrain({ epochs: 2, stepsPerEpoch: 3, checkpointEvery: 2 });
  const { whole, split } = await wholeAndResumed(model, train, faces, 4);
  const tensors = (dir: string) => {
    const ckpt = loadCheckpoint(dir);
    // Optimizer entries are named after the live variables (unique per process): compared by position and owner.
    const opt = ckpt.optimizer!.map((s, i) => [`${s.name.startsWith('discriminator:') ? 'discriminator:' : 'vae:'}${i}`, s.tensor] as const);
    const out = Object.fromEntries([...Object.entries(ckpt.weights), ...opt].map(([k, t]) => [k, Array.from(t.dataSync())]));
    tf.dispose([...Object.values(ckpt.weights), ...ckpt.optimizer!.map((s) => s.tensor)]);
    return out;
  };
  const [ta, tc] = [tensors(whole), tensors(split)];
  assert.ok(Object.keys(ta).some((k) => k.startsWith('discriminator/u')), 'the spectral vectors are checkpointed');
  assert.ok(Object.keys(ta).some((k) => k.startsWith('discriminator:')), "D's Adam state is checkpointed");
  assert.deepEqual(Object.keys(tc).sort(), Object.keys(ta).sort());
  for (const k of Object.keys(ta)) assert.deepEqual(tc[k], ta[k], k);
  assert.deepEqual(historyWithoutTimes(split), historyWithoutTimes(whole));
});

test('a diverging discriminator stops training like a NaN loss, naming the term, and nothing is applied', async () => {
  await ready;
  const faces = await facesPromise;
  const runDir = tempDir();
  const run = await createTrainingRun({ model: tinyModel('vae-partial', { adversarial: 0.01 }), train: tinyTrain({ stepsPerEpoch: 1, checkpointEvery: 1 }), data: faces, runDir });
  await trainEpochs(run);
  const vae = run.model.trainableWeights().map((v) => v.dataSync().slice());
  // A blown-up D: its last layer's bias is infinite, so its logits and hinge loss are not finite.
  const bias = run.discriminator!.weights[run.discriminator!.weights.length - 1];
  bias.assign(tf.fill(bias.shape, Infinity));
  const batch = gatherBatch(faces, [0, 1, 2, 3, 4, 5, 6, 7]);
  await assert.rejects(trainStep(run, batch.x, batch.y, 0), (e: Error) => e instanceof TrainingDivergedError && /the adversarial and discriminator terms are/.test(e.message) && /last good checkpoint is kept/.test(e.message));
  run.model.trainableWeights().forEach((v, i) => assert.deepEqual(v.dataSync(), vae[i], 'the VAE is untouched'));
  tf.dispose([batch.x, batch.y]);
  disposeRun(run);
});
