// Does a different head on the pretrained judge's frozen features get nearer CelebA's published
// accuracies (issue: the judge's ≥ 89 % mean accuracy, balanced ≥ 0.85 on five attributes)?
//   npx tsx scripts/judge_heads.ts OUT.md [HEAD ...]     HEAD: linear:L2 or mlp:UNITS:L2[:EPOCHS]
// Each head is trained like the judge (class-balanced, sharp and blurred faces, balanced cuts on the
// validation split; cached in results/cache) and scored on the 900 test faces; the first head
// listed by default is the judge's own (linear:0.001).
import * as path from 'path';
import { selectBackend } from '../src/lib/backend/selectBackend';
import { loadFaces } from '../src/lib/data/dataSource';
import { CELEBA_CROP_FRACTION } from '../src/lib/data/preprocess';
import { writeFileAtomic } from '../src/lib/io/atomicWrite';
import { disposeClassifier, meanAccuracy, meanBalanced } from '../src/lib/metrics/attributeClassifier';
import { judgeFigures } from '../src/lib/metrics/judgeFigures';
import { pretrainedJudgeFor } from '../src/lib/metrics/pretrainedJudge';

const FOCUS = ['Smiling', 'Male', 'Eyeglasses', 'Blond_Hair', 'Young'];
const DEFAULT_HEADS = ['linear:0.001', 'linear:0.01', 'linear:0.0001', 'mlp:256:0.001:30']; // the committed log's

interface Head {
  text: string;
  l2: number;
  hidden: number;
  epochs: number;
}

function parseHead(text: string): Head {
  const [kind, ...v] = text.split(':');
  const num = (s: string | undefined, what: string) => {
    const n = Number(s);
    if (s === undefined || !Number.isFinite(n) || n < 0) throw new Error(`head ${JSON.stringify(text)}: ${what} ${JSON.stringify(s)}; expected a number ≥ 0 (linear:L2 or mlp:UNITS:L2[:EPOCHS])`);
    return n;
  };
  if (kind === 'linear' && v.length === 1) return { text, l2: num(v[0], 'L2'), hidden: 0, epochs: 60 };
  if (kind === 'mlp' && (v.length === 2 || v.length === 3)) return { text, hidden: num(v[0], 'UNITS'), l2: num(v[1], 'L2'), epochs: v[2] === undefined ? 60 : num(v[2], 'EPOCHS') };
  throw new Error(`head ${JSON.stringify(text)}: expected linear:L2 or mlp:UNITS:L2[:EPOCHS]`);
}

async function main() {
  const [out, ...rest] = process.argv.slice(2);
  if (!out) throw new Error('usage: npx tsx scripts/judge_heads.ts OUT.md [linear:L2 | mlp:UNITS:L2[:EPOCHS] ...]');
  const heads = (rest.length ? rest : DEFAULT_HEADS).map(parseHead);
  await selectBackend();
  const data = await loadFaces({ preprocess: { size: 64, cropFraction: CELEBA_CROP_FRACTION }, seed: 0 });
  const onLine = (l: string) => process.stderr.write(`${l}\n`);
  const rows = [
    `# Heads on the pretrained judge's frozen features, ${data.splits.test.length} held-out test faces (${data.root}, 64×64)`,
    '',
    '| head | training (min) | mean accuracy | mean accuracy, accuracy cuts | mean balanced accuracy | ' + FOCUS.map((a) => `${a} balanced`).join(' | ') + ' |',
    `|---|---|---|---|---|${FOCUS.map(() => '---').join('|')}|`,
  ];
  for (const h of heads) {
    const t0 = performance.now();
    const judge = await pretrainedJudgeFor(data, { l2: h.l2, hidden: h.hidden, epochs: h.epochs, onLine });
    const minutes = (performance.now() - t0) / 60000;
    const f = await judgeFigures(judge, data);
    disposeClassifier(judge);
    const row = `| ${h.hidden ? `MLP, ${h.hidden} ReLU units` : 'linear'}, weight decay ${h.l2}, ${h.epochs} epochs | ${minutes.toFixed(1)} | ${(meanAccuracy(f.own) * 100).toFixed(1)} % | ${(meanAccuracy(f.atAccuracyCuts) * 100).toFixed(1)} % | ${(meanBalanced(f.own) * 100).toFixed(1)} % | ${FOCUS.map((a) => f.own[data.attributeNames.indexOf(a)].balanced.toFixed(3)).join(' | ')} |`;
    rows.push(row);
    console.log(row);
    // Written after every head, so a stopped run keeps what it measured.
    writeFileAtomic(out, [...rows, '', `Training minutes: about 0 where the head was already in results/cache. Made by \`npx tsx scripts/judge_heads.ts ${path.relative(process.cwd(), out)} ${heads.map((x) => x.text).join(' ')}\`.`, ''].join('\n'));
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
