import * as path from 'path';
import { parseArgs, intFlag, stringFlag, asUsage, UsageError } from './args';
import { selectBackend } from '../lib/backend/selectBackend';
import { loadFaces } from '../lib/data/dataSource';
import { CELEBA_CROP_FRACTION } from '../lib/data/preprocess';
import { attributeClassifierFor, disposeClassifier, type AttributeClassifier } from '../lib/metrics/attributeClassifier';
import { judgeDiagnosis } from '../lib/metrics/judgeDiagnosis';
import { exportJudge, JUDGES_DIR } from '../lib/metrics/shippedJudge';
import { JUDGES, judgeFor, type JudgeName } from '../lib/metrics/judges';
import { judgeAccuracyReport } from '../lib/metrics/judgeAccuracyReport';
import { judgeOnDecodes } from '../lib/metrics/judgeOnDecodes';
import { shippedControl } from '../lib/experiments/shippedControl';
import { runData } from '../lib/experiments/fineTune';
import { loadTrainedModel } from '../lib/weights/loadModel';
import { formatMaskSpec, parseMaskSpec } from '../lib/masks';
import { rowName } from '../lib/models/config';
import { DEFAULT_SPEC } from '../lib/spec/experimentSpec';
import { writeFileAtomic } from '../lib/io/atomicWrite';

export const JUDGE_USAGE = `  judge accuracy --out FILE.md [--size 32|64] [--data DIR] | judge sweeps --out DIR [--samples N] [--judges J,J] [--mask SPEC] [--models M,M]
        | judge decodes RUN [RUN ...] | judge diagnose [--attribute A] [--mask SPEC] [--judges J,J] [--faces N] [--out FILE.md]
        | judge train [--model NAME | --checkpoint DIR] [--ship]
        the judges of attribute control: accuracy on the held-out test faces (pretrained, its faces-only version,
        plain and balanced CNN; own cuts and accuracy cuts; sharp and blurred real pairs); the shipped attribute
        models' control under each judge; what the classifiers see in a model's reconstructions; how each judge
        reads real faces altered as a completion alters them (softer hole, seam, both); retrain the pretrained
        judge for a model's data set (its 28-minute feature pass, cached; --ship: into models/judges/pretrained)`;

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
      ['pretrained', await judgeFor(data, 'pretrained', progress)],
      ['pretrained, faces only (before 2026-12-05)', await judgeFor(data, 'pretrained-faces', progress)],
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
    const args = parseArgs(rest, { out: 'value', samples: 'value', judges: 'value', mask: 'value', models: 'value' });
    const out = stringFlag(args, 'out');
    if (!out) throw new UsageError('judge sweeps needs --out DIR');
    const mask = asUsage(() => formatMaskSpec(parseMaskSpec(stringFlag(args, 'mask') ?? DEFAULT_SPEC.evaluation.mask)));
    const judges = (stringFlag(args, 'judges') ?? 'pretrained,plain').split(',');
    for (const j of judges) if (!(JUDGES as readonly string[]).includes(j)) throw new UsageError(`--judges: ${j} is not one of ${JUDGES.join(', ')}`);
    await selectBackend();
    const lines = await shippedControl({ out, samples: intFlag(args, 'samples', DEFAULT_SPEC.evaluation.sweepSamples, 1), mask, judges: judges as JudgeName[], attributes: focus, models: stringFlag(args, 'models')?.split(','), onLine: progress, log: (m) => console.log(m) });
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
  if (action === 'train' || action === 'warm') {
    // Retrain the pretrained judge for a model's data set: the features of every face (sharp and blurred;
    // 1.7 GB in results/cache/) and of the composites, then its probes; `train --ship` writes models/judges/pretrained.
    const args = parseArgs(rest, { model: 'value', checkpoint: 'value', ship: 'switch' });
    const dir = args.flags.has('model') || args.flags.has('checkpoint') ? modelOrCheckpoint(args) : path.join(__dirname, '..', '..', 'models', 'cropped-attr1-both-guided');
    await selectBackend();
    const { model, meta } = loadTrainedModel(dir);
    model.dispose();
    const data = await runData(meta);
    const t0 = Date.now();
    const judge = await judgeFor(data, 'pretrained', progress, { retrain: true });
    console.log(`\n${judge.description} (${((Date.now() - t0) / 60000).toFixed(1)} min)`);
    if (args.flags.has('ship')) {
      const out = path.join(JUDGES_DIR, 'pretrained');
      const card = await exportJudge(data, judge, {}, out, { name: 'pretrained', reports: ['results/logs/judge/judge-accuracy-64.md', 'results/logs/judge/mouth-hole-composites/control.md', 'results/logs/judge/centre-hole-composites/control.md', 'results/logs/judge/composite-variants.log', 'results/logs/judge/judge-train.log', 'results/logs/judge/diagnosis-Smiling.md'] });
      console.log(`[vii] shipped ${out}: validation accuracy ${(card.valAccuracy * 100).toFixed(1)} %, balanced ${(card.valBalancedAccuracy * 100).toFixed(1)} %`);
    }
    disposeClassifier(judge);
    return;
  }
  if (action === 'diagnose') {
    const args = parseArgs(rest, { out: 'value', attribute: 'value', mask: 'value', judges: 'value', faces: 'value', size: 'value', data: 'value' });
    const attribute = stringFlag(args, 'attribute') ?? 'Smiling';
    const mask = asUsage(() => formatMaskSpec(parseMaskSpec(stringFlag(args, 'mask') ?? 'rect:0.62,0.25,0.3,0.5')));
    const judges = (stringFlag(args, 'judges') ?? 'pretrained-faces,pretrained').split(',');
    for (const j of judges) if (!(JUDGES as readonly string[]).includes(j)) throw new UsageError(`--judges: ${j} is not one of ${JUDGES.join(', ')}`);
    const size = intFlag(args, 'size', 64, 32);
    await selectBackend();
    const data = await loadFaces({ dir: stringFlag(args, 'data'), preprocess: { size, cropFraction: CELEBA_CROP_FRACTION }, seed: DEFAULT_SPEC.train.seed });
    if (!data.attributeNames.includes(attribute)) throw new UsageError(`--attribute ${attribute}: the faces in ${data.root} have no such attribute`);
    const faces = data.splits.test.slice(0, intFlag(args, 'faces', 300, 2));
    const lines = [`# How each judge reads ${attribute} on ${faces.length} held-out faces altered as a completion alters them (hole ${mask})`, ''];
    for (const j of judges) {
      const judge = await judgeFor(data, j as JudgeName, progress);
      try {
        const rows = await judgeDiagnosis(judge, data, { attribute, mask, faces });
        lines.push(`## ${j}`, '', judge.description, '', '| condition | recall (with → on) | specificity (without → off) | recall × specificity | mean p, with | mean p, without |', '|---|---|---|---|---|---|');
        for (const r of rows) lines.push(`| ${r.condition} | ${r.recall.toFixed(3)} | ${r.specificity.toFixed(3)} | ${r.realPair.toFixed(3)} | ${r.meanOn.toFixed(3)} | ${r.meanOff.toFixed(3)} |`);
        lines.push('');
      } finally {
        disposeClassifier(judge);
      }
    }
    lines.push(`Every altered face still shows its label (the hole's pixels are its own, blurred, or another face's that agrees on ${attribute}): a drop from the photograph row is the judge reading the alteration. Made by \`npx vii judge diagnose ${rest.join(' ')}\`.`, '');
    const out = stringFlag(args, 'out');
    if (out) writeFileAtomic(out, lines.join('\n'));
    console.log(lines.join('\n'));
    return;
  }
  throw new UsageError(`judge ${action ?? ''}: expected accuracy, sweeps, decodes, diagnose, train or warm`);
}
