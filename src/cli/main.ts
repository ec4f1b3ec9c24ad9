#!/usr/bin/env node
// Headless entry: `vii <command> [options]`. Every command calls the same src/lib code as the notebooks.
import { parseArgs, intFlag, stringFlag } from './args';
import { writeSyntheticFaces } from '../lib/data/syntheticFaces';
import * as path from 'path';
import { SYNTHETIC_DIR, loadFaces } from '../lib/data/dataSource';
import { ProgressBar } from '../lib/progress';
import { selectBackend } from '../lib/backend/selectBackend';
import { MODEL_FLAGS, modelFromArgs, trainFromArgs } from './modelOptions';
import { trainModel } from '../lib/experiments/trainModel';
import { disposeRun } from '../lib/training/trainer';
import { epochMeans } from '../lib/training/history';
import { CELEBA_CROP_FRACTION } from '../lib/data/preprocess';

const USAGE = `usage: vii <command> [options]

commands:
  make-synthetic [--dir DIR] [--count N] [--seed S]   write procedurally drawn faces in the CelebA layout
  train --preset NAME [--run DIR] [--data DIR] [--limit N] [--size 32|64] [--epochs N] [--batch N]
        [--lr X] [--seed S] [--latent N] [--beta X] [--lambda LAYER=X,...] [--feature-net mobilenetv2|vgg16|none]
        [--feature-net-path DIR] [--mask centre:0.5|box:S|half:left|free:S] [--steps-per-epoch N]
        train (or resume, if DIR has a checkpoint) one model; presets: the 8 Table 1 rows
`;

type Command = (argv: string[]) => Promise<void>;

const commands: Record<string, Command> = {
  async 'make-synthetic'(argv) {
    const args = parseArgs(argv, { dir: 'value', count: 'value', seed: 'value' });
    const dir = stringFlag(args, 'dir') ?? SYNTHETIC_DIR;
    const count = intFlag(args, 'count', 3000, 1);
    const bar = new ProgressBar('synthetic faces', count);
    await writeSyntheticFaces({ dir, count, seed: intFlag(args, 'seed', 0), onProgress: (done) => bar.update(done) });
    bar.stop();
    console.log(`wrote ${count} synthetic faces (not CelebA) to ${dir}`);
  },
  async train(argv) {
    const args = parseArgs(argv, { ...MODEL_FLAGS, run: 'value', data: 'value', limit: 'value' });
    const model = modelFromArgs(args);
    const train = trainFromArgs(args);
    await selectBackend();
    const limit = args.flags.has('limit') ? intFlag(args, 'limit', 0, 1) : undefined;
    const data = await loadFaces({ dir: stringFlag(args, 'data'), limit, preprocess: { size: model.imageSize, cropFraction: CELEBA_CROP_FRACTION }, seed: train.seed });
    console.log(`[vii] data: ${data.images.length} ${data.kind} images (${data.origin}), ${model.imageSize}×${model.imageSize}, train/val/test ${data.splits.train.length}/${data.splits.val.length}/${data.splits.test.length}`);
    const runDir = stringFlag(args, 'run') ?? path.join('results', 'runs', `${model.name}-${model.imageSize}-s${train.seed}`);
    const run = await trainModel({ model, train, data, runDir });
    for (const e of epochMeans(run.history)) console.log(`epoch ${e.epoch + 1}: loss ${e.total.toFixed(2)} recon ${e.recon.toFixed(2)} perceptual ${e.perceptual.toFixed(2)} KL ${e.kl.toFixed(2)}`);
    console.log(`checkpoints and grids in ${runDir}`);
    disposeRun(run);
  },
};

export async function main(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h') {
    console.log(USAGE);
    return;
  }
  const command = commands[name];
  if (!command) throw new Error(`unknown command "${name}"\n\n${USAGE}`);
  await command(rest);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((e: Error) => {
    console.error(`vii: ${e.message}`);
    process.exit(1);
  });
}
