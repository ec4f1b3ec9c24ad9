import * as path from 'path';
import { parseArgs, intFlag, stringFlag, asUsage, UsageError } from './args';
import { selectBackend } from '../lib/backend/selectBackend';
import { loadFaces } from '../lib/data/dataSource';
import { CELEBA_CROP_FRACTION } from '../lib/data/preprocess';
import { attributeClassifierFor, disposeClassifier, type AttributeClassifier } from '../lib/metrics/attributeClassifier';
import { JUDGES, judgeFor, pretrainedJudgeFor, type JudgeName } from '../lib/metrics/pretrainedJudge';
import { judgeAccuracyReport } from '../lib/metrics/judgeAccuracyReport';
import { judgeOnDecodes } from '../lib/metrics/judgeOnDecodes';
import { shippedControl } from '../lib/experiments/shippedControl';
import { runData } from '../lib/experiments/fineTune';
import { loadTrainedModel } from '../lib/weights/loadModel';
import { formatMaskSpec, parseMaskSpec } from '../lib/masks';
import { rowName } from '../lib/models/config';
import { DEFAULT_SPEC } from '../lib/spec/experimentSpec';
import { writeFileAtomic } from '../lib/io/atomicWrite';

export const JUDGE_USAGE = `  judge accuracy --out FILE.md [--size 32|64] [--data DIR] | judge sweeps --out DIR [--samples N] [--judges J,J] [--mask SPEC]
        | judge decodes RUN [RUN ...] | judge warm [--model NAME | --checkpoint DIR]
        the judges of attribute control: accuracy on the held-out test faces (pretrained, plain and balanced CNN;
        own cuts and accuracy cuts; sharp and blurred real pairs); the shipped attribute models' control under
        each judge; what the classifiers see in a model's reconstructions; warm the pretrained judge's cache`;

const progress = (l: string) => process.stderr.write(`\r${l}`);

/** `vii judge …`: reports on the judges, each a library function (src/lib/metrics, src/lib/experiments). */
export async function judgeCommand(argv: string[], modelOrCheckpoint: (args: ReturnType<typeof parseArgs>) => string): Promise<void> {
  const [action, ...rest] = argv;
  const focus = DEFAULT_SPEC.evaluation.sweepAttributes;
  if (action === 'accuracy') {
    const args = parseArgs(rest, { out: 'value', size: 'value', data: 'value' });
    const out = stringFlag(args, 'out');
    if (!out) throw new UsageError('judge accuracy needs --out FILE.md');
    const size = intFlag(args, 'size', 64, 32);
    if (size !== 32 && size !== 64) throw new UsageError(`--size ${size}: expected 32 or 64`);
    await selectBackend();
    const t0 = performance.now();
    const data = await loadFaces({ dir: stringFlag(args, 'data'), preprocess: { size, cropFraction: CELEBA_CROP_FRACTION }, seed: DEFAULT_SPEC.train.seed });
    const judges: [string, AttributeClassifier][] = [
      ['pretrained', await pretrainedJudgeFor(data, { onLine: progress })],
      ['plain CNN', await attributeClassifierFor(data, { seed: 0, onLine: progress })],
      ['balanced CNN', await attributeClassifierFor(data, { seed: 0, balanced: true, onLine: progress })],
    ];
    try {
      const lines = await judgeAccuracyReport(data, judges, focus);
      lines.push(`Made by \`npx vii judge accuracy ${rest.join(' ')}\` in ${((performance.now() - t0) / 60000).toFixed(1)} min.`, '');
      writeFileAtomic(out, lines.join('\n'));
      console.log(lines.join('\n'));
    } finally {
      judges.forEach(([, j]) => disposeClassifier(j));
    }
    return;
  }
  if (action === 'sweeps') {
    const args = parseArgs(rest, { out: 'value', samples: 'value', judges: 'value', mask: 'value' });
    const out = stringFlag(args, 'out');
    if (!out) throw new UsageError('judge sweeps needs --out DIR');
    const mask = asUsage(() => formatMaskSpec(parseMaskSpec(stringFlag(args, 'mask') ?? DEFAULT_SPEC.evaluation.mask)));
    const judges = (stringFlag(args, 'judges') ?? 'pretrained,plain').split(',');
    for (const j of judges) if (!(JUDGES as readonly string[]).includes(j)) throw new UsageError(`--judges: ${j} is not one of ${JUDGES.join(', ')}`);
    await selectBackend();
    const lines = await shippedControl({ out, samples: intFlag(args, 'samples', DEFAULT_SPEC.evaluation.sweepSamples, 1), mask, judges: judges as JudgeName[], attributes: focus, onLine: progress, log: (m) => console.log(m) });
    lines.push(`Made by \`npx vii judge sweeps ${rest.join(' ')}\`.`, '');
    writeFileAtomic(path.join(out, 'control.md'), lines.join('\n'));
    console.log(lines.join('\n'));
    return;
  }
  if (action === 'decodes') {
    const args = parseArgs(rest, {}, { positional: true });
    if (args.positional.length === 0) throw new UsageError('judge decodes needs one or more run or checkpoint folders');
    await selectBackend();
    for (const dir of args.positional) {
      const { model, meta, checkpoint } = loadTrainedModel(dir);
      try {
        const data = await loadFaces({ dir: meta.data.root, preprocess: meta.preprocess, seed: meta.train.seed });
        const classifiers: Record<string, AttributeClassifier> = {
          judge: await attributeClassifierFor(data, { seed: 0 }),
          'balanced judge': await attributeClassifierFor(data, { seed: 0, balanced: true }),
          guide: await attributeClassifierFor(data, { seed: 0, role: 'guide' }),
        };
        console.log(`\n${rowName(dir.replace(/\/$/, '').split('/').pop()!)} (${checkpoint}): ${data.splits.test.length} held-out faces`);
        console.log((await judgeOnDecodes(model, data, classifiers, focus)).join('\n'));
        Object.values(classifiers).forEach(disposeClassifier);
      } finally {
        model.dispose();
      }
    }
    return;
  }
  if (action === 'warm') {
    // The pretrained judge's features of the model's data set (sharp and blurred; 1.7 GB in results/cache/), then its probes.
    const args = parseArgs(rest, { model: 'value', checkpoint: 'value' });
    const dir = args.flags.has('model') || args.flags.has('checkpoint') ? modelOrCheckpoint(args) : path.join(__dirname, '..', '..', 'models', 'cropped-attr1-both-guided');
    await selectBackend();
    const { model, meta } = loadTrainedModel(dir);
    model.dispose();
    const data = await runData(meta);
    const t0 = Date.now();
    const judge = await judgeFor(data, 'pretrained', progress);
    console.log(`\n${judge.description} (${((Date.now() - t0) / 60000).toFixed(1)} min)`);
    disposeClassifier(judge);
    return;
  }
  throw new UsageError(`judge ${action ?? ''}: expected accuracy, sweeps, decodes or warm`);
}
