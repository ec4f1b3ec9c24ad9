// Pilot of the pretrained judge's pooling (run once, its log: results/logs/judge/pooling-pilot.log):
//   npx tsx scripts/judge_pooling_pilot.ts
// Pilot: global means vs horizontal bands vs 3×3 grid of InceptionV3 mixed7 (+ mixed10 mean) for
// linear class-balanced probes, sharp faces only, first 3,000 faces (2,400 train / 600 test by order).
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/lib/backend/selectBackend';
import { loadFaces } from '../src/lib/data/dataSource';
import { gatherBatch } from '../src/lib/data/faceDataset';
import { CELEBA_CROP_FRACTION } from '../src/lib/data/preprocess';
import { loadNsfwjsInceptionV3Layers } from '../src/lib/weights/featureNet';
import { pilotBalancedAccuracy } from './pilotProbes';

const ATTRS = ['Smiling', 'Male', 'Eyeglasses', 'Blond_Hair', 'Young'];
(async () => {
  await selectBackend();
  const ds = await loadFaces({ dir: '../shared/celeba', limit: 3000, preprocess: { size: 64, cropFraction: CELEBA_CROP_FRACTION }, seed: 0 });
  const net = await loadNsfwjsInceptionV3Layers(['mixed5', 'mixed7', 'mixed10']);
  const feats: Record<string, Float32Array[]> = { mean: [], bands: [], grid: [], grid5: [] };
  const t0 = Date.now();
  for (let i = 0; i < 3000; i += 50) {
    const b = gatherBatch(ds, Array.from({ length: 50 }, (_, k) => i + k));
    const out = tf.tidy(() => {
      const [m5, m7, m10] = net.predict(tf.image.resizeBilinear(b.x, [139, 139], false, true)) as tf.Tensor4D[];
      const g10 = tf.mean(m10, [1, 2]);
      const g7 = tf.mean(m7, [1, 2]);
      const h = m7.shape[1]!;
      const cuts = [0, Math.round(h / 3), Math.round((2 * h) / 3), h];
      const band = (t: tf.Tensor4D, r0: number, r1: number) => tf.mean(t.slice([0, r0, 0, 0], [-1, r1 - r0, -1, -1]), [1, 2]);
      const bands = [0, 1, 2].map((k) => band(m7, cuts[k], cuts[k + 1]));
      const cell = (t: tf.Tensor4D, c: number[], r: number, q: number) => tf.mean(t.slice([0, c[r], c[q], 0], [-1, c[r + 1] - c[r], c[q + 1] - c[q], -1]), [1, 2]);
      const grid = [0, 1, 2].flatMap((r) => [0, 1, 2].map((q) => cell(m7, cuts, r, q)));
      const h5 = m5.shape[1]!;
      const c5 = [0, Math.round(h5 / 3), Math.round((2 * h5) / 3), h5];
      const grid5 = [0, 1, 2].flatMap((r) => [0, 1, 2].map((q) => cell(m5, c5, r, q)));
      return { mean: tf.concat([g7, g10], 1), bands: tf.concat([...bands, g10], 1), grid: tf.concat([...grid, g10], 1), grid5: tf.concat([...grid5, ...grid, g10], 1) };
    });
    for (const [k, t] of Object.entries(out)) { feats[k].push((await t.data()) as Float32Array); t.dispose(); }
    tf.dispose([b.x, b.y]);
    if (i === 0) console.log('dims', Object.fromEntries(Object.entries(out).map(([k, t]) => [k, t.shape[1]])), `shape m7 ${(net.outputs[1].shape)}`);
  }
  console.log(`features ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  const cols = ATTRS.map((a) => ds.attributeNames.indexOf(a));
  const na = ds.attributeNames.length;
  const y = tf.tensor2d(Array.from({ length: 3000 }, (_, i) => cols.map((c) => ds.attributes[i * na + c])));
  for (const [name, parts] of Object.entries(feats)) {
    const bal = await pilotBalancedAccuracy(parts, 3000, 2400, y);
    console.log(`${name} (${parts[0].length / 50}-d): ${ATTRS.map((a, j) => `${a} ${bal[j].toFixed(3)}`).join(', ')}`);
  }
})();
