// λ = 0 | λ > 0 for any trained run in minutes: fine-tune it with λ_l (the sweep's choice by default)
// and compare parent and fine-tune on held-out faces (masked L1, hole sharpness, the Fréchet
// substitute, PD) with side-by-side figures. Resumable (the fine-tune reloads when finished).
//   npx tsx scripts/finetune_compare.ts PARENT_RUN NAME [STEPS] [IMAGES]
import * as fs from 'fs';
import * as path from 'path';
import { selectBackend } from '../src/lib/backend/selectBackend';
import { comparisonGrids, fineTune, quickCompare, runData } from '../src/lib/experiments/fineTune';
import { disposeRun, resolveInitFrom } from '../src/lib/training/trainer';
import { loadTrainedModel } from '../src/lib/weights/loadModel';
import { tableMarkdown } from '../src/lib/export/table';
import { exportGrid } from '../src/lib/plots/exportFigure';
import { writeFileAtomic } from '../src/lib/io/atomicWrite';

const [parent, name, stepsText = '200', imagesText = '900'] = process.argv.slice(2);
if (!parent || !name) throw new Error('usage: npx tsx scripts/finetune_compare.ts PARENT_RUN NAME [STEPS] [IMAGES]');
const LOGS = 'results/logs/perceptual64';
const FIGURES = 'results/figures/perceptual64';

async function main(): Promise<void> {
  await selectBackend();
  const chosen = JSON.parse(fs.readFileSync(path.join(LOGS, 'chosen-lambda.json'), 'utf8')) as { name: string; lambdas: Record<string, number> };
  const { meta } = resolveInitFrom(parent);
  const data = await runData(meta);
  const t0 = performance.now();
  const tuned = await fineTune({ parent, lambdas: chosen.lambdas, steps: Number(stepsText), runDir: `results/runs/perceptual64/${name}`, data, log: (m) => console.log(m) });
  console.log(`[finetune] ${name}: ${tuned.step} steps from ${parent} (step ${meta.step}) with λ_l "${chosen.name}", ${((performance.now() - t0) / 60000).toFixed(1)} min this call`);
  const before = loadTrainedModel(parent);
  const pair = [{ name: `${meta.model.name} (λ_l = 0, ${meta.epoch} epochs)`, model: before.model }, { name: `+ ${tuned.step} steps with λ_l ${chosen.name}`, model: tuned.model }];
  const { table } = await quickCompare(pair, data, { images: Number(imagesText) });
  const md = tableMarkdown({ ...table, caption: `${name}: ${parent} before and after a ${tuned.step}-step fine-tune with λ_l ${chosen.name}. ${table.caption}` });
  console.log(md);
  writeFileAtomic(path.join(LOGS, `${name}.md`), md);
  const grids = await comparisonGrids(pair, data, { count: 10, seed: 0 });
  for (const [kind, png] of Object.entries(grids)) console.log(exportGrid(png, `${name}-${kind}`, { parent, fineTune: tuned.runDir, steps: tuned.step, lambdas: chosen.lambdas }, FIGURES)[0]);
  before.model.dispose();
  disposeRun(tuned);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
