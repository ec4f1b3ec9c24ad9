import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { spawn } from 'child_process';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/lib/backend/selectBackend';
import { writeSyntheticFaces } from '../src/lib/data/syntheticFaces';
import { loadCelebA } from '../src/lib/data/loadCelebA';
import { createTrainingRun, trainEpochs, disposeRun, TrainingDivergedError } from '../src/lib/training/trainer';
import { loadCheckpoint } from '../src/lib/models/checkpoint';
import { tinyModel } from './helpers/tinyData';
import { tempDir } from './helpers/fixtures';
import { CHILD_PRESET, CHILD_TRAIN, runTrainChild } from './helpers/trainChild';

const root = path.resolve(__dirname, '..');
const child = path.join(__dirname, 'helpers', 'trainChild.ts');
const facesDir = tempDir();
const setup = (async () => {
  await selectBackend({ quiet: true });
  await writeSyntheticFaces({ dir: facesDir, count: 48, seed: 4 });
  const data = await loadCelebA({ dir: facesDir, preprocess: { size: 32, cropFraction: 0.9 }, cacheDir: null, kind: 'synthetic' });
  const whole = path.join(tempDir(), 'whole');
  const run = await createTrainingRun({ model: tinyModel(CHILD_PRESET), train: CHILD_TRAIN, data, runDir: whole });
  await trainEpochs(run);
  const steps = run.step;
  disposeRun(run);
  return { whole, steps };
})();

/** Every weight and optimizer tensor of a run's newest checkpoint, by name. */
function state(runDir: string): Map<string, Float32Array | Int32Array> {
  const c = loadCheckpoint(runDir);
  const out = new Map<string, Float32Array | Int32Array>();
  for (const [k, t] of Object.entries(c.weights)) out.set(`w:${k}`, t.dataSync() as Float32Array);
  for (const { name, tensor } of c.optimizer!) out.set(`opt:${name}`, tensor.dataSync() as Float32Array);
  tf.dispose([...Object.values(c.weights), ...c.optimizer!.map((o) => o.tensor)]);
  return out;
}

function assertSameState(a: string, b: string): void {
  const [sa, sb] = [state(a), state(b)];
  assert.deepEqual([...sb.keys()].sort(), [...sa.keys()].sort());
  assert.ok(sa.has('opt:adam/accBeta1'), 'the running β^t products are saved');
  for (const [k, v] of sa) {
    const w = sb.get(k)!;
    let differ = 0;
    for (let i = 0; i < v.length; i++) if (v[i] !== w[i] && !(Number.isNaN(v[i]) && Number.isNaN(w[i]))) differ++;
    assert.equal(differ, 0, `${k}: ${differ} of ${v.length} values differ from the uninterrupted run`);
  }
}

/** Run the training child; SIGKILL it when a stdout line matches `killOn`. Resolves with what it printed. */
function trainUntil(runDir: string, killOn: RegExp | null, env: Record<string, string> = {}): Promise<{ lines: string[]; killed: boolean }> {
  return runTrainChild(facesDir, runDir, killOn, env);
}

test('a run SIGKILLed between checkpoints, resumed, ends bit-identical to an uninterrupted run (weights and Adam state)', async () => {
  const { whole, steps } = await setup;
  assert.ok(steps >= 24, `${steps} steps`);
  const runDir = path.join(tempDir(), 'killed');
  const first = await trainUntil(runDir, /^step 23$/);
  assert.ok(first.killed, 'the child was killed');
  const saved = JSON.parse(fs.readFileSync(path.join(runDir, 'latest.json'), 'utf8')).step as number;
  const reached = Math.max(...first.lines.filter((l) => l.startsWith('step ')).map((l) => Number(l.slice(5))));
  assert.ok(saved < reached && saved >= 18, `killed after step ${reached} with the newest checkpoint at ${saved}: steps are lost and replayed, from a step where pow(β, t+1) ≠ the running product`);
  const second = await trainUntil(runDir, null);
  assert.equal(second.lines.at(-1), 'done');
  assert.equal(second.lines[0], `step ${saved + 1}`, 'resumed from the newest checkpoint');
  assertSameState(whole, runDir);
  const hist = (d: string) => fs.readFileSync(path.join(d, 'history.csv'), 'utf8').split('\n').map((l) => l.split(',').slice(0, 6).join(','));
  assert.deepEqual(hist(runDir), hist(whole), 'loss history identical, replayed steps included once');
});

test('a run SIGKILLed while writing a checkpoint keeps the previous one, and resumes bit-identical', async () => {
  const { whole } = await setup;
  const runDir = path.join(tempDir(), 'killed-in-write');
  const first = await trainUntil(runDir, /^in-write 20$/, { KILL_IN_WRITE_AT: '20' });
  assert.ok(first.killed);
  assert.equal(JSON.parse(fs.readFileSync(path.join(runDir, 'latest.json'), 'utf8')).step, 16, 'latest.json still names (epoch-end checkpoint at step 16) the previous checkpoint');
  assert.ok(fs.readdirSync(runDir).some((n) => n.startsWith('ckpt-0000020.tmp-')), 'the half-written checkpoint is left under its temporary name');
  const second = await trainUntil(runDir, null);
  assert.equal(second.lines[0], 'step 17');
  assertSameState(whole, runDir);
});

for (const [label, poison] of [['NaN', NaN], ['Inf', Infinity]] as const) {
  test(`a ${label} in a real run (trainEpochs) stops it at that step, naming the term; memory and the newest checkpoint hold the last good weights`, async () => {
    await setup;
    const data = await loadCelebA({ dir: facesDir, preprocess: { size: 32, cropFraction: 0.9 }, cacheDir: null, kind: 'synthetic' });
    const runDir = path.join(tempDir(), 'diverge');
    const run = await createTrainingRun({ model: tinyModel('vae-complete'), train: { ...CHILD_TRAIN, checkpointEvery: 3 }, data, runDir });
    // The decoder's output turns non-finite at step 5 (after the step-3 checkpoint and good step 4).
    const decode = run.model.decode.bind(run.model);
    run.model.decode = (z, y, obs) => (run.step === 5 ? tf.tidy(() => tf.mul(decode(z, y, obs), poison)) : decode(z, y, obs));
    await assert.rejects(trainEpochs(run), (e: Error) => e instanceof TrainingDivergedError && new RegExp(`diverged at step 5 .*the recon term is ${label === 'NaN' ? 'NaN' : 'Infinity'}`).test(e.message));
    assert.equal(run.step, 5, 'the failed step was not counted');
    const latest = JSON.parse(fs.readFileSync(path.join(runDir, 'latest.json'), 'utf8'));
    assert.equal(latest.step, 5, 'the last good state (after step 4) is the newest checkpoint');
    const ckpt = loadCheckpoint(runDir, { optimizer: false });
    const memory = [...run.model.encoder.getWeights(), ...run.model.decoder.getWeights()];
    const disk = [...run.model.encoder.getWeights().map((_, i) => ckpt.weights[`encoder/${i}`]), ...run.model.decoder.getWeights().map((_, i) => ckpt.weights[`decoder/${i}`])];
    memory.forEach((w, i) => {
      const [a, b] = [w.dataSync(), disk[i].dataSync()];
      assert.ok(a.every(Number.isFinite), `weight ${i} in memory is finite`);
      assert.deepEqual(b, a, `weight ${i}: checkpoint equals memory`);
    });
    tf.dispose(Object.values(ckpt.weights));
    assert.ok(!fs.readFileSync(path.join(runDir, 'history.csv'), 'utf8').includes('NaN'), 'no non-finite row in the history');
    disposeRun(run);
  });
}

/** A finished tiny run with checkpoints at steps 8 and 12 (keep = 2). */
async function finishedRun(): Promise<string> {
  await setup;
  const data = await loadCelebA({ dir: facesDir, preprocess: { size: 32, cropFraction: 0.9 }, cacheDir: null, kind: 'synthetic' });
  const runDir = path.join(tempDir(), 'run');
  const run = await createTrainingRun({ model: tinyModel('vae-complete'), train: { ...CHILD_TRAIN, epochs: 3, checkpointEvery: 100 }, data, runDir });
  await trainEpochs(run);
  disposeRun(run);
  return runDir;
}

test('damaged checkpoints: truncated, corrupted, or missing → a clear error naming the file, or the previous checkpoint with a warning', async () => {
  for (const damage of ['truncate', 'flip', 'missing'] as const) {
    const runDir = await finishedRun();
    const newest = path.join(runDir, 'ckpt-0000012');
    if (damage === 'missing') fs.rmSync(newest, { recursive: true });
    else {
      const bin = path.join(newest, 'weights.bin');
      const bytes = fs.readFileSync(bin);
      if (damage === 'truncate') fs.writeFileSync(bin, bytes.subarray(0, bytes.length - 100));
      else {
        bytes[1000] ^= 0xff;
        fs.writeFileSync(bin, bytes);
      }
      const why = damage === 'truncate' ? /weights\.bin: \d+ bytes, expected \d+ \(truncated/ : /weights\.bin: its SHA-256 does not match .* \(corrupted\)/;
      assert.throws(() => loadCheckpoint(newest), why, `${damage}: loading the folder itself is an error naming the file`);
    }
    const warnings: string[] = [];
    const c = loadCheckpoint(runDir, { warn: (m) => warnings.push(m) });
    assert.equal(c.meta.step, 8, `${damage}: fell back to the previous checkpoint`);
    assert.match(warnings.join('\n'), damage === 'missing' ? /latest\.json names ckpt-0000012, which is missing; using the older checkpoint .*ckpt-0000008/ : /ckpt-0000012\/weights\.bin: .*using the older checkpoint/);
    tf.dispose([...Object.values(c.weights), ...c.optimizer!.map((o) => o.tensor)]);
    // Nothing readable at all: an error, not a model.
    fs.rmSync(path.join(runDir, 'ckpt-0000008', 'optimizer.json'));
    if (damage === 'missing') assert.throws(() => loadCheckpoint(runDir, { warn: () => {} }), /no readable checkpoint: .*which is missing; .*optimizer\.json: missing/);
  }
});

test('resuming into a run folder of another model config or image size is refused with the folder named', async () => {
  const runDir = await finishedRun();
  const data = await loadCelebA({ dir: facesDir, preprocess: { size: 32, cropFraction: 0.9 }, cacheDir: null, kind: 'synthetic' });
  await assert.rejects(createTrainingRun({ model: tinyModel('vae-partial'), train: { ...CHILD_TRAIN, epochs: 3, checkpointEvery: 100 }, data, runDir }), /ckpt-0000012: it was trained with a different model config/);
  await assert.rejects(createTrainingRun({ model: tinyModel('vae-complete', { latentDim: 16 }), train: { ...CHILD_TRAIN, epochs: 3, checkpointEvery: 100 }, data, runDir }), /different model config/);
  const data64 = await loadCelebA({ dir: facesDir, preprocess: { size: 64, cropFraction: 0.9 }, cacheDir: null, kind: 'synthetic' });
  await assert.rejects(createTrainingRun({ model: tinyModel('vae-complete', { imageSize: 64 }), train: { ...CHILD_TRAIN, epochs: 3, checkpointEvery: 100 }, data: data64, runDir }), /different model config/);
  // The lock was released after each refusal: the right config still resumes.
  const ok = await createTrainingRun({ model: tinyModel('vae-complete'), train: { ...CHILD_TRAIN, epochs: 3, checkpointEvery: 100 }, data, runDir });
  assert.equal(ok.step, 12);
  disposeRun(ok);
});

test('a second process training into the same run folder is refused; a killed holder\'s lock is taken over', async () => {
  await setup;
  const runDir = path.join(tempDir(), 'locked');
  const data = await loadCelebA({ dir: facesDir, preprocess: { size: 32, cropFraction: 0.9 }, cacheDir: null, kind: 'synthetic' });
  const create = () => createTrainingRun({ model: tinyModel(CHILD_PRESET), train: CHILD_TRAIN, data, runDir });
  // The child hangs inside its step-5 checkpoint write: it holds the lock while we try.
  let attempt: Promise<unknown> | null = null;
  const first = await new Promise<{ lines: string[]; killed: boolean }>((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', child, facesDir, runDir], { cwd: root, env: { ...process.env, KILL_IN_WRITE_AT: '5' }, stdio: ['ignore', 'pipe', 'inherit'] });
    const lines: string[] = [];
    p.stdout.on('data', (d: Buffer) => {
      for (const l of d.toString().split('\n').filter(Boolean)) {
        lines.push(l);
        if (l === 'in-write 5' && !attempt) {
          attempt = create().then(
            () => reject(new Error('a second training run was allowed into a locked folder')),
            (e: Error) => {
              try {
                assert.match(e.message, new RegExp(`${runDir.replace(/[/.]/g, '\\$&')} is being trained by another process \\(pid ${p.pid}, since `));
              } catch (err) {
                reject(err);
              }
              p.kill('SIGKILL');
            },
          );
        }
      }
    });
    p.on('exit', () => resolve({ lines, killed: true }));
  });
  assert.ok(first.lines.includes('in-write 5'));
  const warnings: string[] = [];
  const original = console.warn;
  console.warn = (m: string) => warnings.push(m);
  try {
    const run = await create();
    assert.match(warnings.join('\n'), /train\.lock was left by pid \d+, which no longer runs; taking it over/);
    disposeRun(run);
  } finally {
    console.warn = original;
  }
  assert.equal(fs.existsSync(path.join(runDir, 'train.lock')), false, 'released on dispose');
});

test('a failed checkpoint write (disk full) leaves the previous checkpoint intact and says so', async () => {
  const runDir = await finishedRun();
  const data = await loadCelebA({ dir: facesDir, preprocess: { size: 32, cropFraction: 0.9 }, cacheDir: null, kind: 'synthetic' });
  const run = await createTrainingRun({ model: tinyModel('vae-complete'), train: { ...CHILD_TRAIN, epochs: 4, checkpointEvery: 100 }, data, runDir });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const realFs = require('fs') as typeof fs;
  const writeSync = realFs.writeSync;
  realFs.writeSync = ((...args: Parameters<typeof fs.writeSync>) => {
    if (new Error().stack!.includes('writeTensors')) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    return writeSync(...args);
  }) as typeof fs.writeSync;
  try {
    await assert.rejects(trainEpochs(run), /the checkpoint of step 16 could not be written to .* \(could not write .*weights\.bin \(ENOSPC: no space left on device, write\)\); the previous checkpoint .*ckpt-0000012 is intact/);
  } finally {
    realFs.writeSync = writeSync;
  }
  assert.equal(JSON.parse(fs.readFileSync(path.join(runDir, 'latest.json'), 'utf8')).checkpoint, 'ckpt-0000012');
  assert.deepEqual(fs.readdirSync(runDir).filter((n) => n.includes('.tmp')), [], 'no half-written folder left');
  const c = loadCheckpoint(runDir, { warn: (m) => assert.fail(m) });
  assert.equal(c.meta.step, 12);
  tf.dispose([...Object.values(c.weights), ...c.optimizer!.map((o) => o.tensor)]);
  disposeRun(run);
});

test('a signal during training is seen after the step it lands in, not at the next checkpoint or epoch end (Ctrl-C at 64×64 took up to 50 steps)', async () => {
  await setup;
  const data = await loadCelebA({ dir: facesDir, preprocess: { size: 32, cropFraction: 0.9 }, cacheDir: null, kind: 'synthetic' });
  // No run folder and no checkpoints: nothing in the loop touches the file system, so only the
  // loop's own yield to the event loop lets the signal handler run before training ends.
  const run = await createTrainingRun({ model: tinyModel('vae-complete'), train: { ...CHILD_TRAIN, checkpointEvery: 1000 }, data, runDir: null });
  let signalled = false;
  const onSignal = () => (signalled = true);
  process.on('SIGUSR2', onSignal);
  try {
    await trainEpochs(run, { onStep: () => run.step === 2 && process.kill(process.pid, 'SIGUSR2'), shouldStop: () => signalled });
  } finally {
    process.off('SIGUSR2', onSignal);
  }
  const total = CHILD_TRAIN.epochs * Math.ceil(data.splits.train.length / CHILD_TRAIN.batchSize);
  assert.ok(run.step <= 4 && run.step < total, `signal sent after step 2 of ${total}; training stopped after step ${run.step}`);
  disposeRun(run);
});
