// How much of a photograph's hole sharpness lives at the finest scales: the hole sharpness of the
// 900 held-out test faces themselves after a 2× and a 4× bilinear down-and-up resize (what a fill
// that is exact at half or quarter resolution would score). MobileNetV2's first layer (Conv1) has
// stride 2, so at 64×64 every perceptual layer sees the image at half resolution or coarser.
//   npx tsx scripts/sharpness_ceiling.ts [RUN]   (the run whose test split is used)
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/lib/backend/selectBackend';
import { runData } from '../src/lib/experiments/fineTune';
import { resolveInitFrom } from '../src/lib/training/trainer';
import { gatherBatch } from '../src/lib/data/faceDataset';
import { makeMaskBatch, parseMaskSpec } from '../src/lib/masks';
import { holeSharpness } from '../src/lib/metrics/sharpness';
import { meanStd } from '../src/lib/metrics/meanStd';
import { readAndDispose } from '../src/lib/tensorReads';

async function main(): Promise<void> {
  await selectBackend();
  const { meta } = resolveInitFrom(process.argv[2] ?? 'results/runs/paper64/vae-partial');
  const data = await runData(meta);
  const test = data.splits.test;
  const S = data.preprocess.size;
  const factors = [2, 4];
  const per: number[][] = factors.map(() => []);
  for (let start = 0; start < test.length; start += 100) {
    const idx = test.slice(start, start + 100);
    const { x, y } = gatherBatch(data, idx);
    const mask = makeMaskBatch(parseMaskSpec('centre:0.5'), idx.length, S, start);
    const ratios = factors.map((f) => tf.tidy(() => holeSharpness(tf.image.resizeBilinear(tf.image.resizeBilinear(x, [S / f, S / f], false, true), [S, S], false, true), x, mask)));
    (await readAndDispose(ratios)).forEach((v, i) => per[i].push(...Array.from(v).filter(Number.isFinite)));
    tf.dispose([x, y, mask]);
  }
  factors.forEach((f, i) => {
    const m = meanStd(per[i]);
    console.log(`hole sharpness of the photographs after a ${f}× bilinear down-and-up resize: ${m.mean.toFixed(3)} ± ${m.std.toFixed(3)} (${per[i].length} test faces, centre:0.5)`);
  });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
