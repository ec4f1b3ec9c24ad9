import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { tableCsv, tableLatex, tableMarkdown, writeTable, type ResultTable } from '../src/lib/export/table';
import { tempDir } from './helpers/fixtures';

const t: ResultTable = {
  caption: 'Test_caption 50% ×',
  columns: ['SSIM ↑', 'acc'],
  digits: [3, 2],
  rows: [
    { name: 'model_a', cells: [{ mean: 0.81234, std: 0.0456 }, 0.5] },
    { name: 'Real images', cells: [null, 0.75] },
  ],
};

test('tables export to CSV (mean and std columns), Markdown and LaTeX', () => {
  const csv = tableCsv(t).split('\n');
  assert.equal(csv[1], 'model,SSIM ↑ mean,SSIM ↑ std,acc');
  assert.equal(csv[2], 'model_a,0.81234,0.0456,0.5');
  assert.equal(csv[3], 'Real images,,,0.75');
  assert.match(tableMarkdown(t), /\| model_a \| 0\.812 ± 0\.046 \| 0\.50 \|/);
  assert.match(tableMarkdown(t), /\| Real images \| — \| 0\.75 \|/);
  const tex = tableLatex(t);
  assert.match(tex, /model\\_a & 0\.812 \$\\pm\$ 0\.046 & 0\.50 \\\\/);
  assert.match(tex, /\\caption\{Test\\_caption 50\\% \$\\times\$\}/);
  const dir = tempDir();
  const files = writeTable(path.join(dir, 'x'), t);
  assert.deepEqual(files.map((f) => path.basename(f)), ['x.csv', 'x.md', 'x.tex']);
  assert.equal(fs.readdirSync(dir).length, 3);
});

test('plots after npm install alone: the Chromium inside npm\'s @sparticuz/chromium renders PNG and PDF; with no browser at all, one line says what is missing', () => {
  const script = `
    const { exportFigure, findBrowser, browserMissing } = require('./src/lib/plots/exportFigure');
    const { tradeOff } = require('./src/lib/plots/plotly');
    (async () => {
      const b = await findBrowser();
      if (!b) { console.log('MISSING ' + browserMissing()); return; }
      const files = await exportFigure(tradeOff([{ name: 'a', x: 1, y: 2 }], { x: 'x', y: 'y' }, 't'), 'fig', {}, process.argv[1]);
      console.log('ORIGIN ' + b.origin + ' ' + files.join(' '));
    })().catch((e) => { console.error(e); process.exit(1); });`;
  const run = (chromium: string) => {
    const dir = tempDir();
    const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', script, dir], { cwd: path.resolve(__dirname, '..'), encoding: 'utf8', env: { ...process.env, VII_CHROMIUM: chromium }, timeout: 180_000 });
    assert.equal(r.status, 0, r.stderr);
    return { out: r.stdout, dir };
  };
  const bundled = run('bundled');
  assert.match(bundled.out, /^ORIGIN @sparticuz\/chromium /m, bundled.out);
  const png = fs.readFileSync(path.join(bundled.dir, 'fig.png'));
  assert.equal(png.subarray(1, 4).toString(), 'PNG');
  assert.ok(png.length > 3000, `a drawn plot, not a blank page (${png.length} bytes)`);
  assert.equal(fs.readFileSync(path.join(bundled.dir, 'fig.pdf')).subarray(0, 5).toString(), '%PDF-');
  const none = run('/nonexistent/chromium');
  assert.match(none.out, /^MISSING VII_CHROMIUM=\/nonexistent\/chromium does not run; plots are shown inline but not written as PNG\/PDF/m);
});

test('a mean ± std cell can carry a note mark (‡: PD of a model trained through the PD network), in Markdown and LaTeX', () => {
  const noted: ResultTable = { caption: 'c', columns: ['PD ↓'], digits: [3], rows: [{ name: 'm', cells: [{ mean: 0.5, std: 0.1, note: '‡' }] }] };
  assert.match(tableMarkdown(noted), /\| m \| 0\.500 ± 0\.100 ‡ \|/);
  assert.match(tableLatex(noted), /0\.500 \$\\pm\$ 0\.100 \$\\ddagger\$/);
});

test('the summary\'s chain cell shows the best step when the chain is best in between (it hid a minimum at t = 4)', async () => {
  const { chainCell } = await import('../src/lib/experiments/experimentStages');
  assert.equal(chainCell([0.2831, 0.2, 0.15, 0.116, 0.12, 0.1335]), '0.2831 → 0.1335 (best 0.1160 at t = 4)');
  assert.equal(chainCell([0.3, 0.2, 0.1]), '0.3000 → 0.1000');
  assert.equal(chainCell([0.088, 0.1, 0.199]), '0.0880 → 0.1990');
});

test('a figure exported again unchanged is left as it is (a re-rendered PDF differs only in its timestamp); a changed one is rendered again', async () => {
  const { exportFigure, findBrowser } = await import('../src/lib/plots/exportFigure');
  const { tradeOff } = await import('../src/lib/plots/plotly');
  if (!(await findBrowser())) return void console.log('# skip: no browser to render with');
  const dir = tempDir();
  const fig = (y: number) => tradeOff([{ name: 'a', x: 1, y }], { x: 'x', y: 'y' }, 't');
  const files = await exportFigure(fig(2), 'fig', { k: 1 }, dir);
  const stamp = () => files.map((f) => fs.statSync(f).mtimeMs);
  const first = stamp();
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(await exportFigure(fig(2), 'fig', { k: 1 }, dir), files);
  assert.deepEqual(stamp(), first, 'nothing rewritten');
  await exportFigure(fig(3), 'fig', { k: 1 }, dir);
  assert.ok(stamp().every((t, i) => t > first[i]), 'a changed plot rewrites PNG, PDF and JSON');
  const again = stamp();
  await new Promise((r) => setTimeout(r, 20));
  await exportFigure(fig(3), 'fig', { k: 2 }, dir);
  assert.ok(stamp().every((t, i) => t > again[i]), 'a changed config too');
});
