// Two trained runs side by side on the held-out faces of the first one's split (masked L1, hole
// sharpness, the Fréchet substitute, PD) and the same-z figures:
//   npx tsx scripts/compare_runs.ts NAME RUN_A RUN_B [IMAGES]
// (NAME.md into $COMPARE_LOGS, default results/logs/perceptual64; figures into $COMPARE_FIGURES, default results/figures/perceptual64)
import * as path from 'path';
import { selectBackend } from '../src/lib/backend/selectBackend';
import { comparisonGrids, quickCompare, runData } from '../src/lib/experiments/fineTune';
import { loadTrainedModel } from '../src/lib/weights/loadModel';
import { tableMarkdown } from '../src/lib/export/table';
import { exportGrid } from '../src/lib/plots/exportFigure';
import { writeFileAtomic } from '../src/lib/io/atomicWrite';

const [name, a, b, imagesText = '900'] = process.argv.slice(2);
if (!name || !a || !b) throw new Error('usage: npx tsx scripts/compare_runs.ts NAME RUN_A RUN_B [IMAGES]');

async function main(): Promise<void> {
  await selectBackend();
  const [ma, mb] = [loadTrainedModel(a), loadTrainedModel(b)];
  const data = await runData(ma.meta);
  const pair = [{ name: `${a} (step ${ma.meta.step})`, model: ma.model }, { name: `${b} (step ${mb.meta.step})`, model: mb.model }];
  const { table } = await quickCompare(pair, data, { images: Number(imagesText) });
  const md = tableMarkdown({ ...table, caption: `${name}. ${table.caption}` });
  console.log(md);
  writeFileAtomic(path.join(process.env.COMPARE_LOGS ?? 'results/logs/perceptual64', `${name}.md`), md);
  const grids = await comparisonGrids(pair, data, { count: 10, seed: 0 });
  for (const [kind, png] of Object.entries(grids)) console.log(exportGrid(png, `${name}-${kind}`, { a: ma.checkpoint, b: mb.checkpoint }, process.env.COMPARE_FIGURES ?? 'results/figures/perceptual64')[0]);
  ma.model.dispose();
  mb.model.dispose();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
