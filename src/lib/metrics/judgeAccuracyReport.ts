import type { FaceDataset } from '../data/faceDataset';
import { attributeTallies, meanAccuracy, meanBalanced, type AttributeClassifier } from './attributeClassifier';
import { judgeFigures, type JudgeFigures } from './judgeFigures';
import { blurred } from './blur';

/**
 * The judges' accuracy on the held-out test faces, per attribute, as Markdown: accuracy and
 * balanced accuracy of their own verdicts, accuracy with each attribute's cut chosen for accuracy
 * on the sharp validation faces (the figure CelebA's published classifiers report), and the
 * real-pair figure recall × specificity (the ceiling of a control rate), on sharp and blurred faces.
 */
export async function judgeAccuracyReport(data: FaceDataset, judges: [string, AttributeClassifier][], focus: readonly string[]): Promise<string[]> {
  const test = data.splits.test;
  const lines = [`# Attribute judges on ${test.length} held-out test faces (${data.kind}, ${data.root}, ${data.preprocess.size}×${data.preprocess.size})`, '', ...judges.map(([name, j]) => `- **${name}**: ${j.description}`), ''];
  const summary: string[] = ['| judge | mean accuracy | mean accuracy, accuracy cuts | mean balanced accuracy | ' + focus.map((a) => `${a} balanced`).join(' | ') + ' |', `|---|---|---|---|${focus.map(() => '---').join('|')}|`];
  const perAttribute: string[] = ['| attribute | positives | ' + judges.map(([n]) => `${n}: acc / acc, accuracy cut / bal / recall × spec`).join(' | ') + ' |', `|---|---|${judges.map(() => '---').join('|')}|`];
  const tallies: ({ name: string } & JudgeFigures)[] = [];
  for (const [name, j] of judges) tallies.push({ name, ...(await judgeFigures(j, data, test)) });
  for (const { name, own, atAccuracyCuts } of tallies) {
    summary.push(`| ${name} | ${(meanAccuracy(own) * 100).toFixed(1)} % | ${(meanAccuracy(atAccuracyCuts) * 100).toFixed(1)} % | ${(meanBalanced(own) * 100).toFixed(1)} % | ${focus.map((f) => own[data.attributeNames.indexOf(f)].balanced.toFixed(3)).join(' | ')} |`);
  }
  data.attributeNames.forEach((name, k) => {
    const cells = tallies.map(({ own, atAccuracyCuts }) => `${(own[k].accuracy * 100).toFixed(1)} / ${(atAccuracyCuts[k].accuracy * 100).toFixed(1)} / ${own[k].balanced.toFixed(3)} / ${(own[k].realPair ?? 0).toFixed(3)}`);
    perAttribute.push(`| ${focus.includes(name) ? `**${name}**` : name} | ${tallies[0].own[k].positives} | ${cells.join(' | ')} |`);
  });
  // The same judges on the test faces blurred 2× and 4× (bilinear down and up): VAE decodes are blurry.
  const blurRows: string[] = ['| judge | blur | ' + focus.map((a) => `${a} recall × spec`).join(' | ') + ' |', `|---|---|${focus.map(() => '---').join('|')}|`];
  for (const [name, j] of judges) {
    for (const f of [1, 2, 4]) {
      const t = await attributeTallies(j, data, test, (x) => blurred(x, f));
      blurRows.push(`| ${name} | ${f === 1 ? 'none' : `${f}×`} | ${focus.map((a) => (t[data.attributeNames.indexOf(a)].realPair ?? 0).toFixed(2)).join(' | ')} |`);
    }
  }
  lines.push(
    ...summary,
    '',
    `"Accuracy cuts": each attribute's threshold on p chosen for plain accuracy on the ${data.splits.val.length} sharp validation faces (the judges' own cuts: 0.5, or for the pretrained judge balanced accuracy on sharp and blurred validation faces); the figure comparable to published CelebA accuracies. Balanced accuracy and the real-pair figures are the judges' own verdicts.`,
    '',
    'Real-pair figures (recall × specificity) on the test faces, sharp and blurred:',
    '',
    ...blurRows,
    '',
    "Per attribute: accuracy (%) of the judge's own verdicts and with the attribute's cut chosen for accuracy on the sharp validation faces (\"accuracy cut\"), balanced accuracy ((recall + specificity) / 2), and the real-pair figure recall × specificity — the share of (negative, positive) real pairs the judge gets both right, the ceiling of a control rate.",
    '',
    ...perAttribute,
    '',
  );
  return lines;
}
