// The judges' accuracy on the held-out test faces, per attribute (issue: a strong, independent judge):
//   npx tsx scripts/judge_accuracy.ts OUT.md [--size 64] [--data DIR]
// Trains (or loads from results/cache) the pretrained judge and the project's plain and class-balanced
// small-CNN judges on the same training split, then tallies their verdicts on the test split:
// accuracy, balanced accuracy, and the real-pair figure recall × specificity (the control rate a
// perfect generator would get), which every control table now prints beside its rates.
import * as path from 'path';
import { selectBackend } from '../src/lib/backend/selectBackend';
import { loadFaces } from '../src/lib/data/dataSource';
import { CELEBA_CROP_FRACTION } from '../src/lib/data/preprocess';
import { attributeClassifierFor, attributeTallies, disposeClassifier, type AttributeClassifier } from '../src/lib/metrics/attributeClassifier';
import { blurred, pretrainedJudgeFor } from '../src/lib/metrics/pretrainedJudge';
import { writeFileAtomic } from '../src/lib/io/atomicWrite';

const FOCUS = ['Smiling', 'Male', 'Eyeglasses', 'Blond_Hair', 'Young'];

async function main() {
  const [out, ...rest] = process.argv.slice(2);
  if (!out) throw new Error('usage: npx tsx scripts/judge_accuracy.ts OUT.md [--size 64] [--data DIR]');
  const flag = (name: string) => (rest.includes(`--${name}`) ? rest[rest.indexOf(`--${name}`) + 1] : undefined);
  const size = Number(flag('size') ?? 64) as 32 | 64;
  await selectBackend();
  const t0 = performance.now();
  const data = await loadFaces({ dir: flag('data'), preprocess: { size, cropFraction: CELEBA_CROP_FRACTION }, seed: 0 });
  const onLine = (l: string) => process.stderr.write(`${l}\n`);
  const judges: [string, AttributeClassifier][] = [
    ['pretrained', await pretrainedJudgeFor(data, { onLine })],
    ['plain CNN', await attributeClassifierFor(data, { seed: 0, onLine })],
    ['balanced CNN', await attributeClassifierFor(data, { seed: 0, balanced: true, onLine })],
  ];
  const test = data.splits.test;
  const lines = [
    `# Attribute judges on ${test.length} held-out test faces (${data.kind}, ${data.root}, ${size}×${size})`,
    '',
    ...judges.map(([name, j]) => `- **${name}**: ${j.description}`),
    '',
  ];
  const summary: string[] = ['| judge | mean accuracy | mean balanced accuracy | ' + FOCUS.map((a) => `${a} balanced`).join(' | ') + ' |', `|---|---|---|${FOCUS.map(() => '---').join('|')}|`];
  const perAttribute: string[] = ['| attribute | positives | ' + judges.map(([n]) => `${n}: acc / bal / recall × spec`).join(' | ') + ' |', `|---|---|${judges.map(() => '---').join('|')}|`];
  const tallies: { name: string; t: Awaited<ReturnType<typeof attributeTallies>> }[] = [];
  for (const [name, j] of judges) tallies.push({ name, t: await attributeTallies(j, data, test) });
  for (const { name, t } of tallies) {
    const acc = t.reduce((s, x) => s + x.truePositives + x.trueNegatives, 0) / (test.length * t.length);
    const meanBal = t.reduce((s, x) => s + x.balanced, 0) / t.length;
    summary.push(`| ${name} | ${(acc * 100).toFixed(1)} % | ${(meanBal * 100).toFixed(1)} % | ${FOCUS.map((a) => t[data.attributeNames.indexOf(a)].balanced.toFixed(3)).join(' | ')} |`);
  }
  data.attributeNames.forEach((a, k) => {
    const cells = tallies.map(({ t }) => {
      const x = t[k];
      const acc = (x.truePositives + x.trueNegatives) / test.length;
      return `${(acc * 100).toFixed(1)} / ${x.balanced.toFixed(3)} / ${(x.realPair ?? 0).toFixed(3)}`;
    });
    perAttribute.push(`| ${FOCUS.includes(a) ? `**${a}**` : a} | ${tallies[0].t[k].positives} | ${cells.join(' | ')} |`);
  });
  // The same judges on the test faces blurred 2× and 4× (bilinear down and up): VAE decodes are blurry.
  const blurRows: string[] = ['| judge | blur | ' + FOCUS.map((a) => `${a} recall × spec`).join(' | ') + ' |', `|---|---|${FOCUS.map(() => '---').join('|')}|`];
  for (const [name, j] of judges) {
    for (const f of [1, 2, 4]) {
      const t = await attributeTallies(j, data, test, (x) => blurred(x, f));
      blurRows.push(`| ${name} | ${f === 1 ? 'none' : `${f}×`} | ${FOCUS.map((a) => (t[data.attributeNames.indexOf(a)].realPair ?? 0).toFixed(2)).join(' | ')} |`);
    }
  }
  lines.push(...summary, '', 'Real-pair figures (recall × specificity) on the test faces, sharp and blurred:', '', ...blurRows, '', 'Per attribute: accuracy (%), balanced accuracy ((recall + specificity) / 2), and the real-pair figure recall × specificity — the share of (negative, positive) real pairs the judge gets both right, the ceiling of a control rate.', '', ...perAttribute, '', `Made by \`npx tsx scripts/judge_accuracy.ts ${path.relative(process.cwd(), out)}${rest.length ? ` ${rest.join(' ')}` : ''}\` in ${((performance.now() - t0) / 60000).toFixed(1)} min.`, '');
  writeFileAtomic(out, lines.join('\n'));
  console.log(lines.join('\n'));
  judges.forEach(([, j]) => disposeClassifier(j));
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
