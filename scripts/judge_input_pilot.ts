// Pilot of the pretrained judge's input size (run once, its log: results/logs/judge/input-size-pilot.log):
//   npx tsx scripts/judge_input_pilot.ts [SIZE ...]      (default 139 224 299; 299 is nsfwjs's own)
// The judge's features (JUDGE_POOLING.grid: mixed5 and mixed7 3×3-grid means + mixed10 mean) of the
// 64×64 faces resized bilinearly to each size; the pooling pilot's probes (sharp faces only, first
// 3,000 faces, 2,400 to fit / 600 held out by order). Does a larger input lift Young and the rest?
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/lib/backend/selectBackend';
import { loadFaces } from '../src/lib/data/dataSource';
import { gatherBatch } from '../src/lib/data/faceDataset';
import { CELEBA_CROP_FRACTION } from '../src/lib/data/preprocess';
import { loadNsfwjsInceptionV3Layers } from '../src/lib/weights/featureNet';
import { JUDGE_POOLING, gridMeans } from '../src/lib/metrics/pretrainedJudge';
import { pilotBalancedAccuracy } from './pilotProbes';

const ATTRS = ['Smiling', 'Male', 'Eyeglasses', 'Blond_Hair', 'Young'];
const N = 3000;
const BATCH = 50;

(async () => {
  const sizes = (process.argv.slice(2).length ? process.argv.slice(2) : ['139', '224', '299']).map((s) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 75) throw new Error(`input size ${JSON.stringify(s)}: expected an integer ≥ 75 (InceptionV3's smallest)`);
    return n;
  });
  await selectBackend();
  const ds = await loadFaces({ dir: '../shared/celeba', limit: N, preprocess: { size: 64, cropFraction: CELEBA_CROP_FRACTION }, seed: 0 });
  const pooling = JUDGE_POOLING.grid;
  const net = await loadNsfwjsInceptionV3Layers(pooling.map(([l]) => l));
  const cols = ATTRS.map((a) => ds.attributeNames.indexOf(a));
  const na = ds.attributeNames.length;
  const y = tf.tensor2d(Array.from({ length: N }, (_, i) => cols.map((c) => ds.attributes[i * na + c])));
  console.log(`# scripts/judge_input_pilot.ts ${sizes.join(' ')}: first ${N} faces of ../shared/celeba at 64×64, sharp only, 2,400 fit / 600 held out by order, thresholds on the fitted faces; balanced accuracy on the 600`);
  for (const size of sizes) {
    const t0 = Date.now();
    const parts: Float32Array[] = [];
    for (let i = 0; i < N; i += BATCH) {
      const b = gatherBatch(ds, Array.from({ length: BATCH }, (_, k) => i + k));
      const f = tf.tidy(() => {
        const outs = net.predict(tf.image.resizeBilinear(b.x, [size, size], false, true)) as tf.Tensor4D[];
        return tf.concat(outs.map((o, k) => gridMeans(o, pooling[k][1])), 1);
      });
      parts.push((await f.data()) as Float32Array);
      tf.dispose([f, b.x, b.y]);
    }
    const seconds = (Date.now() - t0) / 1000;
    const bal = await pilotBalancedAccuracy(parts, N, 2400, y);
    console.log(`input ${size}×${size} (${parts[0].length / BATCH}-d, features ${seconds.toFixed(0)} s): ${ATTRS.map((a, j) => `${a} ${bal[j].toFixed(3)}`).join(', ')}, mean ${(bal.reduce((s, v) => s + v, 0) / bal.length).toFixed(3)}`);
  }
})();
