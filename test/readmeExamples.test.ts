// The README's quick-start examples run as written (npx vii → node bin/vii.js) in a fresh folder
// with a few photos, using the models that ship in models/.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { writeSyntheticFaces } from '../src/lib/data/syntheticFaces';
import { tempDir } from './helpers/fixtures';

const root = path.resolve(__dirname, '..');

/** The lines of the README's block between <!-- examples --> and <!-- /examples -->. */
export function readmeExamples(readme: string): string[] {
  const block = /<!-- examples -->\s*```sh\n([\s\S]*?)```\s*<!-- \/examples -->/.exec(readme);
  if (!block) throw new Error('README.md has no <!-- examples --> block');
  return block[1].split('\n').map((l) => l.replace(/\s+#.*$/, '').trim()).filter(Boolean);
}

test('every quick-start example of the README runs as written on a folder of photos', async () => {
  const lines = readmeExamples(fs.readFileSync(path.join(root, 'README.md'), 'utf8'));
  assert.ok(lines.length >= 2 && lines.every((l) => l.startsWith('npx vii ')), lines.join('\n'));
  const cwd = tempDir();
  const faces = tempDir();
  await writeSyntheticFaces({ dir: faces, count: 3, seed: 5 });
  fs.cpSync(path.join(faces, 'img_align_celeba'), path.join(cwd, 'my-photos'), { recursive: true });
  for (const line of lines) {
    const argv = line.slice('npx vii '.length).split(/\s+/);
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [path.join(root, 'bin', 'vii.js'), ...argv], { cwd, encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, `${line}\n${r.stderr.slice(-1500)}`);
    const seconds = (performance.now() - t0) / 1000;
    assert.ok(seconds < 60, `${line}: ${seconds.toFixed(0)} s (the README promises under a minute)`);
    const out = argv[argv.indexOf('--out') + 1];
    // vii explore writes the page (test/explorer.test.ts drives it in a browser).
    if (argv[0] === 'explore') {
      assert.match(fs.readFileSync(path.join(cwd, out, 'faces.js'), 'utf8'), /^window\.VII_FACES = \[\{"name":"000001\.jpg"/);
      assert.ok(fs.existsSync(path.join(cwd, out, 'index.html')) && fs.existsSync(path.join(cwd, out, 'model', 'weights.bin')), `${line}: the page and its model`);
      continue;
    }
    assert.equal(fs.readdirSync(path.join(cwd, out, 'completed')).length, 3, `${line}: 3 completions`);
    if (argv.includes('--score')) {
      // --score reports the blur-sensitive metrics too: hole sharpness and the Fréchet substitute.
      assert.match(r.stdout, /hole sharpness \(1 = real\): \d\.\d{4} ± \d\.\d{4}/);
      assert.match(r.stdout, /FD-InceptionV3 \(nsfwjs\) \(3 images\): \d+\.\d{4}\n/);
    }
  }
});
