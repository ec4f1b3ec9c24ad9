import * as tf from '@tensorflow/tfjs';
import { gatherBatch, type FaceDataset } from '../data/faceDataset';
import { maskPixels, parseMaskSpec } from '../masks';
import { createRng, subSeed } from '../rng';
import { blurred } from './blur';

/**
 * Composites of real faces, the judge's training faces that look like completions: a face (the host)
 * with a hole filled from another real face of the same split (the donor), the donor blurred by a
 * factor first, pasted with the hard seam a completion has (m ⊙ host + (1 − m) ⊙ donor).
 *
 * Why (results/logs/judge/diagnosis-Smiling.md): the judge trained on whole faces, sharp or blurred
 * throughout, reads a hole softer than the face around it as the attribute's absence. On 300 held-out
 * faces with the mouth hole, Smiling recall 0.80 on the photographs, 0.83 with the whole face blurred
 * 2×, 0.71 with the hole from another smiling face (the seam costs little) — but 0.54 with the mouth
 * blurred 2× in place and 0.17 at 4×: a VAE's fill is such a hole, so forced "on" completions it
 * ranked above their "off" twins in 0.99 of pairs it called "on" in 0.18.
 *
 * Half the composites take the hole from the face itself, blurred 2× or 4× (every label still
 * holds); the others from another face, sharp or blurred, labelled only where host and donor agree
 * (then the composite shows the attribute whatever part of the face the hole covers; where they
 * disagree, unlabelled: weight 0). No generator's output is ever used: the judge stays independent of
 * every model.
 */
export const JUDGE_COMPOSITES = {
  /** The holes the project completes: the paper's centre square, the mouth box, and random boxes. */
  holes: ['centre:0.5', 'rect:0.62,0.25,0.3,0.5', 'box:17'],
  /** The donor's blur factors (a VAE's fill is softer than the host around it). */
  blurs: [1, 2, 4],
  /** The share of composites whose hole comes from the face itself (blurred 2× or 4×). */
  self: 0.5,
};

/**
 * The weight of a composite in the probes' loss, against 1 for each of a face's three blur copies.
 * Weight 3 (a face counting as much as a composite as whole) called the guided model's forced
 * mouth-hole pairs right in 0.44 and real pairs in 0.70, weight 1 in 0.47 and 0.75; composites whose
 * fill also had its contrast halved (a VAE's fill is faint) 0.44 and 0.72
 * (results/logs/judge/composite-variants.log).
 */
export const JUDGE_COMPOSITE_WEIGHT = 1;

export interface Composite {
  host: number;
  donor: number;
  /** Index into JUDGE_COMPOSITES.holes, and the random box's index in its seeded stream. */
  hole: number;
  boxIndex: number;
  blur: number;
}

/** One composite per face of `faces` (a split, named by `stream`): the face's own hole blurred, or another face's of the same split. */
export function compositePlan(faces: number[], seed: number, stream: string): Composite[] {
  if (faces.length < 2) throw new Error(`composites need at least 2 faces in a split, got ${faces.length}`);
  const rng = createRng(subSeed(seed, `judge-composites-${stream}`));
  const { holes, blurs } = JUDGE_COMPOSITES;
  const softer = blurs.filter((f) => f > 1);
  return faces.map((host, i) => {
    const hole = rng.int(0, holes.length);
    if (rng.next() < JUDGE_COMPOSITES.self) return { host, donor: host, hole, boxIndex: i, blur: softer[rng.int(0, softer.length)] };
    let donor = faces[rng.int(0, faces.length)];
    if (donor === host) donor = faces[(i + 1) % faces.length];
    return { host, donor, hole, boxIndex: i, blur: blurs[rng.int(0, blurs.length)] };
  });
}

/** Labels [n · A] of the composites: the attribute where host and donor agree, NaN (unlabelled) where they differ. */
export function compositeLabels(ds: FaceDataset, plan: Composite[]): Float32Array {
  const a = ds.attributeNames.length;
  const y = new Float32Array(plan.length * a);
  plan.forEach(({ host, donor }, i) => {
    for (let j = 0; j < a; j++) {
      const [h, d] = [ds.attributes[host * a + j] > 0.5, ds.attributes[donor * a + j] > 0.5];
      y[i * a + j] = h === d ? +h : NaN;
    }
  });
  return y;
}

/** The hole mask (1 = the host's pixels) of a composite, [size · size]. */
export function compositeMask(c: Composite, size: number): Float32Array {
  return maskPixels(parseMaskSpec(JUDGE_COMPOSITES.holes[c.hole]), size, c.boxIndex);
}

/** The composites' images [n, S, S, 3] in [0, 1]. */
export function compositeImages(ds: FaceDataset, plan: Composite[]): tf.Tensor4D {
  const size = ds.preprocess.size;
  const hosts = gatherBatch(ds, plan.map((c) => c.host), []);
  const donors = gatherBatch(ds, plan.map((c) => c.donor), []);
  const masks = new Float32Array(plan.length * size * size);
  plan.forEach((c, i) => masks.set(compositeMask(c, size), i * size * size));
  try {
    return tf.tidy(() => {
      const m = tf.tensor4d(masks, [plan.length, size, size, 1]);
      // Each donor at its own blur factor: blur the batch once per factor and keep each row's.
      const soft = JUDGE_COMPOSITES.blurs.map((f) => {
        const rows = tf.tensor4d(plan.map((c) => +(c.blur === f)), [plan.length, 1, 1, 1]);
        return tf.mul(blurred(donors.x, f), rows);
      });
      const donor = tf.addN(soft);
      return tf.add(tf.mul(hosts.x, m), tf.mul(donor, tf.sub(1, m))) as tf.Tensor4D;
    });
  } finally {
    tf.dispose([hosts.x, hosts.y, donors.x, donors.y]);
  }
}
