// Pilot (issue 37, item 1; run once, its log: results/logs/judge/view-pilot.log): the shipped judge reading every image through a
// whole-image blur (a "view", or the mean of views) — the saved S = 1 forced completions and decoder sweeps of the shipped guided
// model (300 pairs, results/runs/strength300-{mouth,centre}-1 from `vii judge sweeps`) and the 900 test faces.
//   npx tsx scripts/judge_view_pilot.ts
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/lib/backend/selectBackend';
import { loadCelebA } from '../src/lib/data/loadCelebA';
import { CELEBA_CROP_FRACTION } from '../src/lib/data/preprocess';
import { judgeFor } from '../src/lib/metrics/judges';
import { predictAttributes } from '../src/lib/metrics/attributeClassifier';
import { blurred } from '../src/lib/metrics/blur';
import { gatherBatch } from '../src/lib/data/faceDataset';
import { readPngFolder } from './pngFolder';

const VIEWS: [string, number[]][] = [['sharp', [1]], ['blur1.5', [1.5]], ['blur2', [2]], ['blur3', [3]], ['mean1,2', [1, 2]], ['mean1,2,4', [1, 2, 4]]];
(async () => {
  await selectBackend();
  const ds = await loadCelebA({ dir: path.join('..', 'shared', 'celeba'), preprocess: { size: 64, cropFraction: CELEBA_CROP_FRACTION } });
  const judge = await judgeFor(ds, 'pretrained');
  const a = ds.attributeNames.length;
  const col = ds.attributeNames.indexOf('Smiling');
  const probsAll = async (x: tf.Tensor4D, fs_: number[]) => {
    const acc = new Float32Array(x.shape[0] * a);
    for (const f of fs_) {
      const v = blurred(x, f);
      const p = predictAttributes(judge, v);
      const d = (await p.data()) as Float32Array;
      tf.dispose([p, v]);
      d.forEach((q, i) => (acc[i] += q / fs_.length));
    }
    return acc;
  };
  const smile = async (x: tf.Tensor4D, v: number[]) => {
    const out: number[] = [];
    for (let i = 0; i < x.shape[0]; i += 100) {
      const b = x.slice([i], [Math.min(100, x.shape[0] - i)]);
      const p = await probsAll(b, v);
      b.dispose();
      for (let k = 0; k < p.length / a; k++) out.push(p[k * a + col]);
    }
    return out;
  };
  for (const run of ['strength300-mouth-1', 'strength300-centre-1']) {
    for (const kind of ['completion-', '']) {
      const off = await readPngFolder(`results/runs/${run}/Smiling/${kind}off`);
      const on = await readPngFolder(`results/runs/${run}/Smiling/${kind}on`);
      for (const [name, v] of VIEWS) {
        const [po, pn] = [await smile(off, v), await smile(on, v)];
        const both = po.filter((q, i) => q < 0.5 && pn[i] >= 0.5).length / po.length;
        console.log(`${run} ${kind || 'decoder-'}sweep ${name}: control ${both.toFixed(3)} (off ${(po.filter((q) => q < 0.5).length / po.length).toFixed(2)}, on ${(pn.filter((q) => q >= 0.5).length / pn.length).toFixed(2)})`);
      }
      tf.dispose([off, on]);
      if (!kind) continue;
    }
  }
  const test = ds.splits.test;
  for (const [name, v] of VIEWS) {
    let right = 0, sRight = 0; const bal = Array.from({ length: a }, () => [0, 0, 0, 0]);
    for (let i = 0; i < test.length; i += 100) {
      const b = gatherBatch(ds, test.slice(i, i + 100));
      const p = await probsAll(b.x, v);
      const y = (await b.y.data()) as Float32Array;
      tf.dispose([b.x, b.y]);
      for (let k = 0; k < p.length; k++) { const ok = (p[k] >= 0.5) === (y[k] > 0.5); right += +ok; if (k % a === col) sRight += +ok; bal[k % a][(y[k] > 0.5 ? 0 : 2) + (ok ? 0 : 1)]++; }
    }
    const mb = bal.reduce((s, [tp, fn, tn, fp]) => s + ((tp / Math.max(1, tp + fn)) + (tn / Math.max(1, tn + fp))) / 2, 0) / a;
    console.log(`test faces ${name}: mean accuracy ${(right / (test.length * a) * 100).toFixed(2)} %, balanced ${(mb * 100).toFixed(2)} %, Smiling ${(sRight / test.length * 100).toFixed(2)} %`);
  }
})();
