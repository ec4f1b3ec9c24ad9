import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';

// The library's layers, lowest first: a module imports only from its own layer's folder or from lower layers.
const LAYERS: string[][] = [
  ['io', 'rng', 'tensorReads', 'progress'],
  ['data', 'masks', 'backend'],
  ['models'],
  ['completion', 'generation'],
  ['weights'],
  ['losses', 'metrics'],
  ['training'],
  ['spec', 'export', 'plots'],
  ['experiments'],
  ['explorer', 'report'],
  ['notebook'],
];
const LIB = path.resolve(__dirname, '..', 'src', 'lib');
const rank = new Map(LAYERS.flatMap((names, i) => names.map((n) => [n, i] as const)));

/** A module's layer name: its folder under src/lib, or a top-level file's own name. */
const unit = (file: string) => path.relative(LIB, file).split(path.sep)[0].replace(/\.ts$/, '');

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
}

test('no module of src/lib imports from a higher layer (and every module has a layer)', () => {
  const upward: string[] = [];
  for (const file of sources(LIB)) {
    const from = unit(file);
    assert.ok(rank.has(from), `${path.relative(LIB, file)}: ${from} has no layer in test/layers.test.ts`);
    for (const m of fs.readFileSync(file, 'utf8').matchAll(/from '(\.[^']+)'/g)) {
      const to = unit(path.resolve(path.dirname(file), m[1]));
      if (to === from) continue;
      assert.ok(rank.has(to), `${path.relative(LIB, file)} imports ${m[1]}, outside src/lib's layers`);
      if (rank.get(to)! >= rank.get(from)!) upward.push(`${path.relative(LIB, file)} (${from}, layer ${rank.get(from)}) imports ${m[1]} (${to}, layer ${rank.get(to)})`);
    }
  }
  assert.deepEqual(upward, []);
});

test('outside backend/, the library reaches the backends only through backend/selectBackend', () => {
  const direct = sources(LIB)
    .filter((f) => unit(f) !== 'backend')
    .flatMap((file) => [...fs.readFileSync(file, 'utf8').matchAll(/from '(\.[^']+)'/g)].map((m) => [file, path.resolve(path.dirname(file), m[1])] as const))
    .filter(([, target]) => unit(target) === 'backend' && path.relative(LIB, target) !== path.join('backend', 'selectBackend'))
    .map(([file, target]) => `${path.relative(LIB, file)} imports ${path.relative(LIB, target)}`);
  assert.deepEqual(direct, []);
});
