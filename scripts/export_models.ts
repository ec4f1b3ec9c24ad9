// Export the flagship 64×64 models into models/NAME (float16, inference only; src/lib/weights/shippedModel.ts)
// with a card whose scores are the shipped weights' own on the first 200 held-out test faces.
//   npx tsx scripts/export_models.ts [NAME ...]   (default: every entry below whose run exists)
import * as fs from 'fs';
import * as path from 'path';
import { selectBackend } from '../src/lib/backend/selectBackend';
import { exportShippedModel, MODELS_DIR } from '../src/lib/weights/shippedModel';
import { shippedModelScores, SHIPPED_EVALUATION } from '../src/lib/experiments/shippedScores';
import { rowName } from '../src/lib/models/config';
import { writeJsonAtomic } from '../src/lib/io/atomicWrite';
import { Experiment } from '../src/lib/experiments/experiment';

const chosen = fs.existsSync('results/logs/perceptual64/chosen-lambda.json') ? (JSON.parse(fs.readFileSync('results/logs/perceptual64/chosen-lambda.json', 'utf8')) as { flag: string }).flag : '?';
/** sharp64's pick (its compare stage's rule, experimentStages.pickOf), as the run it ships from. */
function sharpPick(): { run: string; row: string; log: string } | null {
  const logs = 'results/logs/sharp64';
  const file = fs.existsSync(logs) ? fs.readdirSync(logs).find((f) => /^compare-.*\.json$/.test(f)) : undefined;
  const pick = file ? (JSON.parse(fs.readFileSync(path.join(logs, file), 'utf8')) as { result: { pick?: { name: string } } }).result.pick : undefined;
  if (!pick) return null;
  const r = Experiment.open('configs/sharp64.json', [], { useShipped: true, log: () => {} }).runs().find((x) => x.row === pick.name);
  return r && r.source === 'run' ? { run: r.runDir, row: `${rowName('vae-partial')} + perceptual term, ${pick.name}`, log: path.join(logs, `${r.name}.log`) } : null;
}
// Opening sharp64 resolves its fine-tunes' parents (reads their checkpoints): only when that model is asked for, or every model is.
const sharp = process.argv.length <= 2 || process.argv.includes('cropped-no-attr-sharp') ? sharpPick() : null;

const MODELS: { name: string; run: string; row: string; description: string; log: string }[] = [
  { name: 'cropped-no-attr', run: 'results/runs/paper64/vae-partial', row: rowName('vae-partial'), description: 'q(z | x\', m) trained on centre-masked faces with one training-time Gibbs step; completes by the Gibbs chain. λ_l = 0.', log: 'results/logs/paper64/vae-partial.log' },
  { name: 'cropped-no-attr-perceptual', run: 'results/runs/perceptual64/vae-partial-perc', row: `${rowName('vae-partial')} + perceptual term`, description: `The same model trained with the perceptual term (MobileNetV2 of nsfwjs, --lambda ${chosen}): sharper fills.`, log: 'results/logs/perceptual64/vae-partial-perc.log' },
  { name: 'complete-no-attr-perceptual', run: 'results/runs/perceptual64/vae-complete-perc', row: `${rowName('vae-complete')} + perceptual term`, description: `q(z | x) trained on complete faces with the perceptual term (--lambda ${chosen}); completes by the Gibbs chain.`, log: 'results/logs/perceptual64/vae-complete-perc.log' },
  { name: 'cropped-attr1-both-guided', run: 'results/runs/guided64/attr1-both-g40', row: rowName('attr1-both-g40'), description: 'Smiling in the encoder and the decoder (FiLM), attribute guidance λ_a = 40: `vii complete --set Smiling=1|-1`, `vii sweep --attributes Smiling`.', log: 'results/logs/models64/attr1-both-g40.log' },
  ...(sharp ? [{ name: 'cropped-no-attr-sharp', run: sharp.run, row: sharp.row, description: `sharp64's pick (results/logs/sharp64/summary.md; on its 900 test faces, fills without a checkerboard first, then the sharpest within 5 % of cropped-no-attr-perceptual's masked L1), among λ_adv fine-tunes, their twin and a resize-conv decoder. Its hole |Laplacian| is lower than the perceptual model's, whose count includes that model's stride-2 checkerboard (1.8× a photograph's energy there; this one 0.9×), and its completions' Fréchet distance is lower.`, log: sharp.log }] : []),
  { name: 'complete-attr40', run: 'results/runs/paper64/complete-attr40', row: rowName('complete-attr40'), description: 'All 40 CelebA attributes in the encoder and the decoder, trained on complete faces: attribute sweeps (`vii sweep`), completion by the Gibbs chain (give --attrs or --set).', log: 'results/logs/models64/complete-attr40.log' },
];

async function main(): Promise<void> {
  await selectBackend();
  const wanted = process.argv.slice(2);
  const list = MODELS.filter((m) => (wanted.length ? wanted.includes(m.name) : fs.existsSync(path.join(m.run, 'latest.json'))));
  for (const m of list) {
    const out = path.join(MODELS_DIR, m.name);
    const card = await exportShippedModel(m.run, out, {
      name: m.name,
      row: m.row,
      description: m.description,
      log: m.log,
      data: 'CelebA, the 9,000-face subset of ../shared/celeba: seeded 80/10/10 split, trained on the 7,200 training faces (64×64, crop 148/178)',
      metrics: {},
      evaluation: SHIPPED_EVALUATION,
      reference: { seed: 7, count: 2, mask: 'centre:0.5', steps: 10 },
    });
    card.metrics = await shippedModelScores(out);
    writeJsonAtomic(path.join(out, 'card.json'), card);
    const bytes = fs.readdirSync(out).reduce((s, f) => s + fs.statSync(path.join(out, f)).size, 0);
    console.log(`${m.name}: ${(bytes / 2 ** 20).toFixed(1)} MiB from ${card.source.checkpoint} (step ${card.source.step}); ${Object.entries(card.metrics).map(([k, v]) => `${k} ${v.toFixed(4)}`).join(', ')}`);
  }
  const total = fs.readdirSync(MODELS_DIR).flatMap((d) => (fs.statSync(path.join(MODELS_DIR, d)).isDirectory() ? fs.readdirSync(path.join(MODELS_DIR, d)).map((f) => path.join(MODELS_DIR, d, f)) : [])).reduce((s, f) => s + fs.statSync(f).size, 0);
  console.log(`models/ holds ${(total / 2 ** 20).toFixed(1)} MiB in all`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
