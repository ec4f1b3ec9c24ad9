import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { gatherBatch, type FaceDataset } from '../data/faceDataset';
import { attributeIndices } from '../data/attributes';
import { decoderAttributes } from '../models/config';
import type { Vae } from '../models/vae';
import { samplePrior, generate } from '../generation';
import { complete, forceAttributes, checkAttributeStrength, DEFAULT_ATTRIBUTE_STRENGTH, DEFAULT_COMPLETION } from '../completion';
import { makeMaskBatch, parseMaskSpec } from '../masks';
import { attributeTallies, predictAttributes, type AttributeClassifier } from '../metrics/attributeClassifier';
import { gridPng, imagePngs } from '../plots/imageGrid';
import { writeFileAtomic, writeJsonAtomic } from '../io/atomicWrite';
import { subSeed } from '../rng';
import { checkerboardRatio, nyquistFraction } from '../metrics/checkerboard';
import { readAndDispose } from '../tensorReads';
import type { ResultTable } from '../export/table';

/** How often the attribute classifier agrees with a forced attribute. */
export interface ControlRate {
  /** Pairs where "off" is classified off and "on" on. */
  rate: number;
  /** Fraction of "off" images classified off, and of "on" images classified on. */
  offRate: number;
  onRate: number;
  /** Pairs where the classifier's probability of the attribute is higher for "on" than for "off" (calibration-free). */
  direction: number;
  pairs: number;
}

export interface AttributeControl {
  attribute: string;
  /** The same z ~ N(0, I) decoded with the attribute off and on (null: the decoder has no y). */
  decoder: ControlRate | null;
  /** Completions of held-out masked faces with the attribute forced off and on. */
  completion: ControlRate;
  /**
   * The judge's real-pair figure: recall × specificity on the real test faces, the rate a pair of
   * real faces without and with the attribute gets — the ceiling a control rate is read against
   * (null where the test split lacks one side; absent in control.json files made before it existed).
   */
  realPair?: number | null;
  /**
   * The real-fill figure: the same held-out faces with their hole filled from a real test face
   * without and with the attribute, judged as pairs — the ceiling of a forced completion that keeps
   * the observed pixels, for this hole (null where the test split lacks one side; absent in older files).
   */
  realFill?: ControlRate | null;
  /**
   * The forced completions' checkerboard measure in the hole (metrics/checkerboard: 1 = as the same
   * faces' photographs; above, stride-2 artefacts), off and on — what a strength above 1 costs
   * (absent in older files).
   */
  completionCheckerboard?: { off: number; on: number };
}

export interface SweepOptions {
  model: Vae;
  /** Held-out faces (test split): the rest of y, and the faces completed. */
  data: FaceDataset;
  classifier: AttributeClassifier;
  attributes: string[];
  samples: number;
  seed: number;
  /** Writes ATTR/{off,on}/NNN.png, ATTR/completion-{off,on}/NNN.png, grids and control.json. */
  out: string | null;
  mask?: string;
  gibbsSteps?: number;
  /**
   * The z of the decoder sweep: `prior`, z ~ N(0, I) (generation, paper Figure 6), or `posterior`,
   * z = μ of q(z | x', m[, y]) for the held-out face (editing that face's reconstruction).
   */
  z?: 'prior' | 'posterior';
  /** How far a forced attribute is pushed (forceAttributes; default 1, the training labels). */
  strength?: number;
}

/** Classifier probability of one attribute for each image. */
async function attributeProbability(c: AttributeClassifier, images: tf.Tensor4D, attribute: string): Promise<Float32Array> {
  const col = c.attributeNames.indexOf(attribute);
  if (col < 0) throw new Error(`the attribute classifier has no "${attribute}"`);
  const p = tf.tidy(() => tf.squeeze(tf.slice(predictAttributes(c, images), [0, col], [-1, 1]), [1]));
  const values = (await p.data()) as Float32Array;
  p.dispose();
  return values;
}

export async function controlRate(c: AttributeClassifier, off: tf.Tensor4D, on: tf.Tensor4D, attribute: string): Promise<ControlRate> {
  return rateOf(await attributeProbability(c, off, attribute), await attributeProbability(c, on, attribute));
}

/** The control rate of pairs from the judge's probabilities of the attribute for their "off" and "on" images. */
function rateOf(pOff: Float32Array, pOn: Float32Array): ControlRate {
  let both = 0;
  let offOk = 0;
  let onOk = 0;
  let up = 0;
  for (let i = 0; i < pOff.length; i++) {
    up += +(pOn[i] > pOff[i]);
    const a = pOff[i] < 0.5;
    const b = pOn[i] >= 0.5;
    offOk += +a;
    onOk += +b;
    both += +(a && b);
  }
  const n = pOff.length;
  return { rate: both / n, offRate: offOk / n, onRate: onOk / n, direction: up / n, pairs: n };
}

async function writeImages(dir: string, images: tf.Tensor4D): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  (await imagePngs(images)).forEach((png, i) => writeFileAtomic(path.join(dir, `${String(i).padStart(3, '0')}.png`), png));
}

/**
 * What the judge calls on and off among these images: the first row the first 8 it calls on
 * (p ≥ 0.5), the second the first 8 it calls off; an empty cell is black.
 */
async function verdictGrid(images: tf.Tensor4D, p: Float32Array): Promise<Buffer> {
  const pick = (on: boolean) => Array.from(p, (v, i) => [v >= 0.5, i] as const).filter(([called]) => called === on).slice(0, 8).map(([, i]) => i);
  const grid = tf.tidy(() => {
    const [, h, w, ch] = images.shape;
    const row = (idx: number[]) => tf.concat([tf.gather(images, idx), tf.zeros([8 - idx.length, h, w, ch])], 0);
    return tf.concat([row(pick(true)), row(pick(false))], 0) as tf.Tensor4D;
  });
  const png = await gridPng(grid, { columns: 8, scale: images.shape[1] < 64 ? 2 : 1 });
  grid.dispose();
  return png;
}

/** Rows = samples (up to 8), columns = each attribute off | on. */
async function sweepGrid(pairs: [tf.Tensor4D, tf.Tensor4D][], rows: number, size: number): Promise<Buffer> {
  const grid = tf.tidy(() => {
    const columns = pairs.flatMap(([off, on]) => [off.slice(0, rows), on.slice(0, rows)]);
    const [, h, w, ch] = columns[0].shape;
    return tf.reshape(tf.stack(columns, 1), [rows * columns.length, h, w, ch]) as tf.Tensor4D;
  });
  const png = await gridPng(grid, { columns: pairs.length * 2, scale: size < 64 ? 2 : 1 });
  grid.dispose();
  return png;
}

/**
 * The attribute sweep (paper Figure 6) and its control rates: for each attribute and each sample,
 * the same z decoded with the attribute off and on (the rest of y from a held-out face), and the
 * same held-out masked face completed with it forced off and on; the attribute classifier judges
 * each image. Chance for a pair is about 0.25.
 */
export async function attributeControl(o: SweepOptions): Promise<AttributeControl[]> {
  const c = o.model.config;
  if (c.attributes.length === 0) throw new Error(`model "${c.name}" is not conditioned on attributes; nothing to sweep`);
  for (const a of o.attributes) if (!c.attributes.includes(a)) throw new Error(`--attributes ${a}: model "${c.name}" is conditioned on ${c.attributes.length > 5 ? `${c.attributes.length} attributes` : c.attributes.join(', ')}, not ${a}`);
  const test = o.data.splits.test;
  if (test.length === 0) throw new Error(`${o.data.root}: the test split is empty; the sweep needs held-out faces`);
  const n = Math.min(o.samples, test.length);
  const strength = checkAttributeStrength(o.strength ?? DEFAULT_ATTRIBUTE_STRENGTH, 'sweep strength');
  const batch = gatherBatch(o.data, test.slice(0, n), attributeIndices(o.data.attributeNames, c.attributes));
  const mask = makeMaskBatch(parseMaskSpec(o.mask ?? 'centre:0.5'), n, c.imageSize, 0);
  const z = o.z === 'posterior' ? posteriorMean(o.model, batch.x, mask, batch.y) : samplePrior(n, c.latentDim, subSeed(o.seed, 'sweep-z'));
  const tallies = await attributeTallies(o.classifier, o.data, test);
  const realPair = (attribute: string) => tallies[o.data.attributeNames.indexOf(attribute)].realPair;
  const results: AttributeControl[] = [];
  const decoderPairs: [tf.Tensor4D, tf.Tensor4D][] = [];
  const completionPairs: [tf.Tensor4D, tf.Tensor4D][] = [];
  try {
    for (const attribute of o.attributes) {
      const yOff = forceAttributes(batch.y, c.attributes, { [attribute]: 0 }, strength);
      const yOn = forceAttributes(batch.y, c.attributes, { [attribute]: 1 }, strength);
      let decoder: ControlRate | null = null;
      if (decoderAttributes(c)) {
        const pair: [tf.Tensor4D, tf.Tensor4D] = [generate(o.model, z, yOff), generate(o.model, z, yOn)];
        decoderPairs.push(pair);
        decoder = await controlRate(o.classifier, pair[0], pair[1], attribute);
        if (o.out) {
          await writeImages(path.join(o.out, attribute, 'off'), pair[0]);
          await writeImages(path.join(o.out, attribute, 'on'), pair[1]);
        }
      }
      const options = { steps: o.gibbsSteps ?? DEFAULT_COMPLETION.steps, latent: 'mean', seed: subSeed(o.seed, 'sweep-completion') } as const;
      const completed: [tf.Tensor4D, tf.Tensor4D] = [complete(o.model, batch.x, mask, yOff, options).completed, complete(o.model, batch.x, mask, yOn, options).completed];
      completionPairs.push(completed);
      const pCompleted = [await attributeProbability(o.classifier, completed[0], attribute), await attributeProbability(o.classifier, completed[1], attribute)];
      const completion = rateOf(pCompleted[0], pCompleted[1]);
      const hole = tf.tidy(() => tf.sub(1, mask) as tf.Tensor4D);
      const [fOff, fOn, fReal] = await readAndDispose([nyquistFraction(completed[0], hole), nyquistFraction(completed[1], hole), nyquistFraction(batch.x, hole)]);
      hole.dispose();
      const completionCheckerboard = { off: checkerboardRatio(fOff, fReal).mean, on: checkerboardRatio(fOn, fReal).mean };
      if (o.out) {
        await writeImages(path.join(o.out, attribute, 'completion-off'), completed[0]);
        await writeImages(path.join(o.out, attribute, 'completion-on'), completed[1]);
        for (const [k, side] of (['off', 'on'] as const).entries()) writeFileAtomic(path.join(o.out, attribute, `completion-${side}-verdicts.png`), await verdictGrid(completed[k], pCompleted[k]));
      }
      tf.dispose([yOff, yOn]);
      const realFill = await realFillControl(o.classifier, o.data, test, batch.x, mask, attribute);
      results.push({ attribute, decoder, completion, realPair: realPair(attribute), realFill, completionCheckerboard });
    }
    if (o.out) {
      const rows = Math.min(8, n);
      if (decoderPairs.length) writeFileAtomic(path.join(o.out, 'sweep-grid.png'), await sweepGrid(decoderPairs, rows, c.imageSize));
      writeFileAtomic(path.join(o.out, 'completion-grid.png'), await sweepGrid(completionPairs, rows, c.imageSize));
      writeJsonAtomic(path.join(o.out, 'control.json'), { model: c.name, samples: n, seed: o.seed, z: o.z ?? 'prior', mask: o.mask ?? 'centre:0.5', strength, classifier: o.classifier.description, results, mean: meanControl(results) });
    }
    return results;
  } finally {
    tf.dispose([batch.x, batch.y, mask, z, ...decoderPairs.flat(), ...completionPairs.flat()]);
  }
}

/**
 * Face i's hole filled with the hole of a real test face without (off) and with (on) the attribute,
 * donors taken in turn from the test split, never face i itself. The faces are aligned, so a donor's
 * hole holds the same part of a face.
 */
export async function realFillControl(c: AttributeClassifier, data: FaceDataset, test: number[], x: tf.Tensor4D, mask: tf.Tensor4D, attribute: string): Promise<ControlRate | null> {
  const col = data.attributeNames.indexOf(attribute);
  const a = data.attributeNames.length;
  const n = x.shape[0];
  const side = (on: boolean) => test.filter((i) => (data.attributes[i * a + col] > 0.5) === on);
  const donorsOf = (pool: number[]) => test.slice(0, n).map((face, i) => {
    const pick = pool[i % pool.length];
    return pick === face ? pool[(i + 1) % pool.length] : pick;
  });
  const [off, on] = [side(false), side(true)];
  if (off.length < 2 || on.length < 2) return null;
  const fill = (donors: number[]) => {
    const d = gatherBatch(data, donors, []);
    const out = tf.tidy(() => tf.add(tf.mul(x, mask), tf.mul(d.x, tf.sub(1, mask))) as tf.Tensor4D);
    tf.dispose([d.x, d.y]);
    return out;
  };
  const pair = [fill(donorsOf(off)), fill(donorsOf(on))] as const;
  try {
    return await controlRate(c, pair[0], pair[1], attribute);
  } finally {
    tf.dispose([...pair]);
  }
}

/** z = μ of the encoder for held-out faces as the model sees them (masked, with y where it takes y). */
function posteriorMean(model: Vae, x: tf.Tensor4D, mask: tf.Tensor4D, y: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const c = model.config;
    const masked = c.trainInput === 'masked';
    const { mu } = model.encode(masked ? (tf.mul(x, mask) as tf.Tensor4D) : x, masked ? mask : null, y);
    return mu;
  });
}

/** Mean pair rate (and direction) over attributes: decoder where the decoder takes y, and completion. */
export function meanControl(results: AttributeControl[]): { decoder: number | null; completion: number; decoderDirection: number | null; completionDirection: number } {
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  const dec = results.filter((r) => r.decoder).map((r) => r.decoder!);
  return {
    decoder: dec.length ? mean(dec.map((d) => d.rate)) : null,
    completion: mean(results.map((r) => r.completion.rate)),
    decoderDirection: dec.length ? mean(dec.map((d) => d.direction)) : null,
    completionDirection: mean(results.map((r) => r.completion.direction)),
  };
}

/**
 * Control rates as a table: the judge's real-pair figures and the real-fill figures of the sweep's
 * hole, then one row per model, "decoder / completion" per attribute and their mean.
 */
export function controlTable(control: Record<string, AttributeControl[]>, attributes: string[]): ResultTable {
  const all = Object.values(control).flat();
  const real = (a: string) => all.find((r) => r.attribute === a && r.realPair !== undefined && r.realPair !== null)?.realPair ?? null;
  const fill = (a: string) => all.find((r) => r.attribute === a && r.realFill)?.realFill?.rate ?? null;
  const mean = (v: (number | null)[]) => (v.length && v.every((x) => x !== null) ? (v as number[]).reduce((x, y) => x + y, 0) / v.length : null);
  const fmt = (v: number | null) => (v === null ? '—' : v.toFixed(2));
  const one = (rate: number | null | undefined, dir: number | null | undefined, ceilings: [number | null, string][]) =>
    rate === null || rate === undefined ? '—' : `${rate.toFixed(2)} (${[dir!.toFixed(2), ...ceilings.filter(([c]) => c).map(([c, name]) => `${(rate / c!).toFixed(2)}× ${name}`)].join('; ')})`;
  const pair = (d: [number | null | undefined, number | null | undefined], c: [number | undefined, number | undefined], realPair: number | null, realFill: number | null) =>
    c[0] === undefined ? '—' : `${one(d[0], d[1], [[realPair, 'real']])} / ${one(c[0], c[1], [[realPair, 'real'], [realFill, 'real fill']])}`;
  const reals = attributes.map(real);
  const fills = attributes.map(fill);
  return {
    caption:
      'Attribute control, decoder sweep / forced completion: the control rate, the fraction of off/on pairs the judge calls off and on (no control: 0; random judgments: 0.25); in parentheses the fraction of pairs whose "on" image the judge finds more likely to have the attribute than the "off" one (no control: 0), and the rate as a fraction of the real-pair figure — the judge\'s recall × specificity on the real test faces, the first row: what a pair of real faces without and with the attribute gets — and, for completions, of the real-fill figure — the same held-out faces with the hole filled from a real face without and with the attribute, the second row: the most a completion that keeps the observed pixels can reach with this hole',
    columns: [...attributes, 'mean'],
    rows: [
      ...(reals.some((r) => r !== null) ? [{ name: 'Real test faces (recall × specificity)', cells: [...reals.map(fmt), fmt(mean(reals))] }] : []),
      ...(fills.some((r) => r !== null) ? [{ name: 'Held-out faces, hole filled from real faces (real fill)', cells: [...fills.map(fmt), fmt(mean(fills))] }] : []),
      ...Object.entries(control).map(([model, results]) => {
        const m = meanControl(results);
        const used = results.map((r) => real(r.attribute));
        const usedFill = results.map((r) => r.realFill?.rate ?? null);
        return {
          name: model,
          cells: [
            ...attributes.map((a) => {
              const r = results.find((x) => x.attribute === a);
              return r ? pair([r.decoder?.rate, r.decoder?.direction], [r.completion.rate, r.completion.direction], real(a), r.realFill?.rate ?? null) : '—';
            }),
            pair([m.decoder, m.decoderDirection], [m.completion, m.completionDirection], mean(used), mean(usedFill)),
          ],
        };
      }),
    ],
  };
}
