// Third reliability round (issue 34): each case reproduces a failure a hostile but realistic user met.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { applyOverride, loadSpec, specFrom, SpecError } from '../src/lib/spec/experimentSpec';
import { parseAttributeSettings } from '../src/lib/completion';
import { readTensors, writeTensors } from '../src/lib/io/tensorFiles';
import { loadCheckpoint } from '../src/lib/models/checkpoint';
import { loadCelebA } from '../src/lib/data/loadCelebA';
import { writeSyntheticFaces } from '../src/lib/data/syntheticFaces';
import { completeFolder } from '../src/lib/experiments/completeFolder';
import { writeExplorer } from '../src/lib/explorer/explorerPage';
import { spawn } from 'child_process';
import { tempDir } from './helpers/fixtures';

const root = path.resolve(__dirname, '..');
const minimal = { models: [{ preset: 'vae-partial' }] };

test('override keys never reach the object prototype', () => {
  for (const key of ['__proto__.polluted', '__proto__.row', 'models.0.__proto__.row', 'constructor.prototype.x', 'train..epochs']) {
    assert.throws(() => applyOverride(minimal, `${key}=1`), (e: Error) => e instanceof SpecError && /not a setting|empty key part/.test(e.message), key);
  }
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal(({} as Record<string, unknown>).row, undefined);
});

test('an override of a model past the spec\'s list names the key and the entries there are', () => {
  assert.throws(() => loadSpec(path.join(root, 'configs', 'perceptual64.json'), ['models.5.preset=vae-partial']), /models has 4 entries \(0\.\.3\); no entry 5/);
});

test('stepsPerEpoch 0 is refused in a spec (shared and per model), as vii train --steps-per-epoch 0 is', () => {
  assert.throws(() => specFrom({ ...minimal, train: { stepsPerEpoch: 0 } }, 'spec.json'), /spec\.json: train\.stepsPerEpoch 0; expected an integer ≥ 1 or null/);
  assert.throws(() => specFrom({ models: [{ preset: 'vae-partial', train: { stepsPerEpoch: 0 } }] }, 'spec.json'), /models\.0\.train\.stepsPerEpoch 0/);
  assert.equal(specFrom({ ...minimal, train: { stepsPerEpoch: null } }, 'spec.json').train.stepsPerEpoch, null);
});

test('a bad data.limit names the file and the key', () => {
  assert.throws(() => specFrom({ ...minimal, data: { limit: 0 } }, 'my.json'), /^SpecError: my\.json: data\.limit 0; expected an integer ≥ 1 or null$/m);
  assert.throws(() => specFrom({ ...minimal, data: { limit: 2.5 } }, 'my.json'), /my\.json: data\.limit 2\.5/);
});

test('--set names an attribute once: Smiling=1,Smiling=-1 is refused, not last-wins', () => {
  assert.throws(() => parseAttributeSettings('Smiling=1,Smiling=-1'), /--set sets Smiling twice/);
  assert.deepEqual(parseAttributeSettings('Smiling=1,Male=-1'), { Smiling: 1, Male: 0 });
});

test('an empty data folder (an attribute file with no rows) says so, naming the file, not "limit undefined"', async () => {
  const dir = tempDir();
  await writeSyntheticFaces({ dir, count: 2, seed: 3 });
  const file = path.join(dir, 'list_attr_celeba.txt');
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  fs.writeFileSync(file, `0\n${lines[1]}\n`);
  await assert.rejects(() => loadCelebA({ dir, preprocess: { size: 32, cropFraction: 148 / 178 }, cacheDir: null, kind: 'synthetic' }), (e: Error) => e.message.includes(file) && /lists no images/.test(e.message) && !/undefined/.test(e.message));
});

test('weights holding NaN are refused at load, naming the file and the tensor, though their SHA-256 matches', async () => {
  const dir = tempDir();
  for (const float16 of [false, true]) {
    const file = path.join(dir, `w${float16 ? 16 : 32}`);
    const good = tf.tensor([1, 2, 3]);
    const bad = tf.tensor([0.5, NaN]);
    await writeTensors(file, [{ name: 'encoder/0', tensor: good }, { name: 'decoder/7', tensor: bad }], { float16 });
    tf.dispose([good, bad]);
    assert.throws(() => readTensors(file), (e: Error) => e.message.startsWith(`${file}.bin: tensor decoder/7 holds NaN`), `float16 ${float16}`);
  }
});

test('an index file without a SHA-256 says so (not "does not match the one recorded")', async () => {
  const file = path.join(tempDir(), 'w');
  const t = tf.tensor([1, 2]);
  await writeTensors(file, [{ name: 'a', tensor: t }]);
  t.dispose();
  const index = JSON.parse(fs.readFileSync(`${file}.json`, 'utf8'));
  delete index.sha256;
  fs.writeFileSync(`${file}.json`, JSON.stringify(index));
  assert.throws(() => readTensors(file), /records no SHA-256/);
});

test('a checkpoint naming an attribute outside CelebA\'s 40 (script in a name) is refused at load; the explorer builds its boxes as text', () => {
  const dir = path.join(tempDir(), 'model');
  fs.cpSync(path.join(root, 'models', 'complete-attr40'), dir, { recursive: true });
  const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
  config.model.attributes[0] = '<img src=x onerror=alert(7)>';
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
  assert.throws(() => loadCheckpoint(dir, { optimizer: false }), /config\.json: unknown attribute "<img src=x onerror=alert\(7\)>"; expected CelebA's 40/);
  // The page itself: no checkpoint or file name is ever parsed as HTML.
  const app = fs.readFileSync(path.join(root, 'src', 'lib', 'explorer', 'explorerApp.ts'), 'utf8');
  assert.doesNotMatch(app, /innerHTML|insertAdjacentHTML|outerHTML/);
});

test('vii complete into a folder made with other settings refuses, naming the settings and --force; the same settings resume', async () => {
  const faces = tempDir();
  await writeSyntheticFaces({ dir: faces, count: 1, seed: 4 });
  const images = path.join(faces, 'img_align_celeba');
  const out = path.join(tempDir(), 'out');
  const checkpoint = path.join(root, 'models', 'cropped-attr1-both-guided');
  const quiet = () => {};
  await completeFolder({ checkpoint, images, out, set: { Smiling: 0 }, steps: 2, log: quiet });
  await assert.rejects(
    () => completeFolder({ checkpoint, images, out, set: { Smiling: 1 }, mask: 'half:left', steps: 3, log: quiet }),
    (e: Error) => /holds completions made with other settings/.test(e.message) && /mask: "centre:0\.5" there, "half:left" now/.test(e.message) && /steps: 2 there, 3 now/.test(e.message) && /set: \{"Smiling":-1\} there, \{"Smiling":1\} now/.test(e.message) && /--force/.test(e.message),
  );
  assert.equal(JSON.parse(fs.readFileSync(path.join(out, 'run.json'), 'utf8')).steps, 2, 'run.json still describes the images there');
  const again = await completeFolder({ checkpoint, images, out, set: { Smiling: 0 }, steps: 2, log: quiet });
  assert.equal(again.existing.length, 1, 'the same settings resume');
  const forced = await completeFolder({ checkpoint, images, out, set: { Smiling: 1 }, mask: 'half:left', steps: 3, force: true, log: quiet });
  assert.equal(forced.completed.length, 1);
  const run = JSON.parse(fs.readFileSync(path.join(out, 'run.json'), 'utf8'));
  assert.deepEqual([run.mask, run.steps, run.set], ['half:left', 3, { Smiling: 1 }]);
});

test('vii complete caps --samples and --steps, and writes each sample as it is made', async () => {
  const faces = tempDir();
  await writeSyntheticFaces({ dir: faces, count: 1, seed: 4 });
  const images = path.join(faces, 'img_align_celeba');
  const checkpoint = path.join(root, 'models', 'cropped-no-attr');
  await assert.rejects(() => completeFolder({ checkpoint, images, out: path.join(tempDir(), 'o'), samples: 100_000, log: () => {} }), /--samples 100000: at most 256/);
  await assert.rejects(() => completeFolder({ checkpoint, images, out: path.join(tempDir(), 'o'), steps: 1_000_000, log: () => {} }), /--steps 1000000: expected an integer in 1\.\.1000/);
  const out = path.join(tempDir(), 'o');
  const lines: string[] = [];
  await completeFolder({ checkpoint, images, out, samples: 3, steps: 2, log: () => {}, onLine: (l) => lines.push(l) });
  assert.deepEqual(fs.readdirSync(path.join(out, 'completed')).sort(), ['000001.png', '000001_0.png', '000001_1.png', '000001_2.png']);
  assert.ok(lines.some((l) => /sample 2\/3/.test(l)), `progress per sample: ${lines.join(' | ')}`);
});

test('vii explore --out: a file is named as a file; a foreign non-empty folder is kept unless --force; an earlier page is rewritten', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'notes.txt');
  fs.writeFileSync(file, 'mine');
  await assert.rejects(() => writeExplorer({ checkpoint: path.join(root, 'models', 'cropped-no-attr'), out: file, limit: 1 }), /--out .*notes\.txt: a file is there; expected a folder/);
  const site = path.join(dir, 'site');
  fs.mkdirSync(path.join(site, 'model'), { recursive: true });
  fs.writeFileSync(path.join(site, 'index.html'), '<h1>my site</h1>');
  await assert.rejects(() => writeExplorer({ checkpoint: path.join(root, 'models', 'cropped-no-attr'), out: site, limit: 1 }), /not empty and not a page vii explore wrote .*--force/);
  assert.equal(fs.readFileSync(path.join(site, 'index.html'), 'utf8'), '<h1>my site</h1>');
  assert.throws(() => loadCheckpoint(path.join(root, 'README.md')), /checkpoint .*README\.md is a file; expected a run folder or a checkpoint folder/);
});

test('Ctrl-C during vii train: the step finishes, a checkpoint is written, the lock released, one line says where; the same command resumes there, and SIGTERM does the same', { timeout: 180_000 }, async () => {
  const faces = tempDir();
  await writeSyntheticFaces({ dir: faces, count: 64, seed: 6 });
  const run = path.join(tempDir(), 'run');
  const args = [path.join(root, 'bin', 'vii.js'), 'train', '--preset', 'vae-partial', '--size', '32', '--data', faces, '--epochs', '60', '--batch', '8', '--feature-net', 'none', '--run', run];
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  child.stdout.on('data', () => {});
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve((exitCode = c))));
  // Training has begun once the step-0 grid is written; let a few steps pass.
  const t0 = Date.now();
  while (exitCode === undefined && !fs.existsSync(path.join(run, 'grids', 'epoch-0.png')) && Date.now() - t0 < 120_000) await new Promise((r) => setTimeout(r, 200));
  await new Promise((r) => setTimeout(r, 2000));
  assert.equal(exitCode, undefined, `vii train ended before the signal: ${stderr}`);
  child.kill('SIGINT');
  const code = await exited;
  assert.equal(code, 130, stderr);
  const m = /interrupted at step (\d+); checkpoint written in .*; rerun the same command to resume/.exec(stderr);
  assert.ok(m, stderr);
  assert.ok(!fs.existsSync(path.join(run, 'train.lock')), 'the lock is released');
  const latest = JSON.parse(fs.readFileSync(path.join(run, 'latest.json'), 'utf8')) as { step: number };
  assert.equal(latest.step, Number(m[1]), 'the checkpoint is at the step the line names');
  assert.ok(latest.step > 0 && latest.step < 360);
  // The same command resumes from that step; SIGTERM stops it the same way (exit 143).
  const again = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  again.stdout.on('data', (d) => (out += d));
  again.stderr.on('data', (d) => (out += d));
  const exited2 = new Promise<number | null>((resolve) => again.on('exit', resolve));
  const t1 = Date.now();
  while (!/resumed from .*\(step (\d+)/.test(out) && Date.now() - t1 < 120_000) await new Promise((r) => setTimeout(r, 200));
  assert.match(out, new RegExp(`resumed from .*\\(step ${latest.step},`));
  again.kill('SIGTERM');
  assert.equal(await exited2, 143, out);
  assert.ok(!fs.existsSync(path.join(run, 'train.lock')));
});

test('completion.attributeStrength: each model\'s own (null) unless given; 0, negative or text is refused naming the key; the sweep resolves null to a shipped model\'s card, else 1', async () => {
  assert.equal(specFrom(minimal, 'spec.json').completion.attributeStrength, null);
  const { modelAttributeStrength } = await import('../src/lib/weights/shippedModel');
  const dir = tempDir();
  assert.equal(modelAttributeStrength(dir), 1, 'a run folder: the training labels');
  fs.writeFileSync(path.join(dir, 'card.json'), JSON.stringify({ name: 'x', forcedAttributes: { strength: 1.5, why: 'test', log: 'none' } }));
  assert.equal(modelAttributeStrength(dir), 1.5);
  fs.writeFileSync(path.join(dir, 'card.json'), '{ not json');
  assert.throws(() => modelAttributeStrength(dir), /card\.json: not a model card/);
  assert.equal(specFrom({ ...minimal, completion: { attributeStrength: 1.5 } }, 'spec.json').completion.attributeStrength, 1.5);
  for (const bad of [0, -2]) assert.throws(() => specFrom({ ...minimal, completion: { attributeStrength: bad } }, 'spec.json'), new RegExp(`^SpecError: spec\\.json: completion\\.attributeStrength ${bad}; expected a number > 0`, 'm'));
  assert.throws(() => specFrom({ ...minimal, completion: { attributeStrength: '2' } }, 'spec.json'), /spec\.json: completion\.attributeStrength is "2"; expected number/);
});
