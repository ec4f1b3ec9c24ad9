// A training run in its own process, for the kill-and-resume tests: prints "step N" after each
// step. With KILL_IN_WRITE_AT=N it announces "in-write N" and hangs while the checkpoint of step
// N is half written (its folder complete under the temporary name, not yet renamed), so the
// parent can SIGKILL it there.
import * as fs from 'fs';
import { selectBackend } from '../../src/lib/backend/selectBackend';
import { loadCelebA } from '../../src/lib/data/loadCelebA';
import { createTrainingRun, trainEpochs, disposeRun } from '../../src/lib/training/trainer';
import { tinyModel, tinyTrain } from './tinyData';

export const CHILD_TRAIN = tinyTrain({ epochs: 8, batchSize: 8, stepsPerEpoch: null, checkpointEvery: 5 });
export const CHILD_PRESET = 'vae-partial';

async function main(): Promise<void> {
  const [facesDir, runDir] = process.argv.slice(2);
  const killAt = process.env.KILL_IN_WRITE_AT;
  if (killAt) {
    // The module object itself (an ES namespace import is read-only); checkpoint.ts reads through it.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const realFs = require('fs') as typeof fs;
    const rename = realFs.renameSync;
    realFs.renameSync = (from, to) => {
      if (String(from).includes(`ckpt-${killAt.padStart(7, '0')}.tmp-`)) {
        process.stdout.write(`in-write ${killAt}\n`);
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60_000);
      }
      return rename(from, to);
    };
  }
  await selectBackend({ quiet: true });
  const data = await loadCelebA({ dir: facesDir, preprocess: { size: 32, cropFraction: 0.9 }, cacheDir: null, kind: 'synthetic' });
  const run = await createTrainingRun({ model: tinyModel(CHILD_PRESET), train: CHILD_TRAIN, data, runDir });
  await trainEpochs(run, { onStep: ({ row }) => process.stdout.write(`step ${row.step + 1}\n`) });
  disposeRun(run);
  process.stdout.write('done\n');
}

if (require.main === module) main().catch((e) => {
  console.error(e);
  process.exit(1);
});
