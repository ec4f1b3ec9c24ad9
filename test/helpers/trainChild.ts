// A training run in its own process, for the kill-and-resume tests: prints "step N" after each
// step. With KILL_IN_WRITE_AT=N it announces "in-write N" and hangs while the checkpoint of step
// N is half written (its folder complete under the temporary name, not yet renamed), so the
// parent can SIGKILL it there. With KILL_BEFORE_SNAPSHOT=1 it trains through trainModel (which keeps
// RUN/epoch-1) and announces "in-snapshot", hanging, when the epoch-1 snapshot's copy begins — after
// latest.json has moved past the epoch end.
import * as fs from 'fs';
import * as path from 'path';
import { spawn } from 'child_process';
import { selectBackend } from '../../src/lib/backend/selectBackend';
import { loadCelebA } from '../../src/lib/data/loadCelebA';
import { createTrainingRun, trainEpochs, disposeRun } from '../../src/lib/training/trainer';
import { tinyModel, tinyTrain } from './tinyData';
import { trainModel } from '../../src/lib/experiments/trainModel';

/**
 * Run this file as a child process training into `runDir` on the faces of `facesDir`; SIGKILL it when a
 * stdout line matches `killOn`. Resolves with what it printed (a kill is expected, any other failure rejects).
 */
export function runTrainChild(facesDir: string, runDir: string, killOn: RegExp | null, env: Record<string, string> = {}): Promise<{ lines: string[]; killed: boolean }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', __filename, facesDir, runDir], { cwd: path.resolve(__dirname, '..', '..'), env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    let killed = false;
    let buf = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const parts = buf.split('\n');
      buf = parts.pop()!;
      for (const l of parts) {
        lines.push(l);
        if (killOn && !killed && killOn.test(l)) {
          killed = true;
          p.kill('SIGKILL');
        }
      }
    });
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('exit', (code, signal) => {
      if ((killed && signal === 'SIGKILL') || code === 0) resolve({ lines, killed });
      else reject(new Error(`training child exited ${code ?? signal}:\n${err.slice(-3000)}`));
    });
  });
}

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
  if (process.env.KILL_BEFORE_SNAPSHOT) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const realFs = require('fs') as typeof fs;
    const cpSync = realFs.cpSync;
    realFs.cpSync = ((from: string, to: string, options?: fs.CopySyncOptions) => {
      if (String(to).includes('epoch-1.tmp-')) {
        process.stdout.write('in-snapshot\n');
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60_000);
      }
      return cpSync(from, to, options);
    }) as typeof fs.cpSync;
  }
  if (process.env.KILL_BEFORE_SNAPSHOT !== undefined || process.env.CHILD_TRAIN_MODEL) {
    const run = await trainModel({ model: tinyModel(CHILD_PRESET), train: CHILD_TRAIN, data, runDir, log: (m) => process.stdout.write(`${m}\n`), onLine: (l) => /\d+\/\d+/.test(l) && process.stdout.write(`${l}\n`) });
    disposeRun(run);
    process.stdout.write('done\n');
    return;
  }
  const run = await createTrainingRun({ model: tinyModel(CHILD_PRESET), train: CHILD_TRAIN, data, runDir });
  await trainEpochs(run, { onStep: ({ row }) => process.stdout.write(`step ${row.step + 1}\n`) });
  disposeRun(run);
  process.stdout.write('done\n');
}

if (require.main === module) main().catch((e) => {
  console.error(e);
  process.exit(1);
});
