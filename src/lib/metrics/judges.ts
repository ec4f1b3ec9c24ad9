import type { FaceDataset } from '../data/faceDataset';
import { attributeClassifierFor, type AttributeClassifier } from './attributeClassifier';
import { pretrainedJudgeFor } from './pretrainedJudge';
import { tensorFileSha256 } from '../io/tensorFiles';
import * as path from 'path';
import { loadShippedJudge, shippedJudgeDir } from './shippedJudge';

/**
 * The judges of attribute control, by name: `pretrained` (the default: linear probes on a frozen
 * InceptionV3's grid features, trained on real faces and composites of real faces; it ships in
 * models/judges/pretrained), `pretrained-faces` (the same probes trained on whole faces only, the
 * judge of the tables made before 2026-12-05), `pretrained-means` (the first version's global means),
 * or the project's small CNN (plain or class-balanced).
 */
export const JUDGES = ['pretrained', 'pretrained-faces', 'pretrained-means', 'plain', 'balanced'] as const;
export type JudgeName = (typeof JUDGES)[number];

/**
 * The judge by name. `pretrained` loads the shipped probes when they fit the data (its size and
 * attributes); `retrain` trains them for this data set instead (the 28-minute feature pass, cached).
 */
export async function judgeFor(ds: FaceDataset, judge: JudgeName, onLine?: (l: string) => void, o: { retrain?: boolean } = {}): Promise<AttributeClassifier> {
  if (judge === 'pretrained') return (!o.retrain && (await loadShippedJudge('pretrained', ds))) || pretrainedJudgeFor(ds, { onLine });
  if (judge === 'pretrained-faces') return pretrainedJudgeFor(ds, { onLine, composites: false });
  if (judge === 'pretrained-means') return pretrainedJudgeFor(ds, { onLine, layout: 'means' });
  return attributeClassifierFor(ds, { seed: 0, balanced: judge === 'balanced', onLine });
}

/**
 * What fixes a judge's verdicts, for the stamps of stages that judge (a sweep judged by the faces-only
 * probes is out of date once the shipped judge replaces them): the shipped probes' SHA-256, or the name.
 */
export function judgeIdentity(judge: JudgeName): string {
  const dir = judge === 'pretrained' ? shippedJudgeDir('pretrained') : null;
  if (!dir) return judge;
  return `${judge}:${tensorFileSha256(path.join(dir, 'weights'))}`;
}
