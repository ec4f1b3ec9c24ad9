// Can the attribute classifiers see an attribute in this model's decodes at all? For the held-out
// faces of a run's own split: the judge's (and the guide's) recall of each attribute on faces that
// have it and specificity on faces that do not, on the real images and on their reconstructions
// (z = μ of q(z | x[, y]), decoded with the face's own y). A judge that cannot see glasses in the
// reconstructions of bespectacled faces cannot see them in a sweep either. Classifiers: the judge,
// the class-balanced judge (vii sweep --judge balanced) and the guide (attribute guidance).
//   npx tsx scripts/judge_on_decodes.ts RUN_DIR [RUN_DIR…] > results/logs/…/judge-on-decodes.log
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/lib/backend/selectBackend';
import { loadTrainedModel } from '../src/lib/weights/loadModel';
import { loadFaces } from '../src/lib/data/dataSource';
import { gatherBatch } from '../src/lib/data/faceDataset';
import { attributeIndices } from '../src/lib/data/attributes';
import { attributeClassifierFor, predictAttributes, VerdictTally, type AttributeClassifier } from '../src/lib/metrics/attributeClassifier';
import { DEFAULT_SPEC } from '../src/lib/spec/experimentSpec';
const SWEEP_ATTRIBUTES = DEFAULT_SPEC.evaluation.sweepAttributes;
import { rowName } from '../src/lib/models/config';

const BATCH = 100;

async function main(): Promise<void> {
  const runs = process.argv.slice(2);
  if (runs.length === 0) throw new Error('usage: judge_on_decodes.ts RUN_DIR [RUN_DIR…]');
  await selectBackend();
  for (const dir of runs) {
    const { model, meta, checkpoint } = loadTrainedModel(dir);
    const data = await loadFaces({ dir: meta.data.root, preprocess: meta.preprocess, seed: meta.train.seed });
    const classifiers: Record<string, AttributeClassifier> = {
      judge: await attributeClassifierFor(data, { seed: 0 }),
      'balanced judge': await attributeClassifierFor(data, { seed: 0, balanced: true }),
      guide: await attributeClassifierFor(data, { seed: 0, role: 'guide' }),
    };
    const modelColumns = model.config.attributes.length ? attributeIndices(data.attributeNames, model.config.attributes) : undefined;
    const truthColumns = attributeIndices(data.attributeNames, SWEEP_ATTRIBUTES);
    const counts: Record<string, VerdictTally> = {};
    const key = (who: string, images: string, a: string) => `${who}|${images}|${a}`;
    const test = data.splits.test;
    for (let i = 0; i < test.length; i += BATCH) {
      const idx = test.slice(i, i + BATCH);
      const b = gatherBatch(data, idx, modelColumns);
      const truth = gatherBatch(data, idx, truthColumns);
      const y = modelColumns ? b.y : null;
      const recon = tf.tidy(() => {
        // A fully observed face: mask of ones where the model takes one.
        const ones = tf.ones([b.x.shape[0], b.x.shape[1], b.x.shape[2], 1]) as tf.Tensor4D;
        const { mu } = model.encode(b.x, model.config.trainInput === 'masked' ? ones : null, y);
        return model.decode(mu, y, { x: b.x, mask: ones }); // x' reaches only the one-shot decoder
      });
      const t = (await truth.y.data()) as Float32Array;
      for (const [who, c] of Object.entries(classifiers)) {
        const cols = attributeIndices(c.attributeNames, SWEEP_ATTRIBUTES);
        for (const [images, x] of [['real', b.x], ['reconstruction', recon]] as const) {
          const p = predictAttributes(c, x);
          const v = (await p.data()) as Float32Array;
          p.dispose();
          SWEEP_ATTRIBUTES.forEach((a, j) => {
            const k = (counts[key(who, images, a)] ??= new VerdictTally());
            idx.forEach((_, r) => k.add(v[r * c.attributeNames.length + cols[j]], t[r * SWEEP_ATTRIBUTES.length + j]));
          });
        }
      }
      tf.dispose([b.x, b.y, truth.x, truth.y, recon]);
    }
    console.log(`\n${rowName(dir.replace(/\/$/, '').split('/').pop()!)} (${checkpoint}): ${test.length} held-out faces`);
    console.log(`| classifier | images | ${SWEEP_ATTRIBUTES.map((a) => `${a} recall / specificity`).join(' | ')} |`);
    console.log(`|---|---|${SWEEP_ATTRIBUTES.map(() => '---').join('|')}|`);
    for (const who of Object.keys(classifiers)) {
      for (const images of ['real', 'reconstruction']) {
        const cells = SWEEP_ATTRIBUTES.map((a) => {
          const k = counts[key(who, images, a)];
          return `${k.recall?.toFixed(2) ?? '—'} / ${k.specificity?.toFixed(2) ?? '—'} (${k.positives} with)`;
        });
        console.log(`| ${who} | ${images} | ${cells.join(' | ')} |`);
      }
    }
    for (const c of Object.values(classifiers)) c.model.dispose();
    model.dispose();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
