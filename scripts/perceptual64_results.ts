// Results of the perceptual-term experiment (scripts/perceptual64.sh): Table 1 of each λ = 0 twin
// and its perceptual model on the 900 held-out faces, side-by-side figures on the same masked faces
// and the same z (λ = 0 | λ > 0), and results/perceptual64.md.
//   npx tsx scripts/perceptual64_results.ts [PRESET ...]   (default: vae-partial vae-complete)
import * as fs from 'fs';
import * as path from 'path';
import { selectBackend } from '../src/lib/backend/selectBackend';
import { buildTable1 } from '../src/lib/experiments/table1';
import { comparisonGrids, runData } from '../src/lib/experiments/fineTune';
import { loadTrainedModel } from '../src/lib/weights/loadModel';
import { rowName } from '../src/lib/models/config';
import { tableMarkdown } from '../src/lib/export/table';
import { exportGrid } from '../src/lib/plots/exportFigure';
import { writeFileAtomic } from '../src/lib/io/atomicWrite';
import { weightsDir } from '../src/lib/weights/weightsStore';
import { disposeRealMetrics, loadRealMetrics } from '../src/lib/metrics/realMetrics';

const DEFAULT = ['vae-partial', 'vae-complete'];
const presets = process.argv.slice(2).length ? process.argv.slice(2) : DEFAULT;
// Other presets than the default pair get files of their own (e.g. table1-64-perceptual-attr1-both-g40).
const suffix = presets.join() === DEFAULT.join() ? '' : `-${presets.join('-')}`;
/** The λ = 0 twin's run: guided presets (PRESET-gλ) were trained by train_guided64.sh's command. */
const twinDir = (p: string) => (/-g\d/.test(p) ? `results/runs/guided64/${p}` : `results/runs/paper64/${p}`);
const FIGURES = 'results/figures/perceptual64';
const chosen = JSON.parse(fs.readFileSync('results/logs/perceptual64/chosen-lambda.json', 'utf8')) as { name: string; flag: string; lambdas: Record<string, number> };
const lambdaText = Object.entries(chosen.lambdas).filter(([, v]) => v > 0).map(([l, v]) => `${l} ${v}`).join(', ');
const pairs = presets.map((p) => ({
  preset: p,
  twin: { name: `${rowName(p)} (λ_l = 0)`, runDir: twinDir(p) },
  perceptual: { name: `${rowName(p)} + perceptual (λ_l: ${lambdaText})`, runDir: `results/runs/perceptual64/${p}-perc` },
}));

async function main(): Promise<void> {
  await selectBackend();
  const first = loadTrainedModel(pairs[0].twin.runDir);
  const data = await runData(first.meta);
  first.model.dispose();
  const real = await loadRealMetrics(weightsDir());
  const { table, rows } = await buildTable1({ data, models: pairs.flatMap((p) => [p.twin, p.perceptual]), outBase: `results/table1/table1-64-perceptual${suffix}`, seed: 0, real });
  disposeRealMetrics(real);
  console.log(tableMarkdown(table));
  const figures: string[] = [];
  for (const p of pairs) {
    const a = loadTrainedModel(p.twin.runDir);
    const b = loadTrainedModel(p.perceptual.runDir);
    const grids = await comparisonGrids([{ name: 'λ = 0', model: a.model }, { name: 'λ > 0', model: b.model }], data, { count: 10, seed: 0 });
    for (const [kind, png] of Object.entries(grids)) {
      const rowsOf = kind === 'completions' ? ['truth', 'masked input', 'λ = 0', 'λ > 0'] : kind === 'reconstructions' ? ['truth', 'λ = 0', 'λ > 0'] : ['λ = 0', 'λ > 0 (same z)'];
      figures.push(exportGrid(png, `${p.preset}-${kind}`, { rows: rowsOf, twin: a.checkpoint, perceptual: b.checkpoint, faces: 'first 10 test faces', mask: 'centre:0.5', latent: 'mean', steps: 10, seed: 0 }, FIGURES)[0]);
    }
    a.model.dispose();
    b.model.dispose();
  }
  const md = [
    '# The perceptual term at 64×64 (made by scripts/perceptual64.sh)',
    '',
    `λ_l chosen by the sweep (\`results/logs/perceptual64/lambda-sweep.md\`, rule in \`chosen-lambda.json\`): **${chosen.name}** (\`--lambda ${chosen.flag}\`).`,
    'Each λ = 0 twin and perceptual model: 10 epochs on the 7,200 training faces, seed 0, otherwise identical.',
    '',
    tableMarkdown(table),
    'Figures (first 10 test faces, centre hole, z = μ, 10 Gibbs steps; prior samples from the same z):',
    '',
    ...figures.map((f) => `- ![${path.basename(f, '.png')}](${path.relative('results', f)})`),
    '',
  ].join('\n');
  writeFileAtomic(`results/perceptual64${suffix}.md`, md);
  console.log(`rows: ${rows.length}; wrote results/perceptual64${suffix}.md, ${figures.join(', ')}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
