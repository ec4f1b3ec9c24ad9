// Pilot (issue 37, item 1; run once, its log: results/logs/judge/pca-fill-pilot.log): do PCA reconstructions of real faces (top-k
// components of 2,000 training faces: soft and averaged, as a VAE's fill) fool the shipped judge as the forced completions do?
// Smiling recall / specificity on 300 test faces with the mouth hole.   npx tsx scripts/judge_pca_fill_pilot.ts
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { selectBackend } from '../src/lib/backend/selectBackend';
import { loadCelebA } from '../src/lib/data/loadCelebA';
import { CELEBA_CROP_FRACTION } from '../src/lib/data/preprocess';
import { judgeFor } from '../src/lib/metrics/judges';
import { gatherBatch } from '../src/lib/data/faceDataset';
import { makeMaskBatch, parseMaskSpec } from '../src/lib/masks';
import { predictAttributes } from '../src/lib/metrics/attributeClassifier';
import { agreeingDonors } from '../src/lib/metrics/judgeDiagnosis';
import { blurred } from '../src/lib/metrics/blur';
import { createRng } from '../src/lib/rng';

(async () => {
  await selectBackend();
  const ds = await loadCelebA({ dir: path.join('..', 'shared', 'celeba'), preprocess: { size: 64, cropFraction: CELEBA_CROP_FRACTION } });
  const t0 = Date.now();
  const rng = createRng(11);
  const fit = rng.shuffle([...ds.splits.train]).slice(0, 2000);
  const X = gatherBatch(ds, fit, []).x;
  const D = 64 * 64 * 3;
  const flat = X.reshape([fit.length, D]);
  const mean = flat.mean(0);
  const centred = tf.sub(flat, mean) as tf.Tensor2D;
  const G = tf.matMul(centred, centred, false, true);
  const g = new Matrix(G.arraySync() as number[][]);
  const evd = new EigenvalueDecomposition(g, { assumeSymmetric: true });
  const vals = evd.realEigenvalues; // ascending
  const vecs = evd.eigenvectorMatrix;
  console.log(`EVD ${((Date.now() - t0) / 1000).toFixed(0)} s; top eigenvalues ${vals.slice(-3).map((v) => v.toFixed(0)).join(', ')}`);
  const order = vals.map((v, i) => [v, i] as const).sort((a, b) => b[0] - a[0]);
  const total = vals.reduce((s, v) => s + Math.max(0, v), 0);
  const KS = [50, 100, 200, 400];
  const bases = new Map<number, tf.Tensor2D>();
  for (const k of KS) {
    const U = tf.tensor2d(order.slice(0, k).map(([, i]) => vecs.getColumn(i)), [k, fit.length]); // k × n
    const scale = tf.tensor2d(order.slice(0, k).map(([v]) => [1 / Math.sqrt(v)]), [k, 1]);
    const V = tf.mul(tf.matMul(U, centred), scale) as tf.Tensor2D; // k × D, orthonormal rows
    bases.set(k, V);
    console.log(`k ${k}: variance kept ${(order.slice(0, k).reduce((s, [v]) => s + v, 0) / total).toFixed(3)}`);
  }
  const recon = (x: tf.Tensor4D, k: number) => tf.tidy(() => {
    const f = tf.sub(x.reshape([x.shape[0], D]), mean);
    const V = bases.get(k)!;
    return tf.add(tf.matMul(tf.matMul(f, V, false, true), V), mean).clipByValue(0, 1).reshape(x.shape) as tf.Tensor4D;
  });
  const judge = await judgeFor(ds, 'pretrained');
  const a = ds.attributeNames.length;
  const col = ds.attributeNames.indexOf('Smiling');
  const faces = ds.splits.test.slice(0, 300);
  const donors = agreeingDonors(ds, faces, 'Smiling');
  const truth = faces.map((i) => ds.attributes[i * a + col] > 0.5);
  const mask = 'rect:0.62,0.25,0.3,0.5';
  const paste = (inside: tf.Tensor4D, x: tf.Tensor4D, m: tf.Tensor4D) => tf.add(tf.mul(x, m), tf.mul(inside, tf.sub(1, m))) as tf.Tensor4D;
  const conds: [string, (x: tf.Tensor4D, d: tf.Tensor4D, m: tf.Tensor4D) => tf.Tensor4D][] = [
    ['photograph', (x) => x.clone()],
    ['own hole blurred 4x', (x, _, m) => paste(blurred(x, 4), x, m)],
    ['agreeing donor blurred 2x', (x, d, m) => paste(blurred(d, 2), x, m)],
    ...KS.flatMap((k) => [
      [`whole face PCA-${k}`, (x: tf.Tensor4D) => recon(x, k)] as [string, (x: tf.Tensor4D, d: tf.Tensor4D, m: tf.Tensor4D) => tf.Tensor4D],
      [`own hole PCA-${k}`, (x: tf.Tensor4D, _d: tf.Tensor4D, m: tf.Tensor4D) => paste(recon(x, k), x, m)] as [string, (x: tf.Tensor4D, d: tf.Tensor4D, m: tf.Tensor4D) => tf.Tensor4D],
      [`agreeing donor PCA-${k}`, (x: tf.Tensor4D, d: tf.Tensor4D, m: tf.Tensor4D) => paste(recon(d, k), x, m)] as [string, (x: tf.Tensor4D, d: tf.Tensor4D, m: tf.Tensor4D) => tf.Tensor4D],
    ]),
  ];
  const p = conds.map(() => new Float32Array(faces.length));
  for (let i = 0; i < faces.length; i += 50) {
    const b = gatherBatch(ds, faces.slice(i, i + 50), []);
    const d = gatherBatch(ds, donors.slice(i, i + 50), []);
    const m = makeMaskBatch(parseMaskSpec(mask), b.x.shape[0], 64, 0);
    for (const [c, [, f]] of conds.entries()) {
      const q = tf.tidy(() => predictAttributes(judge, f(b.x, d.x, m)));
      const v = (await q.data()) as Float32Array;
      q.dispose();
      for (let j = 0; j < b.x.shape[0]; j++) p[c][i + j] = v[j * a + col];
    }
    tf.dispose([b.x, b.y, d.x, d.y, m]);
  }
  for (const [c, [name]] of conds.entries()) {
    const on = truth.map((t, i) => [t, p[c][i]] as const);
    const rec = on.filter(([t, q]) => t && q >= 0.5).length / on.filter(([t]) => t).length;
    const spec = on.filter(([t, q]) => !t && q < 0.5).length / on.filter(([t]) => !t).length;
    console.log(`${name.padEnd(28)} recall ${rec.toFixed(2)} specificity ${spec.toFixed(2)}`);
  }
})();
