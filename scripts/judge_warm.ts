// Computes and caches the pretrained judge (its InceptionV3 features of the 9,000 faces, sharp and
// blurred, 1.7 GB in results/cache/, then its probes) before anything judged runs on a bare machine:
//   npx tsx scripts/judge_warm.ts [MODEL_DIR]        (default models/cropped-attr1-both-guided)
// The data set is the one the model was trained on (its card's), so the sweeps of that model and of
// the specs on the same faces find the cache. Log of a run: results/logs/judge/judge-warm.log.
import { selectBackend } from '../src/lib/backend/selectBackend';
import { loadTrainedModel } from '../src/lib/weights/loadModel';
import { runData } from '../src/lib/experiments/fineTune';
import { disposeClassifier } from '../src/lib/metrics/attributeClassifier';
import { judgeFor } from '../src/lib/metrics/pretrainedJudge';

async function main() {
  await selectBackend();
  const { model, meta } = loadTrainedModel(process.argv[2] ?? 'models/cropped-attr1-both-guided');
  model.dispose();
  const data = await runData(meta);
  const t0 = Date.now();
  const judge = await judgeFor(data, 'pretrained', (l) => process.stderr.write(`${l}\n`));
  console.log(judge.description, ((Date.now() - t0) / 60000).toFixed(1), 'min');
  disposeClassifier(judge);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
