import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { epochEndCheckpoint, snapshotCheckpoint } from '../models/checkpoint';
import { createTrainingRun, trainEpochs, type TrainingRun } from '../training/trainer';
import { type ModelConfig, type TrainConfig } from '../models/config';
import type { FaceDataset } from '../data/faceDataset';
import { gatherBatch } from '../data/faceDataset';
import { complete, DEFAULT_COMPLETION } from '../completion';
import { makeMaskBatch, parseMaskSpec } from '../masks';
import { gridPng } from '../plots/imageGrid';
import { writeFileAtomic } from '../io/atomicWrite';
import { ProgressBar } from '../progress';

/**
 * A completion grid on fixed held-out images: rows = ground truth, masked input, completion
 * (centre mask by default, 10 Gibbs steps with z = μ, or one pass for the one-shot model).
 */
export async function completionGrid(run: Pick<TrainingRun, 'model' | 'data' | 'attributeColumns'>, options: { count?: number; mask?: string; seed?: number } = {}): Promise<Buffer> {
  const count = Math.min(options.count ?? 8, run.data.splits.val.length);
  if (count === 0) throw new Error(`${run.data.root}: the validation split is empty; a completion grid needs held-out faces`);
  const indices = run.data.splits.val.slice(0, count);
  const batch = gatherBatch(run.data, indices, run.attributeColumns);
  const c = run.model.config;
  const mask = makeMaskBatch(parseMaskSpec(options.mask ?? 'centre:0.5'), count, c.imageSize, 0);
  const { completed } = complete(run.model, batch.x, mask, batch.y, {
    steps: DEFAULT_COMPLETION.steps,
    latent: 'mean',
    seed: options.seed ?? 0,
  });
  const masked = tf.tidy(() => tf.add(tf.mul(batch.x, mask), tf.mul(tf.sub(1, mask), 0.5)) as tf.Tensor4D);
  const rows = tf.concat([batch.x, masked, completed]) as tf.Tensor4D;
  const png = await gridPng(rows, { columns: count, scale: c.imageSize < 64 ? 2 : 1 });
  tf.dispose([batch.x, batch.y, mask, completed, masked, rows]);
  return png;
}

/** What an epoch end leaves besides its checkpoint: RUN/epoch-N (kept epochs) and grids/epoch-N.png. */
async function epochEnd(run: TrainingRun, runDir: string, epoch: number, keep: number[], source?: string): Promise<void> {
  if (keep.includes(epoch)) snapshotCheckpoint(runDir, `epoch-${epoch}`, source);
  writeFileAtomic(path.join(runDir, 'grids', `epoch-${epoch}.png`), await completionGrid(run));
}

/**
 * A run killed between an epoch's checkpoint and its snapshot (or whose copy failed on a full disk)
 * gets them on the next start: the kept epoch's end checkpoint is still in the series, and when the
 * run stands exactly at that epoch end the model in memory is the one the grid shows.
 */
async function repairEpochEnds(run: TrainingRun, runDir: string, keep: number[], log: (m: string) => void): Promise<void> {
  for (let epoch = 1; epoch <= run.epoch; epoch++) {
    const atEnd = run.epoch === epoch && run.batchInEpoch === 0;
    const snapshotMissing = keep.includes(epoch) && !fs.existsSync(path.join(runDir, `epoch-${epoch}`, 'config.json'));
    const gridMissing = atEnd && !fs.existsSync(path.join(runDir, 'grids', `epoch-${epoch}.png`));
    if (!snapshotMissing && !gridMissing) continue;
    const source = snapshotMissing ? epochEndCheckpoint(runDir, epoch) : null;
    if (snapshotMissing && !source) {
      log(`[vii] warning: ${runDir}/epoch-${epoch} is missing and the checkpoint of that epoch's end is no longer in the series; it cannot be made again`);
      continue;
    }
    if (atEnd) await epochEnd(run, runDir, epoch, snapshotMissing ? keep : [], source ?? undefined);
    else snapshotCheckpoint(runDir, `epoch-${epoch}`, source!);
    log(`[vii] made the epoch-${epoch} ${snapshotMissing ? 'snapshot' : 'grid'} an interrupted run had not written`);
  }
}

export interface TrainModelOptions {
  model: ModelConfig;
  train: TrainConfig;
  data: FaceDataset;
  runDir: string;
  /** A live line for the notebook; a terminal bar otherwise. */
  onLine?: (line: string) => void;
  log?: (message: string) => void;
  /** Epochs whose end-of-epoch checkpoint is kept as runDir/epoch-N (default: epoch 1). */
  keepEpochs?: number[];
  /** Checked after every step: true stops training after a checkpoint (Ctrl-C). */
  shouldStop?: () => boolean;
}

/** Train (or resume) one model, saving a completion grid per epoch in runDir/grids/. */
export async function trainModel(options: TrainModelOptions): Promise<TrainingRun> {
  const log = options.log ?? ((m: string) => console.log(m));
  const run = await createTrainingRun({ model: options.model, train: options.train, data: options.data, runDir: options.runDir });
  const gridDir = path.join(options.runDir, 'grids');
  fs.mkdirSync(gridDir, { recursive: true });
  if (run.resumedFrom) log(`[vii] ${options.model.name}: resumed from ${run.resumedFrom} (step ${run.step}, epoch ${run.epoch})`);
  if (run.step === 0) writeFileAtomic(path.join(gridDir, 'epoch-0.png'), await completionGrid(run));
  await repairEpochEnds(run, options.runDir, options.keepEpochs ?? [1], log);
  if (run.epoch >= run.train.epochs) return run;
  let bar: ProgressBar | null = null;
  let barEpoch = -1;
  await trainEpochs(run, {
    onStep: ({ row, stepInEpoch, stepsInEpoch }) => {
      if (barEpoch !== row.epoch) {
        bar?.stop();
        bar = new ProgressBar(`${options.model.name} epoch ${row.epoch + 1}/${run.train.epochs}`, stepsInEpoch, options.onLine ?? null);
        barEpoch = row.epoch;
      }
      bar!.update(stepInEpoch, `loss ${row.total.toFixed(1)} (recon ${row.recon.toFixed(1)}, perc ${row.perceptual.toFixed(1)}, KL ${row.kl.toFixed(1)}${row.guidance ? `, guide ${row.guidance.toFixed(1)}` : ''}${row.discriminator ? `, adv ${row.adversarial.toFixed(1)}, D ${row.discriminator.toFixed(2)}` : ''}) ${row.ms.toFixed(0)} ms/step`);
    },
    onEpochEnd: (epoch) => epochEnd(run, options.runDir, epoch, options.keepEpochs ?? [1]),
    shouldStop: options.shouldStop,
  });
  (bar as ProgressBar | null)?.stop();
  return run;
}
