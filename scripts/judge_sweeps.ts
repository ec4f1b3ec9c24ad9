// Attribute control of the shipped attribute models under each judge, against the real-pair figures:
//   npx tsx scripts/judge_sweeps.ts OUT_DIR [--samples 100] [--judges pretrained,plain] [--mask centre:0.5]
// For every model in models/ conditioned on attributes: the decoder sweep (z ~ N(0, I)) and forced
// completions of held-out faces with the --mask hole (vii sweep's attributeControl, with the real-fill
// figure of that hole), judged by each judge; writes
// OUT_DIR/control-MODEL-JUDGE.json, the grids, and OUT_DIR/control.md (the relative control tables).
import * as fs from 'fs';
import * as path from 'path';
import { selectBackend } from '../src/lib/backend/selectBackend';
import { loadTrainedModel } from '../src/lib/weights/loadModel';
import { MODELS_DIR } from '../src/lib/weights/shippedModel';
import { runData } from '../src/lib/experiments/fineTune';
import { attributeControl, controlTable, type AttributeControl } from '../src/lib/experiments/attributeControl';
import { DEFAULT_SPEC } from '../src/lib/spec/experimentSpec';
const SWEEP_ATTRIBUTES = DEFAULT_SPEC.evaluation.sweepAttributes;
import { disposeClassifier } from '../src/lib/metrics/attributeClassifier';
import { JUDGES, judgeFor, type JudgeName } from '../src/lib/metrics/pretrainedJudge';
import { tableMarkdown } from '../src/lib/export/table';
import { formatMaskSpec, parseMaskSpec } from '../src/lib/masks';
import { writeFileAtomic, writeJsonAtomic } from '../src/lib/io/atomicWrite';

async function main() {
  const [out, ...rest] = process.argv.slice(2);
  if (!out) throw new Error('usage: npx tsx scripts/judge_sweeps.ts OUT_DIR [--samples 100] [--judges pretrained,plain] [--mask centre:0.5]');
  const flag = (name: string) => (rest.includes(`--${name}`) ? rest[rest.indexOf(`--${name}`) + 1] : undefined);
  const samples = Number(flag('samples') ?? 100);
  const mask = formatMaskSpec(parseMaskSpec(flag('mask') ?? 'centre:0.5'));
  const judges = (flag('judges') ?? 'pretrained,plain').split(',') as JudgeName[];
  for (const j of judges) if (!(JUDGES as readonly string[]).includes(j)) throw new Error(`--judges: ${j} is not one of ${JUDGES.join(', ')}`);
  await selectBackend();
  const models = fs.readdirSync(MODELS_DIR).filter((m) => fs.existsSync(path.join(MODELS_DIR, m, 'card.json')));
  const tables = Object.fromEntries(JUDGES.map((j) => [j, {}])) as Record<JudgeName, Record<string, AttributeControl[]>>;
  const descriptions: Partial<Record<JudgeName, string>> = {};
  for (const name of models) {
    const { model, meta } = loadTrainedModel(path.join(MODELS_DIR, name));
    const attributes = SWEEP_ATTRIBUTES.filter((a) => meta.model.attributes.includes(a));
    if (attributes.length === 0) {
      model.dispose();
      continue;
    }
    const data = await runData(meta);
    for (const j of judges) {
      const judge = await judgeFor(data, j, (l) => process.stderr.write(`\r${l}`));
      descriptions[j] = judge.description;
      const dir = path.join(out, `${name}-${j}`);
      const control = await attributeControl({ model, data, classifier: judge, attributes, samples, seed: 0, out: dir, mask });
      writeJsonAtomic(path.join(out, `control-${name}-${j}.json`), { model: name, judge: judge.description, samples, mask, control });
      tables[j][name] = control;
      console.log(`[judge_sweeps] ${name} / ${j} done`);
      disposeClassifier(judge);
    }
    model.dispose();
  }
  const lines = [`# Attribute control of the shipped models, ${samples} held-out pairs per attribute (completions: ${mask} hole), by judge`, ''];
  for (const j of judges) lines.push(`## ${j}`, '', descriptions[j] ?? '', '', tableMarkdown(controlTable(tables[j], SWEEP_ATTRIBUTES)), '');
  lines.push(`Made by \`npx tsx scripts/judge_sweeps.ts ${[out, ...rest].join(' ')}\`.`, '');
  writeFileAtomic(path.join(out, 'control.md'), lines.join('\n'));
  console.log(lines.join('\n'));
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
