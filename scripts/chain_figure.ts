// The Gibbs-chain figure from `vii complete` runs: masked L1 after each step, one line per run.
// tsx scripts/chain_figure.ts FIGURE_DIR NAME LABEL=OUT/run.json ...
import * as fs from 'fs';
import { chainCurves } from '../src/lib/plots/plotly';
import { exportFigure, findBrowser, browserMissing } from '../src/lib/plots/exportFigure';
import { writeJsonAtomic } from '../src/lib/io/atomicWrite';
import * as path from 'path';

const [dir, name, ...pairs] = process.argv.slice(2);
if (!dir || !name || pairs.length === 0) throw new Error('usage: tsx scripts/chain_figure.ts FIGURE_DIR NAME LABEL=RUN_JSON ...');
const series = pairs.map((p) => {
  const at = p.indexOf('=');
  if (at <= 0) throw new Error(`"${p}": expected LABEL=RUN_JSON`);
  const file = p.slice(at + 1);
  if (!fs.existsSync(file)) throw new Error(`${file} not found (a run.json of vii complete)`);
  const run = JSON.parse(fs.readFileSync(file, 'utf8')) as { chainMaskedL1?: number[]; completed: number; latent: string };
  if (!run.chainMaskedL1?.length) throw new Error(`${file} has no chainMaskedL1 (written by an older vii complete?)`);
  return { name: p.slice(0, at), values: run.chainMaskedL1, images: run.completed, latent: run.latent };
});
const figure = chainCurves(series);
void (async () => {
  if (await findBrowser()) console.log(`wrote ${(await exportFigure(figure, name, { series }, dir)).join(', ')}`);
  else {
    writeJsonAtomic(path.join(dir, `${name}.json`), { series });
    console.log(`${browserMissing()}: wrote only ${path.join(dir, `${name}.json`)}`);
  }
})();
for (const s of series) console.log(`${s.name}: ${s.values.map((v) => v.toFixed(4)).join(' ')}`);
