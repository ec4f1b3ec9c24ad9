#!/usr/bin/env node
// Headless entry: `vii <command> [options]`. Every command calls the same src/lib code as the notebooks.
import { parseArgs, intFlag, stringFlag } from './args';
import { writeSyntheticFaces } from '../lib/data/syntheticFaces';
import { SYNTHETIC_DIR } from '../lib/data/dataSource';
import { ProgressBar } from '../lib/progress';

const USAGE = `usage: vii <command> [options]

commands:
  make-synthetic [--dir DIR] [--count N] [--seed S]   write procedurally drawn faces in the CelebA layout
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
