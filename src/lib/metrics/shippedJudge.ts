import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import type { FaceDataset } from '../data/faceDataset';
import { gatherBatch } from '../data/faceDataset';
import { writeFileAtomic, writeJsonAtomic } from '../io/atomicWrite';
import { readAndDispose } from '../tensorReads';
import { MODELS_DIR } from '../weights/shippedModel';
import { attributeTallies, meanAccuracy, meanBalanced, predictAttributes, type AttributeClassifier } from './attributeClassifier';
import { JUDGE_BLURS, JUDGE_INPUT_SIZE, JUDGE_POOLING, pretrainedJudgeCache, readJudgeHead, type PretrainedJudgeOptions } from './pretrainedJudge';
import { JUDGE_COMPOSITES } from './judgeComposites';

/**
 * The pretrained judge as it ships (`models/judges/NAME/`): its probes and their standardisation
 * (weights.{bin,json}, float32, 2.6 MB: the verdicts must be the trained judge's exactly), meta.json
 * (thresholds, validation accuracy) and judge.json, its card. The frozen InceptionV3 comes with
 * nsfwjs, so a fresh clone judges at once instead of first computing 27,000 backbone passes (28 min
 * on 2 cores). The feature cache is only for retraining (`vii judge train`).
 */
export const JUDGES_DIR = path.join(MODELS_DIR, 'judges');

export interface JudgeCard {
  name: string;
  description: string;
  /** Everything that fixes the probes: the code's constants at training time (a test holds them to today's). */
  training: { layout: 'grid'; input: number; pooling: typeof JUDGE_POOLING.grid; blurs: number[]; composites: typeof JUDGE_COMPOSITES | null; compositeWeight: number; seed: number; epochs: number; hidden: number; l2: number };
  /** The faces it was trained on: their data set, size, splits, and the image names' list length. */
  trainedOn: { kind: string; faces: number; size: number; train: number; val: number; test: number; firstImage: string; lastImage: string };
  valAccuracy: number;
  valBalancedAccuracy: number;
  /** On the held-out test faces (sharp): mean accuracy and balanced accuracy, and each attribute's balanced accuracy. */
  test: { faces: number; meanAccuracy: number; meanBalanced: number; balanced: Record<string, number> };
  /** The trained judge's probabilities on a few validation faces (sharp), named by file: a fresh clone's must be these. */
  check: { images: string[]; probabilities: number[][] };
  /** The accuracy table and control tables it was measured with, committed beside the training log. */
  reports: string[];
}

/** models/judges/NAME, or null when none ships under that name. */
export function shippedJudgeDir(name: string): string | null {
  const dir = path.join(JUDGES_DIR, name);
  return fs.existsSync(path.join(dir, 'judge.json')) ? dir : null;
}

export function readJudgeCard(dir: string): JudgeCard {
  const file = path.join(dir, 'judge.json');
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as JudgeCard;
  } catch (e) {
    throw new Error(`${file}: not a judge card (${(e as Error).message})`);
  }
}

/**
 * The shipped judge for faces of this size and these attributes, or null (another size or
 * attribute list: the judge is then trained for the data set, as before it shipped).
 */
export async function loadShippedJudge(name: string, ds: FaceDataset): Promise<AttributeClassifier | null> {
  const dir = shippedJudgeDir(name);
  if (!dir) return null;
  const card = readJudgeCard(dir);
  if (card.trainedOn.size !== ds.preprocess.size) return null;
  const names = JSON.parse(fs.readFileSync(path.join(dir, 'attributes.json'), 'utf8')) as string[];
  if (names.join() !== ds.attributeNames.join()) return null;
  const t = card.training;
  return readJudgeHead(dir, ds.attributeNames, {
    layout: t.layout,
    hidden: t.hidden,
    seed: t.seed,
    imageSize: ds.preprocess.size,
    verdictDir: path.join('results', 'cache', 'judge-verdicts'),
    describe: () => `${card.description} [shipped: models/judges/${name}]`,
  });
}

/** Faces of `ds` by file name (the card's check faces), in the given order. */
export function facesByName(ds: FaceDataset, images: string[]): number[] {
  const where = new Map(ds.images.map((im, i) => [im, i]));
  return images.map((im) => {
    const i = where.get(im);
    if (i === undefined) throw new Error(`${ds.root}: no face ${im} (the judge card's check faces come from the data set it was trained on)`);
    return i;
  });
}

/** The judge's probabilities [faces][attributes] of these faces (sharp). */
export async function judgeProbabilities(judge: AttributeClassifier, ds: FaceDataset, faces: number[]): Promise<number[][]> {
  const b = gatherBatch(ds, faces, []);
  const [p] = await readAndDispose([predictAttributes(judge, b.x)]);
  tf.dispose([b.x, b.y]);
  const a = ds.attributeNames.length;
  return faces.map((_, i) => Array.from(p.subarray(i * a, (i + 1) * a)));
}

/**
 * Ship the pretrained judge trained (or cached) for `ds` with these options: its head files, the
 * attribute list, and the card with the trained judge's verdicts on `checkFaces` validation faces.
 */
export async function exportJudge(ds: FaceDataset, judge: AttributeClassifier, options: PretrainedJudgeOptions, outDir: string, o: { name: string; checkFaces?: number; reports: string[] }): Promise<JudgeCard> {
  const cache = pretrainedJudgeCache(ds, options);
  if (cache.layout !== 'grid') throw new Error(`only the grid judge ships, not ${cache.layout}`);
  if (!fs.existsSync(path.join(cache.headDir, 'meta.json'))) throw new Error(`${cache.headDir}: no trained judge head to ship`);
  const checkFaces = ds.splits.val.slice(0, o.checkFaces ?? 8);
  const card: JudgeCard = {
    name: o.name,
    description: judge.description,
    training: { layout: 'grid', input: JUDGE_INPUT_SIZE, pooling: JUDGE_POOLING.grid, blurs: JUDGE_BLURS, composites: cache.composites ? JUDGE_COMPOSITES : null, compositeWeight: cache.compositeWeight, seed: cache.seed, epochs: cache.epochs, hidden: cache.hidden, l2: cache.l2 },
    trainedOn: { kind: ds.kind, faces: ds.images.length, size: ds.preprocess.size, train: ds.splits.train.length, val: ds.splits.val.length, test: ds.splits.test.length, firstImage: ds.images[0], lastImage: ds.images[ds.images.length - 1] },
    valAccuracy: judge.valAccuracy,
    valBalancedAccuracy: (JSON.parse(fs.readFileSync(path.join(cache.headDir, 'meta.json'), 'utf8')) as { valBalancedAccuracy: number }).valBalancedAccuracy,
    test: await testFigures(judge, ds),
    check: { images: checkFaces.map((i) => ds.images[i]), probabilities: await judgeProbabilities(judge, ds, checkFaces) },
    reports: o.reports,
  };
  fs.mkdirSync(outDir, { recursive: true });
  for (const f of ['weights.bin', 'weights.json', 'meta.json']) writeFileAtomic(path.join(outDir, f), fs.readFileSync(path.join(cache.headDir, f)));
  writeJsonAtomic(path.join(outDir, 'attributes.json'), ds.attributeNames);
  writeJsonAtomic(path.join(outDir, 'judge.json'), card);
  return card;
}

async function testFigures(judge: AttributeClassifier, ds: FaceDataset): Promise<JudgeCard['test']> {
  const tallies = await attributeTallies(judge, ds, ds.splits.test);
  return { faces: ds.splits.test.length, meanAccuracy: meanAccuracy(tallies), meanBalanced: meanBalanced(tallies), balanced: Object.fromEntries(ds.attributeNames.map((a, j) => [a, tallies[j].balanced])) };
}
