import * as tf from '@tensorflow/tfjs';
import { gatherBatch, type FaceDataset } from '../data/faceDataset';
import { makeMaskBatch, parseMaskSpec } from '../masks';
import { readAndDispose } from '../tensorReads';
import { predictAttributes, VerdictTally, type AttributeClassifier } from './attributeClassifier';
import { blurred } from './blur';

/**
 * Why a judge misreads completions, measured on real faces altered one way at a time the way a
 * completion alters them: the hole's texture made softer in place (its own pixels, no seam), the
 * hole filled from another real face that agrees on the attribute (a seam, the content still right),
 * and that fill blurred (seam and softness together, what a VAE's fill looks like). Every altered
 * face still shows the attribute it is labelled with, so any drop from the photographs' figures is
 * the judge reading the alteration, not the face.
 */
export interface DiagnosisRow {
  condition: string;
  /** Faces with the attribute called on, faces without called off, and their product (the real-pair figure). */
  recall: number;
  specificity: number;
  realPair: number;
  /** Mean probability of the attribute among faces with it and among faces without it. */
  meanOn: number;
  meanOff: number;
}

type Alteration = { condition: string; apply: (x: tf.Tensor4D, donor: tf.Tensor4D, m: tf.Tensor4D) => tf.Tensor4D };

const pasted = (inside: tf.Tensor4D, x: tf.Tensor4D, m: tf.Tensor4D) => tf.add(tf.mul(x, m), tf.mul(inside, tf.sub(1, m))) as tf.Tensor4D;

export const DIAGNOSIS_ALTERATIONS: Alteration[] = [
  { condition: 'photograph', apply: (x) => x.clone() },
  { condition: 'whole face blurred 2× (as trained)', apply: (x) => blurred(x, 2) },
  { condition: 'hole blurred 2× in place (no seam)', apply: (x, _, m) => pasted(blurred(x, 2), x, m) },
  { condition: 'hole blurred 4× in place (no seam)', apply: (x, _, m) => pasted(blurred(x, 4), x, m) },
  { condition: 'hole from a face that agrees, sharp (seam)', apply: (x, d, m) => pasted(d, x, m) },
  { condition: 'hole from a face that agrees, blurred 2×', apply: (x, d, m) => pasted(blurred(d, 2), x, m) },
  { condition: 'hole from a face that agrees, blurred 4×', apply: (x, d, m) => pasted(blurred(d, 4), x, m) },
];

/** For each face, the next face of the list that agrees with it on the attribute (never itself). */
export function agreeingDonors(ds: FaceDataset, faces: number[], attribute: string): number[] {
  const col = ds.attributeNames.indexOf(attribute);
  if (col < 0) throw new Error(`${ds.root}: no attribute "${attribute}"`);
  const a = ds.attributeNames.length;
  const on = (i: number) => ds.attributes[i * a + col] > 0.5;
  return faces.map((face, k) => {
    for (let s = 1; s < faces.length; s++) {
      const d = faces[(k + s) % faces.length];
      if (on(d) === on(face)) return d;
    }
    throw new Error(`no other face ${on(face) ? 'with' : 'without'} ${attribute} among ${faces.length} to fill from`);
  });
}

/** The judge's figures for `attribute` on `faces` under each alteration, with the `mask` hole. */
export async function judgeDiagnosis(judge: AttributeClassifier, ds: FaceDataset, o: { attribute: string; mask: string; faces: number[] }): Promise<DiagnosisRow[]> {
  const col = judge.attributeNames.indexOf(o.attribute);
  if (col < 0) throw new Error(`the judge has no attribute "${o.attribute}"`);
  const a = ds.attributeNames.length;
  const truth = o.faces.map((i) => ds.attributes[i * a + ds.attributeNames.indexOf(o.attribute)]);
  const donors = agreeingDonors(ds, o.faces, o.attribute);
  const probabilities = DIAGNOSIS_ALTERATIONS.map(() => new Float32Array(o.faces.length));
  for (let i = 0; i < o.faces.length; i += 64) {
    const idx = o.faces.slice(i, i + 64);
    const b = gatherBatch(ds, idx, []);
    const d = gatherBatch(ds, donors.slice(i, i + 64), []);
    const m = makeMaskBatch(parseMaskSpec(o.mask), idx.length, ds.preprocess.size, 0);
    for (const [k, alter] of DIAGNOSIS_ALTERATIONS.entries()) {
      const p = tf.tidy(() => tf.squeeze(tf.slice(predictAttributes(judge, alter.apply(b.x, d.x, m)), [0, col], [-1, 1]), [1]));
      const [values] = await readAndDispose([p]);
      probabilities[k].set(values, i);
    }
    tf.dispose([b.x, b.y, d.x, d.y, m]);
  }
  return DIAGNOSIS_ALTERATIONS.map(({ condition }, k) => {
    const tally = new VerdictTally();
    let [sumOn, nOn, sumOff, nOff] = [0, 0, 0, 0];
    probabilities[k].forEach((p, i) => {
      tally.add(p, truth[i]);
      if (truth[i] > 0.5) [sumOn, nOn] = [sumOn + p, nOn + 1];
      else [sumOff, nOff] = [sumOff + p, nOff + 1];
    });
    return { condition, recall: tally.recall ?? NaN, specificity: tally.specificity ?? NaN, realPair: tally.realPair ?? NaN, meanOn: sumOn / nOn, meanOff: sumOff / nOff };
  });
}
