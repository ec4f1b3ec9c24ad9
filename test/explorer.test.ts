import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { spawnSync } from 'child_process';
import * as tf from '@tensorflow/tfjs';
import { findBrowser, withPage } from '../src/lib/plots/browser';
import { selectBackend } from '../src/lib/backend/selectBackend';
import { writeSyntheticFaces } from '../src/lib/data/syntheticFaces';
import { loadFaceImage } from '../src/lib/data/preprocess';
import { loadTrainedModel } from '../src/lib/weights/loadModel';
import { complete } from '../src/lib/completion';
import { tempDir } from './helpers/fixtures';

const root = path.resolve(__dirname, '..');
const vii = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'src', 'cli', 'main.ts'), ...args], { cwd: root, encoding: 'utf8', timeout: 300_000 });

type PageRun = { iterates: number[][]; maskedL1: number[]; mask: number[]; face: number[] };

test('vii explore writes a page that works from file:// in headless Chromium: a hole drawn with the mouse, the chain stepped, an attribute forced; its completion equals the library\'s in Node and vii complete\'s for the same face, hole, seed and steps', { timeout: 600_000 }, async () => {
  if (!(await findBrowser())) return assert.fail('no headless Chromium: @sparticuz/chromium (an optional dependency) should have been installed by npm');
  await selectBackend();
  const dir = tempDir();
  await writeSyntheticFaces({ dir: path.join(dir, 'faces'), count: 3, seed: 3 });
  const images = path.join(dir, 'faces', 'img_align_celeba');
  const out = path.join(dir, 'page');

  const bad = vii(['explore', '--model', 'cropped-attr1-both-guided', '--images', path.join(dir, 'nowhere'), '--out', out]);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /--images .*nowhere: folder not found/);
  const made = vii(['explore', '--model', 'cropped-attr1-both-guided', '--images', images, '--limit', '3', '--out', out]);
  assert.equal(made.status, 0, made.stderr);
  for (const f of ['index.html', 'model.js', 'faces.js', 'model/config.json', 'model/weights.bin']) assert.ok(fs.existsSync(path.join(out, f)), f);

  const errors: string[] = [];
  const { drawn, before, status, forced, unforced, centre, overlay, pageStrength } = await withPage(`${path.join(out, 'index.html')}?backend=cpu`, { width: 1100, height: 900 }, async (page) => {
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.waitForSelector('body[data-ready]', { timeout: 120_000 });
    const holes = () => page.evaluate(() => window.viiExplorer.state().holePixels);
    const before = await holes();
    // A stroke across the upper left of the face, away from the centre hole.
    const box = (await (await page.$('#canvas'))!.boundingBox())!;
    await page.mouse.move(box.x + 20, box.y + 20);
    await page.mouse.down();
    await page.mouse.move(box.x + 100, box.y + 40, { steps: 10 });
    await page.mouse.up();
    const drawn = await holes();
    await page.$eval('#steps', (e) => ((e as HTMLInputElement).value = '3'));
    await page.click('#step');
    await page.click('#step');
    await page.waitForFunction(() => /^step 2\/3/.test(document.getElementById('status')!.textContent ?? ''), { timeout: 60_000 });
    const status = await page.$eval('#status', (e) => e.textContent ?? '');
    const forced = (await page.evaluate(() => window.viiExplorer.run({ steps: 3, latent: 'sample', seed: 5, attributes: { Smiling: 1 } }))) as PageRun;
    const unforced = (await page.evaluate(() => window.viiExplorer.run({ steps: 3, latent: 'sample', seed: 5, attributes: { Smiling: 0 } }))) as PageRun;
    fs.writeFileSync(path.join(dir, 'explorer.png'), await page.screenshot({ type: 'png' }));
    await page.evaluate(() => window.viiExplorer.setMask('centre:0.5'));
    const centre = (await page.evaluate(() => window.viiExplorer.run({ steps: 3, latent: 'mean', seed: 5, attributes: { Smiling: 1 } }))) as PageRun;
    // Toggling an attribute reruns the chain with the new y (no Step needed).
    await page.evaluate(() => window.viiExplorer.setMask('half:bottom'));
    await page.click('#attr-Smiling');
    await page.waitForFunction(() => /^step 3\/3/.test(document.getElementById('status')!.textContent ?? ''), { timeout: 60_000 });
    // The uncertainty overlay: K samples' per-pixel std, shown when its box is checked.
    await page.click('#uncertainty');
    await page.evaluate(() => ((document.getElementById('samples') as HTMLInputElement).value = '3'));
    await page.click('#sampleButton');
    await page.waitForFunction(() => /uncertainty: their per-pixel std/.test(document.getElementById('status')!.textContent ?? ''), { timeout: 60_000 });
    const overlay = await page.evaluate(() => ({ hidden: document.getElementById('uncertaintyRow')!.hidden, maxStd: Number((document.getElementById('uncertaintyMap') as HTMLCanvasElement).dataset.maxStd) }));
    const pageStrength = await page.evaluate(() => window.viiExplorer.state().settings.strength);
    return { drawn, before, status, forced, unforced, centre, overlay, pageStrength };
  });
  assert.deepEqual(errors, []);
  assert.ok(before > 0 && drawn > before + 50, `the stroke made the hole larger: ${before} → ${drawn} pixels`);
  assert.match(status, /masked L1 against the photograph \d\.\d{4}/);
  assert.equal(forced.iterates.length, 3);
  assert.equal(overlay.hidden, false, 'the uncertainty map shows when its box is checked');
  assert.ok(overlay.maxStd > 0, `the K samples differ in the hole (max std ${overlay.maxStd})`);

  // The same completion in Node: the page's model files, the face preprocessed by the CLI's code.
  const { model, meta } = loadTrainedModel(path.join(out, 'model'));
  const first = fs.readdirSync(images).filter((f) => /\.(jpe?g|png)$/.test(f)).sort()[0];
  const pixels = Array.from(await loadFaceImage(path.join(images, first), meta.preprocess), (v) => v / 255);
  assert.deepEqual(forced.face.map((v) => Math.fround(v)), pixels.map((v) => Math.fround(v)), 'the page has the face as the CLI preprocesses it');
  const s = meta.model.imageSize;
  const x = tf.tensor4d(pixels, [1, s, s, 3]);
  const mask = tf.tensor4d(forced.mask, [1, s, s, 1]);
  // The page forces at the model card's strength (carried into model/card.json too, for vii complete below).
  const { modelAttributeStrength } = await import('../src/lib/weights/shippedModel');
  const strength = modelAttributeStrength(path.join(out, 'model'));
  assert.equal(strength, modelAttributeStrength(path.join(root, 'models', 'cropped-attr1-both-guided')));
  assert.equal(pageStrength, strength, 'the page starts at the card\'s strength');
  const y = tf.tensor2d([[0.5 + strength * 0.5]]);
  const { completed, iterates } = complete(model, x, mask, y, { steps: 3, latent: 'sample', seed: 5, trajectory: true });
  let worst = 0;
  for (const [t, it] of iterates.entries()) {
    const node = await it.data();
    forced.iterates[t].forEach((v, i) => (worst = Math.max(worst, Math.abs(v - node[i]))));
  }
  assert.ok(worst <= 1e-4, `page vs Node: largest difference ${worst}`);
  const hole = forced.mask.filter((m) => m === 0).length;
  const moved = forced.iterates[2].filter((v, i) => forced.mask[Math.floor(i / 3)] === 0 && Math.abs(v - unforced.iterates[2][i]) > 1e-3).length;
  assert.ok(moved > hole * 0.1, `forcing Smiling changes the fill (${moved} of ${hole * 3} hole values)`);
  tf.dispose([x, mask, y, completed, ...iterates]);
  model.dispose();
  assert.ok(fs.statSync(path.join(dir, 'explorer.png')).size > 10_000, 'a screenshot');

  // And the CLI on the page's own model files: vii complete with the same face, hole, y and steps (8-bit PNG: within one level).
  const cliOut = path.join(dir, 'cli');
  const cli = vii(['complete', '--checkpoint', path.join(out, 'model'), '--images', images, '--limit', '1', '--mask', 'centre:0.5', '--steps', '3', '--latent', 'mean', '--set', 'Smiling=1', '--out', cliOut]);
  assert.equal(cli.status, 0, cli.stderr);
  const png = fs.readdirSync(path.join(cliOut, 'completed'))[0];
  const { data } = await (await import('sharp')).default(path.join(cliOut, 'completed', png)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const page = centre.iterates[2];
  const off = Array.from(data as Uint8Array).filter((v, i) => Math.abs(v - Math.round(Math.min(1, Math.max(0, page[i])) * 255)) > 1).length;
  assert.equal(data.length, page.length);
  assert.equal(off, 0, `${off} of ${data.length} values differ by more than one 8-bit level between the page and vii complete`);
});

test('vii explore with a model folder that ships a σ network: the page carries it (and model/ for vii complete), and its learned-σ map is the library\'s σ on the page\'s own K samples', { timeout: 600_000 }, async () => {
  if (!(await findBrowser())) return assert.fail('no headless Chromium: @sparticuz/chromium (an optional dependency) should have been installed by npm');
  await selectBackend();
  const { readSigmaNetFiles, sigmaNetSigma } = await import('../src/lib/metrics/sigmaNet');
  const dir = tempDir();
  await writeSyntheticFaces({ dir: path.join(dir, 'faces'), count: 2, seed: 4 });
  const out = path.join(dir, 'page');
  const made = vii(['explore', '--model', 'cropped-no-attr', '--images', path.join(dir, 'faces', 'img_align_celeba'), '--limit', '2', '--out', out]);
  assert.equal(made.status, 0, made.stderr);
  for (const f of ['sigma-net.json', 'sigma-net.bin', 'sigma-net-card.json']) assert.deepEqual(fs.readFileSync(path.join(out, 'model', f)), fs.readFileSync(path.join(root, 'models', 'cropped-no-attr', f)), `model/${f} is the shipped file`);
  const errors: string[] = [];
  const { spread, shown, maxSigma } = await withPage(`${path.join(out, 'index.html')}?backend=cpu`, { width: 1100, height: 900 }, async (page) => {
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.waitForSelector('body[data-ready]', { timeout: 120_000 });
    await page.evaluate(() => ((document.getElementById('samples') as HTMLInputElement).value = '3'));
    await page.evaluate(() => ((document.getElementById('steps') as HTMLInputElement).value = '2'));
    await page.click('#sampleButton');
    await page.waitForFunction(() => /and the learned σ/.test(document.getElementById('status')!.textContent ?? ''), { timeout: 120_000 });
    // The maps stay out of sight until the box is checked (a CSS display on the row must not override hidden).
    const display = () => page.evaluate(() => getComputedStyle(document.getElementById('uncertaintyRow')!).display);
    assert.equal(await display(), 'none', 'the uncertainty row is not shown while its box is unchecked');
    await page.click('#uncertainty');
    assert.notEqual(await display(), 'none', 'checking the box shows it');
    return page.evaluate(() => ({ spread: window.viiExplorer.uncertainty(), shown: getComputedStyle(document.getElementById('sigmaBox')!).display !== 'none', maxSigma: Number((document.getElementById('sigmaMap') as HTMLCanvasElement).dataset.maxSigma) }));
  });
  assert.deepEqual(errors, []);
  assert.ok(spread && spread.sigma && shown, 'the learned σ is drawn beside the std');
  assert.ok(maxSigma > 0, `σ in the hole: max ${maxSigma}`);
  const net = readSigmaNetFiles(path.join(out, 'model', 'sigma-net'), 64)!;
  const [mean, std, mask] = [tf.tensor4d(spread.mean, [1, 64, 64, 3]), tf.tensor4d(spread.std, [1, 64, 64, 3]), tf.tensor4d(spread.mask, [1, 64, 64, 1])];
  const sigma = sigmaNetSigma(net, mean, std, mask);
  const node = await sigma.data();
  const worst = spread.sigma.reduce((w, v, i) => Math.max(w, Math.abs(v - node[i]) / node[i]), 0);
  assert.ok(worst < 1e-3, `page vs Node σ: largest relative difference ${worst}`);
  const hole = spread.mask.filter((v) => v === 0).length;
  assert.ok(hole > 0 && spread.std.some((v, i) => spread.mask[Math.floor(i / 3)] === 0 && v > 0), 'the samples differ in the hole');
  tf.dispose([mean, std, mask, sigma]);
  net.net.dispose();
});
