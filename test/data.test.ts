import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { parseAttributeFile, CELEBA_ATTRIBUTES, DataFormatError } from '../src/lib/data/attributes';
import { loadCelebA } from '../src/lib/data/loadCelebA';
import { loadFaceImage, ImageDecodeError } from '../src/lib/data/preprocess';
import { writeSyntheticFaces, UNDRAWN_ATTRIBUTES } from '../src/lib/data/syntheticFaces';
import { findDataSource } from '../src/lib/data/dataSource';
import { epochBatches, gatherBatch, seededSplit } from '../src/lib/data/faceDataset';
import { tempDir, SHARED_CELEBA, sharedCelebaSkip } from './helpers/fixtures';

const synthetic = tempDir();
const ready = writeSyntheticFaces({ dir: synthetic, count: 30, seed: 5 });

/** A copy of the synthetic folder to damage in one test. */
async function damagedCopy(damage: (dir: string) => void): Promise<string> {
  await ready;
  const dir = tempDir();
  fs.cpSync(synthetic, dir, { recursive: true });
  damage(dir);
  return dir;
}

/** Attribute rows read independently of the parser: name -> 40 values in {0,1}. */
function rowsFromFile(file: string): Map<string, number[]> {
  const lines = fs.readFileSync(file, 'utf8').trim().split('\n').slice(2);
  return new Map(lines.map((l) => {
    const f = l.trim().split(/\s+/);
    return [f[0], f.slice(1).map((v) => (v === '1' ? 1 : 0))];
  }));
}

test('synthetic faces load with their attributes, official partition and cache', async () => {
  await ready;
  const cacheDir = tempDir();
  const ds = await loadCelebA({ dir: synthetic, preprocess: { size: 32, cropFraction: 0.83 }, cacheDir, kind: 'synthetic' });
  assert.equal(ds.images.length, 30);
  assert.equal(ds.pixels.length, 30 * 32 * 32 * 3);
  assert.deepEqual(ds.attributeNames, [...CELEBA_ATTRIBUTES]);
  assert.equal(ds.partition, 'official');
  assert.deepEqual([ds.splits.train.length, ds.splits.val.length, ds.splits.test.length], [24, 3, 3]);
  const rows = rowsFromFile(path.join(synthetic, 'list_attr_celeba.txt'));
  ds.images.forEach((name, i) => assert.deepEqual(Array.from(ds.attributes.subarray(i * 40, (i + 1) * 40)), rows.get(name)));
  for (const a of UNDRAWN_ATTRIBUTES) assert.ok(ds.images.every((_, i) => ds.attributes[i * 40 + CELEBA_ATTRIBUTES.indexOf(a)] === 0));
  assert.equal(ds.fromCache, false);
  const again = await loadCelebA({ dir: synthetic, preprocess: { size: 32, cropFraction: 0.83 }, cacheDir });
  assert.equal(again.fromCache, true);
  assert.deepEqual(again.pixels, ds.pixels);
  assert.equal(fs.readdirSync(cacheDir).filter((f) => f.endsWith('.tmp')).length, 0);
});

test('batches are tensors in [0,1] with {0,1} attributes, and epochs are seeded', async () => {
  await ready;
  const ds = await loadCelebA({ dir: synthetic, preprocess: { size: 16, cropFraction: 0.83 }, cacheDir: null });
  const a = [...epochBatches(ds, 'train', 8, 1, 0)];
  const b = [...epochBatches(ds, 'train', 8, 1, 0)];
  const c = [...epochBatches(ds, 'train', 8, 1, 1)];
  assert.equal(a.length, 3);
  assert.deepEqual(a.map((x) => x.indices), b.map((x) => x.indices));
  assert.notDeepEqual(a.map((x) => x.indices), c.map((x) => x.indices));
  const x = a[0].x.dataSync();
  assert.deepEqual(a[0].x.shape, [8, 16, 16, 3]);
  assert.ok(x.every((v) => v >= 0 && v <= 1) && x.some((v) => v > 0.2));
  assert.ok(a[0].y.dataSync().every((v) => v === 0 || v === 1));
  const one = gatherBatch(ds, [a[0].indices[0]]);
  assert.deepEqual(Array.from(one.x.dataSync()), Array.from(x.subarray(0, 16 * 16 * 3)));
  [...a, ...b, ...c, one].forEach((t) => (t.x.dispose(), t.y.dispose()));
  assert.throws(() => gatherBatch(ds, [999]), /999 out of range/);
});

test('seeded split is stable, disjoint and complete', () => {
  const s1 = seededSplit(100, 3);
  assert.deepEqual(s1, seededSplit(100, 3));
  assert.notDeepEqual(s1, seededSplit(100, 4));
  const all = [...s1.train, ...s1.val, ...s1.test].sort((a, b) => a - b);
  assert.deepEqual(all, Array.from({ length: 100 }, (_, i) => i));
  assert.deepEqual([s1.train.length, s1.val.length, s1.test.length], [80, 10, 10]);
});

test('a missing folder is an error naming it', async () => {
  await assert.rejects(loadCelebA({ dir: '/nonexistent/celeba', cacheDir: null }), /\/nonexistent\/celeba: data folder not found/);
  assert.throws(() => findDataSource('/nonexistent/x'), /\/nonexistent\/x.*does not exist/);
});

test('an attribute row with the wrong number of fields names the file and line', async () => {
  const dir = await damagedCopy((d) => {
    const f = path.join(d, 'list_attr_celeba.txt');
    const lines = fs.readFileSync(f, 'utf8').split('\n');
    lines[6] = lines[6].split(' ').slice(0, -3).join(' ');
    fs.writeFileSync(f, lines.join('\n'));
  });
  await assert.rejects(loadCelebA({ dir, cacheDir: null }), (e: Error) => {
    assert.ok(e instanceof DataFormatError);
    assert.match(e.message, /list_attr_celeba\.txt:7: expected an image name and 40 labels/);
    return true;
  });
  const f = path.join(dir, 'list_attr_celeba.txt');
  fs.writeFileSync(f, fs.readFileSync(f, 'utf8').replace(/^(\S+ )( 1|-1)/m, '$1 2'));
  assert.throws(() => parseAttributeFile(f), /list_attr_celeba\.txt:\d+: (label 1|expected an image name)/);
});

test('a truncated JPEG is an error naming the file, or a warned skip with skipBad', async () => {
  const dir = await damagedCopy((d) => {
    const f = path.join(d, 'img_align_celeba', '000004.jpg');
    const bytes = fs.readFileSync(f);
    fs.writeFileSync(f, bytes.subarray(0, Math.floor(bytes.length / 2)));
  });
  await assert.rejects(loadCelebA({ dir, cacheDir: null }), (e: Error) => {
    assert.ok(e instanceof ImageDecodeError);
    assert.match(e.message, /000004\.jpg: is not a readable image/);
    return true;
  });
  const warnings: string[] = [];
  const ds = await loadCelebA({ dir, cacheDir: null, skipBad: true, preprocess: { size: 16, cropFraction: 0.83 }, log: (m) => warnings.push(m) });
  assert.equal(ds.images.length, 29);
  assert.ok(!ds.images.includes('000004.jpg'));
  assert.equal(ds.skipped.length, 1);
  assert.match(warnings.join('\n'), /skipping .*000004\.jpg/);
  // the remaining attributes stay aligned with their images
  const rows = rowsFromFile(path.join(dir, 'list_attr_celeba.txt'));
  ds.images.forEach((name, i) => assert.deepEqual(Array.from(ds.attributes.subarray(i * 40, (i + 1) * 40)), rows.get(name)));
});

test('a corrupt (non-image) file is an error naming it', async () => {
  const dir = await damagedCopy((d) => fs.writeFileSync(path.join(d, 'img_align_celeba', '000002.jpg'), 'not a jpeg'));
  await assert.rejects(loadCelebA({ dir, cacheDir: null }), /000002\.jpg: is not a readable image/);
});

test('an image listed but absent names the attribute file line', async () => {
  const dir = await damagedCopy((d) => fs.rmSync(path.join(d, 'img_align_celeba', '000010.jpg')));
  await assert.rejects(loadCelebA({ dir, cacheDir: null }), /list_attr_celeba\.txt:12: image 000010\.jpg is listed but .* does not exist/);
  const ds = await loadCelebA({ dir, cacheDir: null, skipBad: true, log: () => {} });
  assert.equal(ds.images.length, 29);
});

test('real CelebA: 256 faces at 64x64 with their attributes', { skip: sharedCelebaSkip }, async () => {
  const cacheDir = tempDir();
  const ds = await loadCelebA({ dir: SHARED_CELEBA, limit: 256, cacheDir });
  assert.equal(ds.kind, 'celeba');
  assert.equal(ds.images.length, 256);
  assert.equal(ds.pixels.length, 256 * 64 * 64 * 3);
  const rows = rowsFromFile(path.join(SHARED_CELEBA, 'list_attr_celeba.txt'));
  ds.images.forEach((name, i) => assert.deepEqual(Array.from(ds.attributes.subarray(i * 40, (i + 1) * 40)), rows.get(name), name));
  // each row decodes to the same pixels as a direct crop + resize of its file
  for (const i of [0, 255]) {
    const direct = await loadFaceImage(path.join(ds.imageDir, ds.images[i]), ds.preprocess);
    assert.deepEqual(ds.pixels.subarray(i * 64 * 64 * 3, (i + 1) * 64 * 64 * 3), direct);
  }
  const mean = ds.pixels.reduce((s, v) => s + v, 0) / ds.pixels.length;
  assert.ok(mean > 40 && mean < 220, `mean pixel ${mean}`);
  const again = await loadCelebA({ dir: SHARED_CELEBA, limit: 256, cacheDir });
  assert.equal(again.fromCache, true);
  assert.deepEqual(again.attributes, ds.attributes);
});

test('a limit that empties a split of the official partition falls back to a seeded split quietly; a whole folder whose partition does, with a warning', async () => {
  await ready;
  const warnings: string[] = [];
  const ds = await loadCelebA({ dir: synthetic, limit: 20, preprocess: { size: 16, cropFraction: 0.83 }, cacheDir: null, log: (m) => warnings.push(m) });
  assert.equal(ds.partition, 'seeded');
  assert.ok(ds.splits.val.length > 0 && ds.splits.test.length > 0);
  // --limit keeps the first (training) images: the seeded split is expected, and `partition` says so.
  assert.equal(warnings.length, 0, warnings.join());
  // Without a limit it is a surprise: the folder's own partition file leaves val and test empty.
  const trainOnly = await damagedCopy((dir) => {
    const file = path.join(dir, 'list_eval_partition.txt');
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace(/ [12]$/gm, ' 0'));
  });
  const whole = await loadCelebA({ dir: trainOnly, preprocess: { size: 16, cropFraction: 0.83 }, cacheDir: null, log: (m) => warnings.push(m) });
  assert.equal(whole.partition, 'seeded');
  assert.match(warnings.join(), /leaves the val\/test split empty for these 30 images/);
});
