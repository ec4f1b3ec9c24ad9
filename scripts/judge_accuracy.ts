// The judges' accuracy on the held-out test faces, per attribute (issue: a strong, independent judge):
//   npx tsx scripts/judge_accuracy.ts OUT.md [--size 64] [--data DIR]
// Trains (or loads from results/cache) the pretrained judge and the project's plain and class-balanced
// small-CNN judges on the same training split, then tallies their verdicts on the test split:
// accuracy, balanced accuracy, and the real-pair figure recall × specificity (the control rate a
// perfect generator would get), which every control table now prints beside its rates. Beside the
// judges' own verdicts, their accuracy with each attribute's cut chosen for accuracy on the sharp
// validation faces: the figure CelebA's published classifiers report (a balanced cut trades plain
// accuracy on rare attributes for recall).
import * as path from 'path';
import { selectBackend } from '../src/lib/backend/selectBackend';
import { loadFaces } from '../src/lib/data/dataSource';
import { CELEBA_CROP_FRACTION } from '../src/lib/data/preprocess';
import { attributeClassifierFor, attributeTallies, disposeClassifier, meanAccuracy, meanBalanced, type AttributeClassifier } from '../src/lib/metrics/attributeClassifier';
import { judgeFigures, type JudgeFigures } from '../src/lib/metrics/judgeFigures';
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
  const summary: string[] = ['| judge | mean accuracy | mean accuracy, accuracy cuts | mean balanced accuracy | ' + FOCUS.map((a) => `${a} balanced`).join(' | ') + ' |', `|---|---|---|---|${FOCUS.map(() => '---').join('|')}|`];
  const perAttribute: string[] = ['| attribute | positives | ' + judges.map(([n]) => `${n}: acc / acc, accuracy cut / bal / recall × spec`).join(' | ') + ' |', `|---|---|${judges.map(() => '---').join('|')}|`];
  const tallies: ({ name: string } & JudgeFigures)[] = [];
  for (const [name, j] of judges) tallies.push({ name, ...(await judgeFigures(j, data, test)) });
  for (const { name, own, atAccuracyCuts } of tallies) {
    summary.push(`| ${name} | ${(meanAccuracy(own) * 100).toFixed(1)} % | ${(meanAccuracy(atAccuracyCuts) * 100).toFixed(1)} % | ${(meanBalanced(own) * 100).toFixed(1)} % | ${FOCUS.map((f) => own[data.attributeNames.indexOf(f)].balanced.toFixed(3)).join(' | ')} |`);
  }
  data.attributeNames.forEach((name, k) => {
    const cells = tallies.map(({ own, atAccuracyCuts }) => {
      const x = own[k];
      return `${(x.accuracy * 100).toFixed(1)} / ${(atAccuracyCuts[k].accuracy * 100).toFixed(1)} / ${x.balanced.toFixed(3)} / ${(x.realPair ?? 0).toFixed(3)}`;
    });
    perAttribute.push(`| ${FOCUS.includes(name) ? `**${name}**` : name} | ${tallies[0].own[k].positives} | ${cells.join(' | ')} |`);
  });
  // The same judges on the test faces blurred 2× and 4× (bilinear down and up): VAE decodes are blurry.
  const blurRows: string[] = ['| judge | blur | ' + FOCUS.map((a) => `${a} recall × spec`).join(' | ') + ' |', `|---|---|${FOCUS.map(() => '---').join('|')}|`];
  for (const [name, j] of judges) {
    for (const f of [1, 2, 4]) {
      const t = await attributeTallies(j, data, test, (x) => blurred(x, f));
      blurRows.push(`| ${name} | ${f === 1 ? 'none' : `${f}×`} | ${FOCUS.map((a) => (t[data.attributeNames.indexOf(a)].realPair ?? 0).toFixed(2)).join(' | ')} |`);
    }
  }
  lines.push(...summary, '', `"Accuracy cuts": each attribute's threshold on p chosen for plain accuracy on the ${data.splits.val.length} sharp validation faces (the judges' own cuts: 0.5, or for the pretrained judge balanced accuracy on sharp and blurred validation faces); the figure comparable to published CelebA accuracies. Balanced accuracy and the real-pair figures are the judges' own verdicts.`, '', 'Real-pair figures (recall × specificity) on the test faces, sharp and blurred:', '', ...blurRows, '', 'Per attribute: accuracy (%) of the judge\'s own verdicts and with the attribute\'s cut chosen for accuracy on the sharp validation faces ("accuracy cut"), balanced accuracy ((recall + specificity) / 2), and the real-pair figure recall × specificity — the share of (negative, positive) real pairs the judge gets both right, the ceiling of a control rate.', '', ...perAttribute, '', `Made by \`npx tsx scripts/judge_accuracy.ts ${path.relative(process.cwd(), out)}${rest.length ? ` ${rest.join(' ')}` : ''}\` in ${((performance.now() - t0) / 60000).toFixed(1)} min.`, '');
  writeFileAtomic(out, lines.join('\n'));
  console.log(lines.join('\n'));
  judges.forEach(([, j]) => disposeClassifier(j));
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
