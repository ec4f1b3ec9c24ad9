import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { main, exitCode, commandUsage } from '../src/cli/main';

const root = path.resolve(__dirname, '..');

/** argv → the expected one-line message (each a usage error: exit code 2). */
const BAD: [string[], RegExp][] = [
  [['trian'], /^unknown command "trian"; commands: .*train/],
  [['train', '--preset', 'vae-partial', '--epohcs', '3'], /^unknown option --epohcs; known: /],
  [['train', '--preset', 'vae-nope'], /^model preset|unknown model preset "vae-nope"; known: vae-complete/],
  [['train', '--size', '48'], /imageSize 48 must be 32 or 64/],
  [['train', '--mask', 'centre:1.5'], /centre/],
  [['train', '--size', '32', '--mask', 'centre:0.01'], /0-pixel hole at 32×32/],
  [['train', '--seed', '-1'], /^--seed -1 is invalid; expected an integer ≥ 0$/],
  [['train', '--seed', 'abc'], /^--seed abc is invalid/],
  [['train', '--lr', '0'], /^--lr 0 must be > 0$/],
  [['train', '--epochs'], /^--epochs needs a value$/],
  [['train', '--lambda', 'Conv1_relu=x'], /^--lambda "Conv1_relu=x": expected LAYER=NUMBER$/],
  [['train', '--lambda', 'conv9=0.1'], /perceptual layer "conv9" is not one of mobilenetv2's/],
  [['complete', '--images', 'x', '--out', 'y'], /^--checkpoint DIR or --model NAME is required/],
  [['complete', '--model', 'no-such-model', '--images', 'x', '--out', 'y'], /^--model no-such-model: no shipped model of that name in .*models; known: /],
  [['complete', '--checkpoint', 'c', '--images', 'x', '--out', 'y', '--set', 'Smiles=1'], /^--set Smiles: not a CelebA attribute/],
  [['complete', '--checkpoint', 'c', '--images', 'x', '--out', 'y', '--latent', 'median'], /^--latent median: expected mean or sample$/],
  [['complete', '--checkpoint', 'c', '--images', 'x', '--out', 'y', '--mask', 'star:3'], /star/],
  [['complete', '--checkpoint', 'c', '--images', 'x', '--out', 'y', '--set', 'Smiling=1', '--strength', '0'], /^--strength 0: expected a number > 0/],
  [['complete', '--checkpoint', 'c', '--images', 'x', '--out', 'y', '--set', 'Smiling=1', '--strength', 'lots'], /^--strength lots is not a number$/],
  [['complete', '--checkpoint', 'c', '--images', 'x', '--out', 'y', '--strength', '2'], /^--strength 2: it scales the attributes --set forces; give --set too$/],
  [['sweep', '--model', 'cropped-attr1-both-guided', '--strength', '-1'], /^--strength -1: expected a number > 0/],
  [['sweep'], /^sweep needs --checkpoint DIR or --model NAME/],
  [['table1'], /^table1 needs --runs DIR/],
  [['table1', '--runs', '/nonexistent/runs'], /^--runs \/nonexistent\/runs: folder not found$/],
  [['grid', '--dirs', 'a'], /^grid needs --dirs DIR,DIR,\.\.\. and --out FILE\.png$/],
  [['study', '--full', '--size', 'big'], /^unknown option --size; known: --full/],
  [['study', 'train.epochs=-1'], /configs\/study\.json with train\.epochs=-1: train\.epochs -1; expected an integer ≥ 1/],
  [['weights'], /^weights : expected fetch, convert or status$/],
  [['weights', 'fetch'], /^weights fetch: name what to fetch: vgg16, inception, lpips-vgg$/],
  [['weights', 'fetch', 'vgg19', 'inception'], /^weights fetch vgg19: expected vgg16, inception, lpips-vgg$/],
  [['weights', 'convert'], /^weights convert: give one FILE\.pth$/],
];

test('bad command lines: one clear line each, exit code 2', async () => {
  for (const [argv, message] of BAD) {
    await assert.rejects(main(argv), (e: Error) => {
      assert.match(e.message, message, argv.join(' '));
      assert.ok(!e.message.includes('\n'), `${argv.join(' ')}: one line, got\n${e.message}`);
      assert.equal(exitCode(e), 2, `${argv.join(' ')}: exit code`);
      return true;
    });
  }
});

test('the real process: vii --help and vii COMMAND --help exit 0 with the usage; a bad flag exits 2; a missing checkpoint exits 1', () => {
  const run = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'src', 'cli', 'main.ts'), ...args], { cwd: root, encoding: 'utf8' });
  const help = run('--help');
  assert.equal(help.status, 0);
  assert.match(help.stdout, /^usage: vii <command>/);
  const trainHelp = run('train', '--help');
  assert.equal(trainHelp.status, 0);
  assert.match(trainHelp.stdout, /^usage: vii train --preset NAME/);
  assert.doesNotMatch(trainHelp.stdout, /table1 --runs/);
  assert.equal(commandUsage('sweep').split('\n')[0], 'usage: vii sweep --checkpoint DIR | --model NAME [--attributes Smiling,Male,Eyeglasses,Blond_Hair,Young] [--samples N] [--seed S]');
  const bad = run('train', '--bogus');
  assert.equal(bad.status, 2);
  assert.equal(bad.stderr.trim().split('\n').length, 1);
  assert.match(bad.stderr, /^vii: unknown option --bogus/);
  const missing = run('sweep', '--checkpoint', '/nonexistent/ckpt');
  assert.equal(missing.status, 1, missing.stderr);
  assert.match(missing.stderr, /checkpoint \/nonexistent\/ckpt does not exist/);
});
