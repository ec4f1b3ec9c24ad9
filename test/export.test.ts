import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
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
