import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { findBrowser, withPage } from '../src/lib/plots/browser';
import { tempDir } from './helpers/fixtures';
import { queueSocketSends } from '../src/lib/notebook/kernelSends';

const root = path.resolve(__dirname, '..');
const JUPYTER = '/usr/bin/jupyter';

function notebookSkip(): string | false {
  if (!fs.existsSync(JUPYTER)) return `${JUPYTER} not found (apt-get install jupyter-nbconvert python3-nbclient python3-ipykernel jupyter-client python3-nbformat): notebook test skipped`;
  return false;
}

test('every notebook executes headless at tiny size; the exported HTML renders its plot in Chromium', { skip: notebookSkip() }, async () => {
  const out = tempDir();
  const r = spawnSync(path.join(root, 'scripts', 'run_notebooks.sh'), [], { cwd: root, encoding: 'utf8', env: { ...process.env, VII_TINY: '1', VII_NOTEBOOK_OUT: out, JUPYTER }, timeout: 20 * 60_000 });
  assert.equal(r.status, 0, `run_notebooks.sh failed:\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-4000)}`);
  const names = fs.readdirSync(path.join(root, 'notebooks')).filter((f) => /^\d\d-.*\.ipynb$/.test(f));
  assert.ok(names.length >= 5);
  for (const name of names) {
    const nb = JSON.parse(fs.readFileSync(path.join(out, name), 'utf8')) as { cells: { cell_type: string; outputs?: { output_type: string; name?: string; text?: string | string[]; data?: Record<string, unknown> }[] }[] };
    const outputs = nb.cells.flatMap((c) => c.outputs ?? []);
    const errors = outputs.filter((o) => o.output_type === 'error' || (o.output_type === 'stream' && /Error|error TS|Cannot find/.test([o.text ?? ''].flat().join(''))));
    assert.equal(errors.length, 0, `${name}: ${JSON.stringify(errors).slice(0, 1000)}`);
    assert.ok(outputs.some((o) => o.data && ('image/png' in o.data || 'text/html' in o.data || 'text/markdown' in o.data)), `${name} rendered something`);
    const counts = nb.cells.filter((c) => c.cell_type === 'code').map((c) => (c as { execution_count?: number | null }).execution_count);
    assert.deepEqual(counts, counts.map((_, i) => i + 1), `${name}: executed cells keep their execution counts (HTML shows In [1], In [2], …)`);
  }
  // The executed notebook stays light: the basic minified plotly.js per plot, no 10 MB bundle.
  const size01 = fs.statSync(path.join(out, '01-latent-vae.ipynb')).size;
  assert.ok(size01 < 5e6, `executed 01-latent-vae.ipynb weighs ${(size01 / 1e6).toFixed(1)} MB (limit 5 MB)`);
  // The chain plot of notebook 01 must render in a browser from the exported HTML.
  const html = path.join(out, '01-latent-vae.html');
  assert.ok(fs.existsSync(html), 'HTML export written');
  // Chromium from Debian or from npm's @sparticuz/chromium: `npm install` alone must be enough here.
  if (!(await findBrowser())) return assert.fail('no headless Chromium: @sparticuz/chromium (an optional dependency) should have been installed by npm');
  const shots = path.join(root, 'results', 'screenshots');
  fs.mkdirSync(shots, { recursive: true });
  await withPage(html, { width: 1000, height: 2400 }, async (page) => {
    await page.waitForSelector('.main-svg', { timeout: 60_000 });
    assert.match(await page.content(), /class="main-svg"/, 'plotly drew its SVG');
    await page.screenshot({ path: path.join(shots, 'notebook-01-latent-vae.png') as `${string}.png`, fullPage: false });
  });
  assert.ok(fs.statSync(path.join(shots, 'notebook-01-latent-vae.png')).size > 10_000);
});

test('the committed notebooks are exactly what scripts/make_notebooks.py writes (one source)', () => {
  const out = tempDir();
  const r = spawnSync('python3', [path.join(root, 'scripts', 'make_notebooks.py'), out], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const made = fs.readdirSync(out).sort();
  assert.deepEqual(made, fs.readdirSync(path.join(root, 'notebooks')).filter((f) => f.endsWith('.ipynb')).sort());
  for (const f of made) assert.equal(fs.readFileSync(path.join(root, 'notebooks', f), 'utf8'), fs.readFileSync(path.join(out, f), 'utf8'), `notebooks/${f} differs from the generator's output: edit scripts/make_notebooks.py and rerun it`);
});

test('live tslab kernels: notebooks 01 and 03 cell by cell, every cell rerun three times, an image-heavy cell run 150 times, a forgotten await, a second kernel beside the first', { skip: notebookSkip() }, () => {
  // The kernel spec of this checkout in a private prefix, as run_notebooks.sh does.
  const prefix = tempDir();
  const install = spawnSync(path.join(root, 'node_modules', '.bin', 'tslab'), ['install', '--python=/usr/bin/python3', `--binary=${path.join(root, 'node_modules', '.bin', 'tslab')}`, `--prefix=${prefix}`], { cwd: root, encoding: 'utf8' });
  assert.equal(install.status, 0, install.stderr);
  const report = path.join(tempDir(), 'report.json');
  const r = spawnSync('/usr/bin/python3', [path.join(root, 'test', 'helpers', 'live_kernel.py'), report, 'notebooks/01-latent-vae.ipynb', 'notebooks/03-attribute-placement.ipynb'], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, VII_TINY: '1', JUPYTER_PATH: path.join(prefix, 'share', 'jupyter') },
    timeout: 25 * 60_000,
  });
  assert.equal(r.status, 0, `live_kernel.py failed:\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-3000)}`);
  const reports = JSON.parse(fs.readFileSync(report, 'utf8')) as { notebook: string; passes: { tensors: number; rss: number }[]; failures: unknown[]; alive_after_rejection: boolean; second_kernel_failures: unknown[]; first_alive_at_end: boolean }[];
  assert.equal(reports.length, 2);
  for (const nb of reports) {
    assert.deepEqual(nb.failures, [], `${nb.notebook}: cells failed`);
    assert.equal(nb.passes.length, 4, `${nb.notebook}: one pass and three reruns`);
    const first = nb.passes[0].tensors;
    // Within 10 % of the first pass (and a tensor or two of slack when the first pass holds almost none).
    for (const p of nb.passes.slice(1)) assert.ok(Math.abs(p.tensors - first) <= Math.max(2, 0.1 * first), `${nb.notebook}: ${p.tensors} tensors after a rerun pass, ${first} after the first: a rerun leaks`);
    // RSS after a full collection (the driver's kernels run with --expose-gc): within 10 % of the first pass.
    const rss0 = nb.passes[0].rss;
    for (const p of nb.passes.slice(1)) assert.ok(p.rss < 1.1 * rss0, `${nb.notebook}: RSS ${(p.rss / 1e6).toFixed(0)} MB after a rerun pass, ${(rss0 / 1e6).toFixed(0)} MB after the first`);
    console.log(`${nb.notebook}: tensors ${nb.passes.map((p) => p.tensors).join(' → ')}, RSS ${nb.passes.map((p) => (p.rss / 1e6).toFixed(0)).join(' → ')} MB`);
    assert.ok((nb as { type_error_caught?: boolean }).type_error_caught, `${nb.notebook}: vii.showText(42) compiled: the notebook does not see the library's types`);
    assert.ok(nb.alive_after_rejection, `${nb.notebook}: a forgotten await on a failing promise killed the kernel`);
    assert.deepEqual(nb.second_kernel_failures, [], `${nb.notebook}: a second kernel could not run the notebook beside the first (a lock held by a loaded run?)`);
    assert.ok(nb.first_alive_at_end);
    // tslab drops a message when two zeromq sends overlap; without the library's send queue this cell got its reply in only 71 of the runs.
    const [done, asked] = (nb as { image_reruns?: [number, number] }).image_reruns ?? [0, 1];
    assert.equal(done, asked, `${nb.notebook}: a cell showing five large PNGs got no reply on its run ${done + 1} of ${asked} (a dropped idle status: the kernel's sends are not queued)`);
  }
});

test('queued sends: an unawaited burst on a socket that allows one pending send arrives whole and in order', async () => {
  // The zeromq 6 contract tslab breaks: a second send while one is pending rejects with EBUSY.
  class OneAtATime {
    pending = false;
    delivered: number[] = [];
  }
  Object.defineProperty(OneAtATime.prototype, 'send', {
    writable: false, // as zeromq's native method
    configurable: true,
    value(this: OneAtATime, m: number): Promise<void> {
      if (this.pending) return Promise.reject(Object.assign(new Error('Socket is busy writing'), { code: 'EBUSY' }));
      this.pending = true;
      return new Promise((resolve, reject) => setTimeout(() => {
        this.pending = false;
        if (m === 13) return reject(new Error('unlucky'));
        this.delivered.push(m);
        resolve();
      }, 1));
    },
  });
  type Sock = OneAtATime & { send(m: number): Promise<void> };
  const burst = async (s: Sock) => (await Promise.allSettled(Array.from({ length: 30 }, (_, i) => s.send(i)))).map((r) => (r.status === 'rejected' ? (r.reason as { code?: string }).code ?? 'error' : 'ok'));
  const before = await burst(new OneAtATime() as Sock);
  assert.ok(before.filter((r) => r === 'EBUSY').length >= 28, 'the fake socket must reproduce the race, or this test proves nothing');
  assert.equal(queueSocketSends({ Socket: OneAtATime as never }), true);
  const wrapped = (OneAtATime.prototype as Sock).send;
  assert.equal(queueSocketSends({ Socket: OneAtATime as never }), true);
  assert.equal((OneAtATime.prototype as Sock).send, wrapped, 'a second call leaves one wrapper');
  const [a, b] = [new OneAtATime() as Sock, new OneAtATime() as Sock];
  const [ra, rb] = await Promise.all([burst(a), burst(b)]);
  const expected = Array.from({ length: 30 }, (_, i) => i).filter((i) => i !== 13);
  assert.deepEqual(a.delivered, expected, 'every message but the failing one, in order');
  assert.deepEqual(b.delivered, expected, 'each socket has its own queue');
  assert.deepEqual(ra.filter((r) => r !== 'ok'), ['error'], 'a failed send rejects its own promise only');
  assert.deepEqual(rb, ra);
  assert.equal(queueSocketSends({}), false, 'no Socket class: nothing to queue');
});
