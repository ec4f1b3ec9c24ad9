import * as fs from 'fs';
import * as path from 'path';
import { loadTrainedModel } from '../weights/loadModel';
import { MODELS_DIR, modelAttributeStrength } from '../weights/shippedModel';
import { runData } from './fineTune';
import { attributeControl, controlTable, type AttributeControl } from './attributeControl';
import { disposeClassifier } from '../metrics/attributeClassifier';
import { judgeFor, type JudgeName } from '../metrics/judges';
import { tableMarkdown } from '../export/table';
import { writeJsonAtomic } from '../io/atomicWrite';

/**
 * Attribute control of every shipped model conditioned on the attributes, under each judge: the
 * decoder sweep (z ~ N(0, I)) and forced completions of held-out faces with the `mask` hole (with
 * the real-fill figure of that hole). Writes OUT/control-MODEL-JUDGE.json and the grids; returns
 * the Markdown of the relative control tables.
 */
export async function shippedControl(o: { out: string; samples: number; mask: string; judges: JudgeName[]; attributes: readonly string[]; models?: string[]; onLine?: (l: string) => void; log?: (m: string) => void }): Promise<string[]> {
  const shipped = fs.readdirSync(MODELS_DIR).filter((m) => fs.existsSync(path.join(MODELS_DIR, m, 'card.json')));
  for (const m of o.models ?? []) if (!shipped.includes(m)) throw new Error(`--models ${m}: no shipped model of that name (known: ${shipped.join(', ')})`);
  const models = o.models ?? shipped;
  const tables = Object.fromEntries(o.judges.map((j) => [j, {}])) as Record<JudgeName, Record<string, AttributeControl[]>>;
  const descriptions: Partial<Record<JudgeName, string>> = {};
  for (const name of models) {
    const { model, meta } = loadTrainedModel(path.join(MODELS_DIR, name));
    try {
      const attributes = o.attributes.filter((a) => meta.model.attributes.includes(a));
      if (attributes.length === 0) continue;
      const data = await runData(meta);
      for (const j of o.judges) {
        const judge = await judgeFor(data, j, o.onLine);
        try {
          descriptions[j] = judge.description;
          const control = await attributeControl({ model, data, classifier: judge, attributes, samples: o.samples, seed: 0, out: path.join(o.out, `${name}-${j}`), mask: o.mask, strength: modelAttributeStrength(path.join(MODELS_DIR, name)) });
          writeJsonAtomic(path.join(o.out, `control-${name}-${j}.json`), { model: name, judge: judge.description, samples: o.samples, mask: o.mask, control });
          tables[j][name] = control;
          o.log?.(`[vii] judge sweeps: ${name} / ${j} done`);
        } finally {
          disposeClassifier(judge);
        }
      }
    } finally {
      model.dispose();
    }
  }
  const lines = [`# Attribute control of the shipped models, ${o.samples} held-out pairs per attribute (completions: ${o.mask} hole), by judge`, ''];
  for (const j of o.judges) lines.push(`## ${j}`, '', descriptions[j] ?? '', '', tableMarkdown(controlTable(tables[j], [...o.attributes])), '');
  return lines;
}
