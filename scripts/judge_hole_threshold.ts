// Pilot (issue 37, item 1): the Smiling threshold chosen for balanced accuracy on validation composites of one hole
// family (each validation face: its own hole blurred 2×, 4×; another face's hole at 1×, 2×, 4×), and the forced
// completions a sweep wrote (PNGs) judged at it. Usage: npx tsx scripts/judge_hole_threshold.ts HOLE SWEEP_DIR/ATTRIBUTE
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/lib/backend/selectBackend';
import { loadCelebA } from '../src/lib/data/loadCelebA';
import { CELEBA_CROP_FRACTION } from '../src/lib/data/preprocess';
import { judgeFor } from '../src/lib/metrics/judges';
import { predictAttributes } from '../src/lib/metrics/attributeClassifier';
import { compositeImages, compositeLabels, JUDGE_COMPOSITES, type Composite } from '../src/lib/metrics/judgeComposites';
import { bestThreshold } from '../src/lib/metrics/pretrainedJudge';
import { createRng } from '../src/lib/rng';
import { gatherBatch } from '../src/lib/data/faceDataset';
import { readPngFolder } from './pngFolder';

const hole = process.argv[2] ?? 'rect:0.62,0.25,0.3,0.5';
const runDir = process.argv[3] ?? 'results/runs/strength-mouth-1/Smiling';
(async () => {
  await selectBackend();
  const ds = await loadCelebA({ dir: path.join('..', 'shared', 'celeba'), preprocess: { size: 64, cropFraction: CELEBA_CROP_FRACTION } });
  const judge = await judgeFor(ds, 'pretrained');
  const col = ds.attributeNames.indexOf('Smiling');
  const a = ds.attributeNames.length;
  const h = JUDGE_COMPOSITES.holes.indexOf(hole);
  const val = ds.splits.val;
  const rng = createRng(77);
  // Each val face: own hole blurred 2×, 4×; donor blurred 1×, 2×, 4×.
  const plan: Composite[] = [];
  val.forEach((host, i) => {
    for (const blur of [2, 4]) plan.push({ host, donor: host, hole: h, boxIndex: i, blur });
    for (const blur of [1, 2, 4]) {
      let donor = val[rng.int(0, val.length)];
      if (donor === host) donor = val[(i + 1) % val.length];
      plan.push({ host, donor, hole: h, boxIndex: i, blur });
    }
  });
  const probs = async (x: tf.Tensor4D) => {
    const p = predictAttributes(judge, x);
    const out = (await p.data()) as Float32Array;
    p.dispose();
    return Array.from({ length: x.shape[0] }, (_, i) => out[i * a + col]);
  };
  const p: number[] = [];
  for (let i = 0; i < plan.length; i += 100) {
    const x = compositeImages(ds, plan.slice(i, i + 100));
    p.push(...(await probs(x)));
    x.dispose();
    if (i % 1000 === 0) console.log(`composites ${i}/${plan.length}`);
  }
  const y = Array.from(compositeLabels(ds, plan)).filter((_, k) => k % a === col);
  const keep = y.map((v, i) => [v, i] as const).filter(([v]) => !Number.isNaN(v));
  const t = bestThreshold(keep.map(([, i]) => p[i]), keep.map(([v]) => v), 'balanced');
  const pSharp: number[] = [];
  for (let i = 0; i < val.length; i += 100) {
    const b = gatherBatch(ds, val.slice(i, i + 100), []);
    pSharp.push(...(await probs(b.x)));
    tf.dispose([b.x, b.y]);
  }
  const ySharp = val.map((f) => ds.attributes[f * a + col]);
  console.log(`hole ${hole}: composite threshold ${t.toFixed(3)} (general 0.5); sharp val faces' own best ${bestThreshold(pSharp, ySharp, 'balanced').toFixed(3)}`);
  const read = async (dir: string) => {
    const x = await readPngFolder(dir);
    const out = await probs(x);
    x.dispose();
    return out;
  };
  for (const kind of ['completion', '']) {
    const off = await read(path.join(runDir, kind ? `${kind}-off` : 'off'));
    const on = await read(path.join(runDir, kind ? `${kind}-on` : 'on'));
    for (const cut of [0.5, t]) {
      const offOk = off.filter((v) => v < cut).length / off.length;
      const onOk = on.filter((v) => v >= cut).length / on.length;
      const both = off.filter((v, i) => v < cut && on[i] >= cut).length / off.length;
      console.log(`${kind || 'decoder'} cut ${cut.toFixed(3)}: control ${both.toFixed(3)} (off ${offOk.toFixed(2)}, on ${onOk.toFixed(2)})`);
    }
  }
})();
