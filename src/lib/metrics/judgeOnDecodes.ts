import * as tf from '@tensorflow/tfjs';
import { gatherBatch, type FaceDataset } from '../data/faceDataset';
import { attributeIndices } from '../data/attributes';
import { predictAttributes, VerdictTally, type AttributeClassifier } from './attributeClassifier';
import type { Vae } from '../models/vae';

const BATCH = 100;

/**
 * Can the classifiers see an attribute in a model's decodes at all? Their recall on held-out faces
 * that have it and specificity on faces that do not, on the real images and on their
 * reconstructions (z = μ of q(z | x[, y]), decoded with the face's own y): a judge that cannot see
 * glasses in the reconstructions of bespectacled faces cannot see them in a sweep either.
 */
export async function judgeOnDecodes(model: Vae, data: FaceDataset, classifiers: Record<string, AttributeClassifier>, attributes: readonly string[]): Promise<string[]> {
  const modelColumns = model.config.attributes.length ? attributeIndices(data.attributeNames, model.config.attributes) : undefined;
  const truthColumns = attributeIndices(data.attributeNames, [...attributes]);
  const counts: Record<string, VerdictTally> = {};
  const key = (who: string, images: string, a: string) => `${who}|${images}|${a}`;
  const test = data.splits.test;
  for (let i = 0; i < test.length; i += BATCH) {
    const idx = test.slice(i, i + BATCH);
    const b = gatherBatch(data, idx, modelColumns);
    const truth = gatherBatch(data, idx, truthColumns);
    const y = modelColumns ? b.y : null;
    const recon = tf.tidy(() => {
      // A fully observed face: a mask of ones where the model takes one; x' reaches only the one-shot decoder.
      const ones = tf.ones([b.x.shape[0], b.x.shape[1], b.x.shape[2], 1]) as tf.Tensor4D;
      const { mu } = model.encode(b.x, model.config.trainInput === 'masked' ? ones : null, y);
      return model.decode(mu, y, { x: b.x, mask: ones });
    });
    const t = (await truth.y.data()) as Float32Array;
    for (const [who, c] of Object.entries(classifiers)) {
      const cols = attributeIndices(c.attributeNames, [...attributes]);
      for (const [images, x] of [['real', b.x], ['reconstruction', recon]] as const) {
        const p = predictAttributes(c, x);
        const v = (await p.data()) as Float32Array;
        p.dispose();
        attributes.forEach((a, j) => {
          const k = (counts[key(who, images, a)] ??= new VerdictTally());
          idx.forEach((_, r) => k.add(v[r * c.attributeNames.length + cols[j]], t[r * attributes.length + j]));
        });
      }
    }
    tf.dispose([b.x, b.y, truth.x, truth.y, recon]);
  }
  const lines = [`| classifier | images | ${attributes.map((a) => `${a} recall / specificity`).join(' | ')} |`, `|---|---|${attributes.map(() => '---').join('|')}|`];
  for (const who of Object.keys(classifiers)) {
    for (const images of ['real', 'reconstruction']) {
      const cells = attributes.map((a) => {
        const k = counts[key(who, images, a)];
        return `${k.recall?.toFixed(2) ?? '—'} / ${k.specificity?.toFixed(2) ?? '—'} (${k.positives} with)`;
      });
      lines.push(`| ${who} | ${images} | ${cells.join(' | ')} |`);
    }
  }
  return lines;
}
