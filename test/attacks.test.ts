// The outsider's attacks on everything around the checkpoints (reliability, second round): each
// test reproduces one failure as it was found, then checks the behaviour the README's reliability
// table states.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { spawn, spawnSync } from 'child_process';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/lib/backend/selectBackend';
import { writeSyntheticFaces } from '../src/lib/data/syntheticFaces';
import { loadCelebA } from '../src/lib/data/loadCelebA';
import { createTrainingRun, disposeRun, trainEpochs, TrainingDivergedError } from '../src/lib/training/trainer';
import { loadCheckpoint } from '../src/lib/models/checkpoint';
import { acquireRunLock } from '../src/lib/training/runLock';
import { parseAttributeFile } from '../src/lib/data/attributes';
import { writeFileAtomic } from '../src/lib/io/atomicWrite';
import { completeFolder } from '../src/lib/experiments/completeFolder';
import { samplePrior } from '../src/lib/generation';
import { reparameterise } from '../src/lib/models/vae';
import { main } from '../src/cli/main';
import { tinyModel } from './helpers/tinyData';
import { tempDir } from './helpers/fixtures';
import { CHILD_PRESET, CHILD_TRAIN, runTrainChild } from './helpers/trainChild';

const root = path.resolve(__dirname, '..');
const facesDir = tempDir();
const ready = (async () => {
  await selectBackend({ quiet: true });
  await writeSyntheticFaces({ dir: facesDir, count: 48, seed: 4 });
})();
const faces = async (limit?: number) => {
  await ready;
  return loadCelebA({ dir: facesDir, limit, preprocess: { size: 32, cropFraction: 0.9 }, cacheDir: null, kind: 'synthetic' });
};

/** The training child (test/helpers/trainChild.ts); SIGKILLed when a stdout line matches `killOn`. */
async function trainChild(runDir: string, killOn: RegExp | null, env: Record<string, string>): Promise<string[]> {
  return (await runTrainChild(facesDir, runDir, killOn, env)).lines;
}

test('1. killed after latest.json passed the epoch end but before the epoch-1 copy: the next start makes epoch-1/ and its grid', async () => {
  await ready;
  const runDir = path.join(tempDir(), 'run');
  await trainChild(runDir, /^in-snapshot$/, { KILL_BEFORE_SNAPSHOT: '1' });
  assert.ok(!fs.existsSync(path.join(runDir, 'epoch-1')), 'the kill came before the copy');
  assert.ok(!fs.existsSync(path.join(runDir, 'grids', 'epoch-1.png')));
  const lines = await trainChild(runDir, null, { CHILD_TRAIN_MODEL: '1' });
  assert.ok(lines.some((l) => /made the epoch-1 snapshot/.test(l)), lines.join('\n'));
  const kept = loadCheckpoint(path.join(runDir, 'epoch-1'), { optimizer: false });
  assert.equal(kept.meta.epoch, 1);
  assert.equal(kept.meta.batchInEpoch, 0);
  tf.dispose(Object.values(kept.weights));
  assert.ok(fs.existsSync(path.join(runDir, 'grids', 'epoch-1.png')));
  assert.deepEqual(fs.readdirSync(runDir).filter((n) => n.includes('.tmp')), [], 'the interrupted copy left nothing behind');
});

test('1b. a full disk during the epoch-1 copy: a clear error, no partial folder, and the rerun makes it', async () => {
  const data = await faces();
  const { trainModel } = await import('../src/lib/experiments/trainModel');
  const runDir = path.join(tempDir(), 'run');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const realFs = require('fs') as typeof fs;
  const cpSync = realFs.cpSync;
  realFs.cpSync = ((from: string, to: string, o?: fs.CopySyncOptions) => {
    cpSync(from, to, o);
    if (String(to).includes('epoch-1.tmp-')) throw Object.assign(new Error('ENOSPC: no space left on device, copyfile'), { code: 'ENOSPC' });
  }) as typeof fs.cpSync;
  try {
    await assert.rejects(trainModel({ model: tinyModel(CHILD_PRESET), train: { ...CHILD_TRAIN, epochs: 2 }, data, runDir, log: () => {}, onLine: () => {} }), /could not keep .*ckpt-\d+ as .*epoch-1 \(ENOSPC: no space left on device, copyfile\); the checkpoint itself is intact, and a rerun of the training command makes epoch-1 again/);
  } finally {
    realFs.cpSync = cpSync;
  }
  assert.deepEqual(fs.readdirSync(runDir).filter((n) => n.includes('.tmp')), []);
  const run = await trainModel({ model: tinyModel(CHILD_PRESET), train: { ...CHILD_TRAIN, epochs: 2 }, data, runDir, log: () => {}, onLine: () => {} });
  assert.ok(fs.existsSync(path.join(runDir, 'epoch-1', 'config.json')));
  assert.equal(run.epoch, 2);
  disposeRun(run);
});

test('2. latest.json deleted: training resumes from the newest intact checkpoint with a warning, and goes on', async () => {
  const data = await faces();
  const runDir = path.join(tempDir(), 'run');
  const first = await createTrainingRun({ model: tinyModel('vae-complete'), train: { ...CHILD_TRAIN, epochs: 2 }, data, runDir });
  await trainEpochs(first);
  const steps = first.step;
  disposeRun(first);
  fs.rmSync(path.join(runDir, 'latest.json'));
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (m: string) => warnings.push(m);
  let again;
  try {
    again = await createTrainingRun({ model: tinyModel('vae-complete'), train: { ...CHILD_TRAIN, epochs: 4 }, data, runDir });
  } finally {
    console.warn = warn;
  }
  assert.equal(again.step, steps, 'not a silent restart at step 0');
  assert.match(warnings.join('\n'), /latest\.json is missing; using the older checkpoint .*ckpt-\d+ \(step \d+\)/);
  await trainEpochs(again);
  assert.equal(again.epoch, 4);
  assert.equal(JSON.parse(fs.readFileSync(path.join(runDir, 'latest.json'), 'utf8')).step, again.step);
  disposeRun(again);
});

/** A tiny trained checkpoint (for the vii complete attacks). */
async function trainedCheckpoint(): Promise<string> {
  const data = await faces();
  const runDir = path.join(tempDir(), 'ckpt');
  const run = await createTrainingRun({ model: tinyModel('vae-partial'), train: { ...CHILD_TRAIN, epochs: 1, stepsPerEpoch: 2 }, data, runDir });
  await trainEpochs(run);
  disposeRun(run);
  return runDir;
}

test('3, 4, 8. vii complete: two files with one output name are refused; a rerun over a finished folder keeps run.json; an unwritable --out is named', async () => {
  await ready;
  const checkpoint = await trainedCheckpoint();
  const images = tempDir();
  const source = fs.readdirSync(path.join(facesDir, 'img_align_celeba')).filter((f) => f.endsWith('.jpg') || f.endsWith('.png')).slice(0, 3);
  for (const f of source) fs.copyFileSync(path.join(facesDir, 'img_align_celeba', f), path.join(images, f));
  const out = tempDir();
  const quiet = { log: () => {}, onLine: () => {} };
  const first = await completeFolder({ checkpoint, images, out, steps: 3, ...quiet });
  assert.equal(first.completed.length, 3);
  const runJson = fs.readFileSync(path.join(out, 'run.json'), 'utf8');
  assert.equal(JSON.parse(runJson).chainMaskedL1.length, 3);
  const rerun = await completeFolder({ checkpoint, images, out, steps: 3, ...quiet });
  assert.equal(rerun.completed.length, 0);
  assert.equal(fs.readFileSync(path.join(out, 'run.json'), 'utf8'), runJson, 'run.json (its chain) is kept');
  assert.deepEqual(rerun.chainMaskedL1, first.chainMaskedL1);
  // face.jpg and face.png → both face.png
  const base = source[0].replace(/\.\w+$/, '');
  fs.copyFileSync(path.join(images, source[0]), path.join(images, `${base}.png`));
  await assert.rejects(completeFolder({ checkpoint, images, out: tempDir(), ...quiet }), new RegExp(`${base}\\.jpg and ${base}\\.png would both be written as ${base}\\.png; rename one of them`));
  fs.rmSync(path.join(images, `${base}.png`));
  // --out below a regular file cannot be created (root ignores permission bits, so a file stands in for read-only).
  const blocker = path.join(tempDir(), 'file');
  fs.writeFileSync(blocker, '');
  await assert.rejects(completeFolder({ checkpoint, images, out: path.join(blocker, 'out'), ...quiet }), /--out .*file\/out is not writable \(ENOTDIR\); choose another folder/);
});

test('5. a resume on another --limit (another split) is refused, naming both counts', async () => {
  const runDir = path.join(tempDir(), 'run');
  const run = await createTrainingRun({ model: tinyModel('vae-complete'), train: { ...CHILD_TRAIN, epochs: 1, stepsPerEpoch: 2 }, data: await faces(40), runDir });
  await trainEpochs(run);
  disposeRun(run);
  await assert.rejects(createTrainingRun({ model: tinyModel('vae-complete'), train: { ...CHILD_TRAIN, epochs: 2, stepsPerEpoch: 2 }, data: await faces(48), runDir }), /it was trained on 40 faces, this data set has 48 \(--limit changes the train\/test split\)/);
  const same = await createTrainingRun({ model: tinyModel('vae-complete'), train: { ...CHILD_TRAIN, epochs: 2, stepsPerEpoch: 2 }, data: await faces(40), runDir });
  assert.equal(same.step, 2);
  disposeRun(same);
});

test('6. after a divergence the advice is a new run with --init-from; a rerun with another --lr names the setting and the way on', async () => {
  const data = await faces();
  const runDir = path.join(tempDir(), 'diverge');
  const run = await createTrainingRun({ model: tinyModel('vae-complete'), train: { ...CHILD_TRAIN, checkpointEvery: 3 }, data, runDir });
  const decode = run.model.decode.bind(run.model);
  run.model.decode = (z, y, obs) => (run.step === 2 ? tf.tidy(() => tf.mul(decode(z, y, obs), NaN)) : decode(z, y, obs));
  await assert.rejects(trainEpochs(run), (e: Error) => e instanceof TrainingDivergedError && /start a new run from it: vii train … --init-from .*diverge --lr LOWER --run NEW_FOLDER/.test(e.message));
  disposeRun(run);
  await assert.rejects(createTrainingRun({ model: tinyModel('vae-complete'), train: { ...CHILD_TRAIN, checkpointEvery: 3, learningRate: 1e-4 }, data, runDir }), /other training settings \(learningRate\); only epochs may change on resume\. To go on from it with new settings, start a new run from it: vii train … --init-from .*diverge --run NEW_FOLDER/);
  // And that continuation works: a new folder, from the last good weights, at the new rate.
  const { resolveInitFrom } = await import('../src/lib/training/trainer');
  const next = await createTrainingRun({ model: tinyModel('vae-complete'), train: { ...CHILD_TRAIN, learningRate: 1e-4, klWarmupSteps: 0, initFrom: resolveInitFrom(runDir).initFrom }, data, runDir: tempDir() });
  assert.equal(next.train.initFrom!.step, 2);
  disposeRun(next);
});

test('7, 10. npx vii exits 2 for bad usage; repeated flags, stray words and non-decimal numbers are refused', async () => {
  const bin = spawnSync(process.execPath, [path.join(root, 'bin', 'vii.js'), 'train', '--bogus'], { cwd: root, encoding: 'utf8' });
  assert.equal(bin.status, 2, bin.stderr);
  assert.match(bin.stderr, /^vii: unknown option --bogus/);
  await assert.rejects(main(['train', '--size', '33', '--size', '32']), /: --size is given twice; give it once$/);
  await assert.rejects(main(['train', 'vae-partial']), /: unexpected argument "vae-partial" \(options start with --; see --help\)$/);
  await assert.rejects(main(['train', '--size', '0x20']), /: --size 0x20 is invalid; expected an integer ≥ 1$/);
  await assert.rejects(main(['train', '--lr', '0x1']), /: --lr 0x1 is not a number$/);
  await assert.rejects(main(['train', '--lambda', 'Conv1_relu=0x1']), /: --lambda "Conv1_relu=0x1": expected LAYER=NUMBER$/);
});

test('8. a full disk at the latest.json write names the file and keeps the old one; a lock whose pid now belongs to another program is taken over', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'latest.json');
  writeFileAtomic(file, '{"old":true}');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const realFs = require('fs') as typeof fs;
  const writeSync = realFs.writeSync;
  realFs.writeSync = (() => {
    throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
  }) as unknown as typeof fs.writeSync;
  try {
    assert.throws(() => writeFileAtomic(file, '{"new":true}'), new RegExp(`could not write ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} \\(ENOSPC: no space left on device, write\\); its previous version is intact`));
  } finally {
    realFs.writeSync = writeSync;
  }
  assert.equal(fs.readFileSync(file, 'utf8'), '{"old":true}');
  assert.deepEqual(fs.readdirSync(dir), ['latest.json'], 'no temporary file left');
  // A live pid that is not a trainer (pid reuse): here a `sleep`.
  const sleeper = spawn('sleep', ['30']);
  try {
    const runDir = tempDir();
    fs.writeFileSync(path.join(runDir, 'train.lock'), JSON.stringify({ pid: sleeper.pid, host: require('os').hostname(), since: '2026-01-01T00:00:00Z' }));
    const warnings: string[] = [];
    const release = acquireRunLock(runDir, (m) => warnings.push(m));
    assert.match(warnings.join('\n'), new RegExp(`was left by pid ${sleeper.pid}, which no longer runs a trainer \\(the pid now belongs to another program\\); taking it over`));
    release();
  } finally {
    sleeper.kill();
  }
  // A live trainer's lock: refused, saying how to clear it if it is wrong.
  const held = tempDir();
  const release = acquireRunLock(held);
  fs.writeFileSync(path.join(held, 'train.lock'), JSON.stringify({ pid: process.ppid, host: require('os').hostname(), since: 'x' }));
  assert.throws(() => acquireRunLock(held), /is being trained by another process .*\(if no training runs there, delete .*train\.lock\)/);
  release();
});

test('8. an attribute file whose header names one attribute too many says so', () => {
  const dir = tempDir();
  const file = path.join(dir, 'list_attr_celeba.txt');
  fs.writeFileSync(file, '1\nA B C Extra\nimg.jpg 1 -1 1\n');
  assert.throws(() => parseAttributeFile(file), /list_attr_celeba\.txt:3: expected an image name and 4 labels \(one per attribute named on line 2\), got 3 labels; line 2 names 4 attributes \(an extra or repeated name there\?\)/);
  fs.writeFileSync(file, '1\nA B A\nimg.jpg 1 -1 1\n');
  assert.throws(() => parseAttributeFile(file), /list_attr_celeba\.txt:2: attribute "A" is named twice/);
});

test('9. orphaned ckpt-*.tmp-PID/ folders and *.tmp files are removed when a run next starts', async () => {
  const data = await faces();
  const runDir = path.join(tempDir(), 'run');
  fs.mkdirSync(path.join(runDir, 'ckpt-0000010.tmp-99999'), { recursive: true });
  fs.writeFileSync(path.join(runDir, 'ckpt-0000010.tmp-99999', 'weights.bin'), Buffer.alloc(1024));
  fs.writeFileSync(path.join(runDir, 'latest.json.123.456.tmp'), '{');
  fs.mkdirSync(path.join(runDir, 'epoch-1.tmp-4242'));
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (m: string) => warnings.push(m);
  try {
    const run = await createTrainingRun({ model: tinyModel('vae-complete'), train: CHILD_TRAIN, data, runDir });
    disposeRun(run);
  } finally {
    console.warn = warn;
  }
  assert.deepEqual(fs.readdirSync(runDir).filter((n) => n.includes('.tmp')), []);
  assert.match(warnings.join('\n'), /removed 3 unfinished write\(s\) left by an interrupted run/);
});

test('11. seeded draws repeat: samplePrior and the reparameterisation with seed 0 give the same numbers every call', async () => {
  await ready;
  const a = samplePrior(4, 8, 0);
  const b = samplePrior(4, 8, 0);
  assert.deepEqual(Array.from(a.dataSync()), Array.from(b.dataSync()));
  const mu = tf.zeros([2, 3]) as tf.Tensor2D;
  const lv = tf.zeros([2, 3]) as tf.Tensor2D;
  const [r1, r2] = [reparameterise(mu, lv, 0), reparameterise(mu, lv, 0)];
  assert.deepEqual(Array.from(r1.dataSync()), Array.from(r2.dataSync()));
  // Other seeds still differ from each other (0 is mapped, not every seed to one value).
  assert.notDeepEqual(Array.from(samplePrior(4, 8, 1).dataSync()), Array.from(a.dataSync()));
  tf.dispose([a, b, mu, lv, r1, r2]);
});

test('odd images: 1×1, 4000×3000, grey, alpha, CMYK, 16-bit and a unicode name are completed; empty and fake files are named, or skipped with --skip-bad', async () => {
  await ready;
  const checkpoint = await trainedCheckpoint();
  const images = tempDir();
  const noise = (w: number, h: number, c: 1 | 3 | 4) => sharp(Buffer.from(Array.from({ length: w * h * c }, (_, i) => (i * 37) % 256)), { raw: { width: w, height: h, channels: c } });
  await noise(1, 1, 3).png().toFile(path.join(images, 'tiny.png'));
  await noise(4000, 3000, 3).jpeg().toFile(path.join(images, 'huge.jpg'));
  await noise(40, 50, 1).png().toFile(path.join(images, 'grey.png'));
  await noise(40, 50, 4).png().toFile(path.join(images, 'alpha.png'));
  await noise(40, 50, 3).toColourspace('cmyk').jpeg().toFile(path.join(images, 'cmyk.jpg'));
  await noise(40, 50, 3).toColourspace('rgb16').png().toFile(path.join(images, 'sixteen.png'));
  await noise(40, 50, 3).png().toFile(path.join(images, 'visage-é-日本.png'));
  fs.writeFileSync(path.join(images, 'empty.jpg'), '');
  fs.writeFileSync(path.join(images, 'fake.png'), 'not an image at all');
  const quiet = { log: () => {}, onLine: () => {} };
  await assert.rejects(completeFolder({ checkpoint, images, out: tempDir(), steps: 2, ...quiet }), /empty\.jpg: is not a readable image/);
  const r = await completeFolder({ checkpoint, images, out: tempDir(), steps: 2, skipBad: true, ...quiet });
  assert.deepEqual(r.completed.sort(), ['alpha.png', 'cmyk.jpg', 'grey.png', 'huge.jpg', 'sixteen.png', 'tiny.png', 'visage-é-日本.png'].sort());
  assert.deepEqual(r.skipped.map((s) => s.image).sort(), ['empty.jpg', 'fake.png']);
});
