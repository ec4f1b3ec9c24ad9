import * as fs from 'fs';
import * as path from 'path';
import * as assert from 'node:assert/strict';
import type { FaceDataset } from '../../src/lib/data/faceDataset';
import type { ModelConfig, TrainConfig } from '../../src/lib/models/config';
import { createTrainingRun, disposeRun, trainEpochs } from '../../src/lib/training/trainer';
import { tempDir } from './fixtures';

/** A run folder's history.csv without its wall-time column (the last): what must match between a resumed and an uninterrupted run. */
export function historyWithoutTimes(runDir: string): string[] {
  return fs.readFileSync(path.join(runDir, 'history.csv'), 'utf8').split('\n').map((l) => l.split(',').slice(0, -1).join(','));
}

/** The same run twice: uninterrupted (`whole`), and stopped after `stopAt` steps then resumed by a new run (`split`). */
export async function wholeAndResumed(model: ModelConfig, train: TrainConfig, faces: FaceDataset, stopAt: number): Promise<{ whole: string; split: string }> {
  const whole = path.join(tempDir(), 'whole');
  const a = await createTrainingRun({ model, train, data: faces, runDir: whole });
  await trainEpochs(a);
  disposeRun(a);
  const split = path.join(tempDir(), 'split');
  const b = await createTrainingRun({ model, train, data: faces, runDir: split });
  let steps = 0;
  await trainEpochs(b, { shouldStop: () => ++steps === stopAt });
  disposeRun(b);
  const c = await createTrainingRun({ model, train, data: faces, runDir: split });
  assert.ok(c.resumedFrom, 'resumed from the checkpoint');
  assert.equal(c.step, stopAt);
  await trainEpochs(c);
  disposeRun(c);
  return { whole, split };
}
