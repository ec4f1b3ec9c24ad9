import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { buildReport, reportPath } from '../src/lib/report/buildReport';
import { tempDir } from './helpers/fixtures';

const root = path.resolve(__dirname, '..');

test('results/REPORT.md is exactly what `vii report` builds from the committed logs (no number drifts from its log)', () => {
  const committed = fs.readFileSync(reportPath(root), 'utf8');
  assert.equal(buildReport(root), committed, 'results/REPORT.md differs from the logs it is built from: run `npx vii report` and commit the result');
});

test('a number changed in a log changes the report, and a missing log is named', () => {
  const copy = tempDir();
  for (const dir of ['models', 'results/table1', 'results/logs/perceptual64', 'results/logs/judge', 'results/logs/paper64']) fs.cpSync(path.join(root, dir), path.join(copy, dir), { recursive: true });
  fs.copyFileSync(path.join(root, 'results', 'logs', 'bench.log'), path.join(copy, 'results', 'logs', 'bench.log'));
  const before = buildReport(copy);
  assert.equal(before, buildReport(root), 'the copy builds the same report');
  const file = path.join(copy, 'results', 'table1', 'table1-64-perceptual.json');
  const t = JSON.parse(fs.readFileSync(file, 'utf8'));
  t.rows[1].sharpness.mean = 0.987654;
  fs.writeFileSync(file, JSON.stringify(t));
  const after = buildReport(copy);
  assert.match(after, /\| 0\.988 ± 0\.153 \|/, 'the table shows the new number');
  assert.match(after, /keep 0\.988 of a photograph's hole detail/, 'and so does the prose templated from it');
  fs.rmSync(path.join(copy, 'results', 'logs', 'bench.log'));
  assert.throws(() => buildReport(copy), /report: results\/logs\/bench\.log is missing/);
});
