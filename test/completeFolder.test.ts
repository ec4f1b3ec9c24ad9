import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import sharp from 'sharp';
import { selectBackend } from '../src/lib/backend/selectBackend';
import { writeSyntheticFaces } from '../src/lib/data/syntheticFaces';
import { loadCelebA } from '../src/lib/data/loadCelebA';
import { createTrainingRun, trainEpochs, disposeRun } from '../src/lib/training/trainer';
import { completeFolder } from '../src/lib/experiments/completeFolder';
import { tinyModel, tinyTrain } from './helpers/tinyData';
import { tempDir } from './helpers/fixtures';

const facesDir = tempDir();
const setup = (async () => {
  await selectBackend({ quiet: true });
  await writeSyntheticFaces({ dir: facesDir, count: 24, seed: 3 });
  const data = await loadCelebA({ dir: facesDir, preprocess: { size: 32, cropFraction: 0.9 }, cacheDir: null, kind: 'synthetic' });
  const runs: Record<string, string> = {};
  for (const preset of ['vae-partial', 'attr1-decoder']) {
    runs[preset] = path.join(tempDir(), preset);
    const run = await createTrainingRun({ model: tinyModel(preset), train: tinyTrain({ stepsPerEpoch: 1 }), data, runDir: runs[preset] });
    await trainEpochs(run);
    disposeRun(run);
  }
  return runs;
})();
const images = path.join(facesDir, 'img_align_celeba');
const attrs = path.join(facesDir, 'list_attr_celeba.txt');

async function raw(file: string) {
  return sharp(file).raw().toBuffer({ resolveWithObject: true });
}

test('a folder round trip writes gt, masked, mask, completed and run.json; observed pixels equal the ground truth', async () => {
  const runs = await setup;
  const out = tempDir();
  const r = await completeFolder({ checkpoint: runs['vae-partial'], images, out, mask: 'free:4', samples: 2, limit: 5, seed: 1, log: () => {} });
  assert.equal(r.completed.length, 5);
  const run = JSON.parse(fs.readFileSync(path.join(out, 'run.json'), 'utf8'));
  assert.equal(run.mask, 'free:4');
  assert.equal(run.method, 'gibbs');
  assert.equal(run.preprocess.cropFraction, 0.9);
  for (const name of r.completed.map((f) => f.replace('.jpg', '.png'))) {
    for (const d of ['gt', 'masked', 'mask', 'completed']) assert.ok(fs.existsSync(path.join(out, d, name)), `${d}/${name}`);
    assert.ok(fs.existsSync(path.join(out, 'completed', name.replace('.png', '_1.png'))));
    const [gt, mask, done] = [await raw(path.join(out, 'gt', name)), await raw(path.join(out, 'mask', name)), await raw(path.join(out, 'completed', name))];
    assert.equal(gt.info.width, 32);
    const mc = mask.info.channels; // white = observed, in every channel
    let observed = 0;
    let changed = 0;
    for (let p = 0; p < 32 * 32; p++) {
      for (let c = 0; c < 3; c++) {
        if (mask.data[p * mc] === 255) {
          observed++;
          assert.equal(done.data[p * 3 + c], gt.data[p * 3 + c], `${name}: observed pixel ${p} changed`);
        } else if (done.data[p * 3 + c] !== gt.data[p * 3 + c]) changed++;
      }
    }
    assert.ok(observed > 0 && changed > 0);
  }
});

test('bad inputs are clear errors before any work, or skips with --skip-bad', async () => {
  const runs = await setup;
  const out = path.join(tempDir(), 'out');
  await assert.rejects(completeFolder({ checkpoint: '/nonexistent/ckpt', images, out }), /checkpoint \/nonexistent\/ckpt does not exist/);
  await assert.rejects(completeFolder({ checkpoint: runs['vae-partial'], images, out, mask: 'centre:0.01' }), /0-pixel hole at 32×32/);
  await assert.rejects(completeFolder({ checkpoint: runs['attr1-decoder'], images, out }), /conditioned on 1 attribute\(s\); give --attrs FILE/);
  assert.equal(fs.existsSync(out), false, 'nothing written');
  const r = await completeFolder({ checkpoint: runs['attr1-decoder'], images, out, attrs, limit: 3, log: () => {} });
  assert.equal(r.completed.length, 3);

  const broken = tempDir();
  for (const f of ['000001.jpg', '000002.jpg']) fs.copyFileSync(path.join(images, f), path.join(broken, f));
  fs.writeFileSync(path.join(broken, '000003.jpg'), 'not an image');
  await assert.rejects(completeFolder({ checkpoint: runs['vae-partial'], images: broken, out: tempDir() }), /000003\.jpg: is not a readable image/);
  const warnings: string[] = [];
  const ok = await completeFolder({ checkpoint: runs['vae-partial'], images: broken, out: tempDir(), skipBad: true, log: (m) => warnings.push(m) });
  assert.deepEqual(ok.completed, ['000001.jpg', '000002.jpg']);
  assert.equal(ok.skipped[0].image, '000003.jpg');
  assert.match(warnings.join(), /skipping .*000003\.jpg/);
});

test('a long folder streams (tensor count flat, RSS bounded), names an unreadable image or skips it, and a rerun resumes', async () => {
  const runs = await setup;
  const many = tempDir();
  const count = 3000;
  const noise = Buffer.alloc(32 * 32 * 3);
  for (let i = 0; i < count; i++) {
    for (let j = 0; j < noise.length; j++) noise[j] = (i * 31 + j * 7) % 251;
    fs.writeFileSync(path.join(many, `${String(i).padStart(5, '0')}.png`), await sharp(noise, { raw: { width: 32, height: 32, channels: 3 } }).png().toBuffer());
  }
  fs.writeFileSync(path.join(many, '01234.png'), 'truncated'); // replaces one real image
  const out = tempDir();
  await assert.rejects(completeFolder({ checkpoint: runs['vae-partial'], images: many, out, log: () => {} }), /01234\.png: is not a readable image/);
  const first = await completeFolder({ checkpoint: runs['vae-partial'], images: many, out: tempDir(), skipBad: true, steps: 2, log: () => {} });
  assert.equal(first.completed.length, count - 1);
  assert.deepEqual(first.skipped.map((s) => s.image), ['01234.png']);
  // Streaming: the whole folder in batches, nothing kept per image.
  const runJson = () => JSON.parse(fs.readFileSync(path.join(out2, 'run.json'), 'utf8'));
  const out2 = tempDir();
  const partial = await completeFolder({ checkpoint: runs['vae-partial'], images: many, out: out2, skipBad: true, steps: 2, limit: 700, log: () => {} });
  assert.equal(partial.completed.length, 700);
  const full = await completeFolder({ checkpoint: runs['vae-partial'], images: many, out: out2, skipBad: true, steps: 2, log: () => {} });
  assert.equal(full.existing.length, 700, 'the rerun skips what the first run completed');
  assert.equal(full.completed.length, count - 1 - 700);
  const { memory } = runJson();
  assert.equal(memory.end.tensors, memory.start.tensors, `tensor count ${memory.start.tensors} → ${memory.end.tensors}`);
  assert.ok(memory.end.rssMB - memory.start.rssMB < 300, `RSS ${memory.start.rssMB} → ${memory.end.rssMB} MB over ${count} images`);
  const forced = await completeFolder({ checkpoint: runs['vae-partial'], images: many, out: out2, skipBad: true, steps: 1, limit: 10, force: true, log: () => {} });
  assert.deepEqual([forced.completed.length, forced.existing.length], [10, 0], '--force redoes them');
});

test('forced attributes take the model card\'s strength where none is given (a given one wins, 1 for a run folder); a bad card value is named', async () => {
  await setup;
  const root = path.resolve(__dirname, '..');
  const checkpoint = path.join(tempDir(), 'guided');
  fs.cpSync(path.join(root, 'models', 'cropped-attr1-both-guided'), checkpoint, { recursive: true });
  const card = JSON.parse(fs.readFileSync(path.join(checkpoint, 'card.json'), 'utf8'));
  const withCard = (strength: unknown) => fs.writeFileSync(path.join(checkpoint, 'card.json'), JSON.stringify({ ...card, forcedAttributes: { strength, why: 'test', log: 'none' } }));
  const run = async (strength?: number) => {
    const out = path.join(tempDir(), 'out');
    await completeFolder({ checkpoint, images, out, steps: 2, latent: 'mean', set: { Smiling: 1 }, limit: 1, strength, log: () => {} });
    return { settings: JSON.parse(fs.readFileSync(path.join(out, 'run.json'), 'utf8')), png: fs.readFileSync(path.join(out, 'completed', fs.readdirSync(path.join(out, 'completed'))[0])) };
  };
  withCard(1.7);
  const fromCard = await run();
  const given = await run(1.7);
  const labels = await run(1);
  assert.equal(fromCard.settings.strength, 1.7, 'the card\'s strength is used and recorded');
  assert.deepEqual(fromCard.png, given.png, 'the same completion as --strength 1.7');
  assert.equal(labels.settings.strength, undefined, 'a given --strength 1 wins over the card');
  assert.notDeepEqual(labels.png, fromCard.png);
  fs.rmSync(path.join(checkpoint, 'card.json'));
  assert.deepEqual((await run()).png, labels.png, 'no card: the training labels');
  withCard('lots');
  await assert.rejects(run(), /card\.json: forcedAttributes\.strength lots: expected a number > 0/);
});
