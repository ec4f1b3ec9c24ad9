// Markdown of the 64×64 results from their logs (training histories, chain run.json files, sweep
// control.json files, Table 1): tsx scripts/paper64_summary.ts > results/paper64.md
// Other runs: RUNS=… LOGS=… TABLE=… (e.g. the attribute-guided models, results/guided64.md).
import * as fs from 'fs';
import * as path from 'path';
import { epochMeans, parseHistoryCsv } from '../src/lib/training/history';
import { rowName, rowPreset, PAPER_ROWS } from '../src/lib/models/config';
import { controlTable, type AttributeControl } from '../src/lib/experiments/attributeControl';
import { tableMarkdown } from '../src/lib/export/table';

// Training histories: copies of each run's history.csv (the run folders are not committed).
const RUNS = process.env.RUNS ?? 'results/logs/paper64/history';
const LOGS = process.env.LOGS ?? 'results/logs/paper64';
const order = (a: string, b: string) => {
  const keys = Object.keys(PAPER_ROWS);
  return (keys.indexOf(rowPreset(a)) + 1 || 99) - (keys.indexOf(rowPreset(b)) + 1 || 99);
};
const runs = fs.readdirSync(RUNS).filter((d) => fs.existsSync(path.join(RUNS, d, 'history.csv'))).sort(order);
const out: string[] = [];

out.push('#### Training (10 epochs of 7,200 faces, 64×64; mean per image over each epoch)', '');
out.push('| model | steps | loss, epoch 1 → 10 | recon | KL (nats / image) | training time |', '|---|---|---|---|---|---|');
for (const d of runs) {
  const history = parseHistoryCsv(fs.readFileSync(path.join(RUNS, d, 'history.csv'), 'utf8'));
  const e = epochMeans(history);
  const [first, last] = [e[0], e[e.length - 1]];
  const minutes = history.reduce((s, r) => s + r.ms, 0) / 60000;
  out.push(`| ${rowName(d)} | ${history.length} | ${first.total.toFixed(1)} → ${last.total.toFixed(1)} | ${first.recon.toFixed(1)} → ${last.recon.toFixed(1)} | ${first.kl.toFixed(1)} → ${last.kl.toFixed(1)} | ${minutes.toFixed(1)} min |`);
}
out.push('', `From \`${RUNS}/*/history.csv\` (also \`${LOGS}/PRESET.log\`). Training time: the sum of step times (the machine was shared with other work at times).`, '');

const chains = fs.readdirSync(LOGS).filter((f) => /^chain-.*-(mean|sample)\.run\.json$/.test(f)).sort();
if (chains.length) {
  out.push('#### Gibbs chain: masked L1 of x\'_t after each step t (held-out faces, centre hole)', '');
  out.push('| model | z | images | t = 1 | t = 2 | t = 3 | t = 5 | t = 10 | best t |', '|---|---|---|---|---|---|---|---|---|');
  const rows = chains.map((f) => {
    const m = /^chain-(.*)-(mean|sample)\.run\.json$/.exec(f)!;
    const run = JSON.parse(fs.readFileSync(path.join(LOGS, f), 'utf8')) as { chainMaskedL1: number[]; completed: number };
    return { model: m[1], latent: m[2], values: run.chainMaskedL1, images: run.completed };
  }).sort((a, b) => order(a.model, b.model) || a.latent.localeCompare(b.latent));
  for (const r of rows) {
    const v = r.values;
    const best = v.indexOf(Math.min(...v)) + 1;
    const at = (t: number) => (v[t - 1] === undefined ? '—' : v[t - 1].toFixed(4));
    out.push(`| ${rowName(r.model)} | ${r.latent === 'mean' ? 'μ' : '~ q'} | ${r.images} | ${at(1)} | ${at(2)} | ${at(3)} | ${at(5)} | ${at(10)} | ${best} |`);
  }
  out.push('', `From \`${LOGS}/chain-MODEL-LATENT.run.json\` (\`vii complete --method gibbs --steps 10\`; the one-shot models are run as a chain here too, though they complete in one pass).`, '');
}

const sweeps = fs.readdirSync(LOGS).filter((f) => /^sweep-.*\.control\.json$/.test(f)).sort();
if (sweeps.length) {
  const control: Record<string, AttributeControl[]> = {};
  let samples = 0;
  let judge = '';
  for (const f of sweeps) {
    const c = JSON.parse(fs.readFileSync(path.join(LOGS, f), 'utf8')) as { results: AttributeControl[]; samples: number; classifier: string };
    const tag = f.replace(/^sweep-/, '').replace(/\.control\.json$/, '');
    const epoch1 = tag.endsWith('-epoch-1');
    control[`${rowName(epoch1 ? tag.slice(0, -8) : tag)}${epoch1 ? ' (after epoch 1)' : ''}`] = c.results;
    samples = c.samples;
    judge = c.classifier;
  }
  out.push(`#### Attribute control (${samples} held-out faces / prior samples each; judge: ${judge})`, '');
  out.push(tableMarkdown(controlTable(control, ['Smiling', 'Male', 'Eyeglasses', 'Blond_Hair', 'Young'])));
  out.push(`From \`${LOGS}/sweep-MODEL.control.json\` (\`vii sweep --samples ${samples} --seed 0\`, prior z).`, '');
}

const table = process.env.TABLE ?? 'results/table1/table1-64.md';
if (fs.existsSync(table)) out.push('#### Table 1 (64×64)', '', fs.readFileSync(table, 'utf8'));
console.log(out.join('\n'));
