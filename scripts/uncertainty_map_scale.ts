// The per-pixel spread of |error|, the std and the learned σ over the holes of 300 test faces (cropped-no-attr,
// K = 16, the Gibbs chain; channels averaged): what the maps' colour scales (plots/colormap.ts) are set from.
//   npx tsx scripts/uncertainty_map_scale.ts
import * as path from 'path';
import { selectBackend } from '../src/lib/backend/selectBackend';
import { loadCelebA } from '../src/lib/data/loadCelebA';
import { CELEBA_CROP_FRACTION } from '../src/lib/data/preprocess';
import { forEachSpreadBatch, checkpointStamp } from '../src/lib/experiments/experimentStages';
import { loadSpec } from '../src/lib/spec/experimentSpec';
import { loadTrainedModel } from '../src/lib/weights/loadModel';
import { readSigmaNetFiles, sigmaNetSigma } from '../src/lib/metrics/sigmaNet';
import * as tf from '@tensorflow/tfjs';
(async () => {
  await selectBackend();
  const spec = loadSpec('configs/perceptual64.json');
  const ds = await loadCelebA({ dir: path.join('..', 'shared', 'celeba'), preprocess: { size: 64, cropFraction: CELEBA_CROP_FRACTION } });
  const dir = 'models/cropped-no-attr';
  const { model } = loadTrainedModel(dir);
  const net = readSigmaNetFiles(dir + '/sigma-net', 64)!;
  const err: number[] = [], sd: number[] = [], sg: number[] = [];
  const batches: Float32Array[][] = [];
  await forEachSpreadBatch(model, checkpointStamp(dir), ds, ds.splits.test.slice(0, 300), [], spec, 10, 0, 16, (arrays) => batches.push(arrays));
  for (const [x, m, mu, s] of batches) {
    const n = m.length / 4096;
    const t = (a: Float32Array, c: number) => tf.tensor4d(a, [n, 64, 64, c]);
    const inputs = [t(mu, 3), t(s, 3), t(m, 1)] as const;
    const out = sigmaNetSigma(net, ...inputs);
    const sigma = (await out.data()) as Float32Array;
    tf.dispose([out, ...inputs]);
    for (let i = 0; i < n * 4096; i++) if (m[i] === 0) {
      let e = 0, d = 0, g = 0;
      for (let c = 0; c < 3; c++) { e += Math.abs(x[i * 3 + c] - mu[i * 3 + c]) / 3; d += s[i * 3 + c] / 3; g += sigma[i * 3 + c] / 3; }
      err.push(e); sd.push(d); sg.push(g);
    }
  }
  const q = (a: number[], p: number) => a.slice().sort((u, v) => u - v)[Math.floor(p * (a.length - 1))].toFixed(3);
  for (const [nm, a] of [['|error|', err], ['std', sd], ['learned σ', sg]] as const) console.log(nm, 'median', q(a, 0.5), 'p90', q(a, 0.9), 'p99', q(a, 0.99), 'max', q(a, 1));
})();
