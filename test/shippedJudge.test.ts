// The pretrained judge as it ships (models/judges/pretrained): the card's training settings are the
// code's, a fresh clone's verdicts on the card's check faces are the trained judge's, and where this
// machine holds the judge trained here (results/cache), its probes are the shipped ones byte for byte.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { selectBackend } from '../src/lib/backend/selectBackend';
import { disposeClassifier } from '../src/lib/metrics/attributeClassifier';
import { JUDGE_BLURS, JUDGE_INPUT_SIZE, JUDGE_POOLING, pretrainedJudgeCache } from '../src/lib/metrics/pretrainedJudge';
import { JUDGE_COMPOSITE_WEIGHT, JUDGE_COMPOSITES } from '../src/lib/metrics/judgeComposites';
import { facesByName, judgeProbabilities, loadShippedJudge, readJudgeCard, shippedJudgeDir } from '../src/lib/metrics/shippedJudge';
import { judgeFor } from '../src/lib/metrics/judges';
import { loadFaces } from '../src/lib/data/dataSource';
import { CELEBA_CROP_FRACTION } from '../src/lib/data/preprocess';
import { DEFAULT_SPEC } from '../src/lib/spec/experimentSpec';
import { tinyFaces } from './helpers/tinyData';
import { SHARED_CELEBA, sharedCelebaSkip } from './helpers/fixtures';

const dir = shippedJudgeDir('pretrained');
const notShipped = dir ? false : 'models/judges/pretrained is not shipped';

test('the shipped judge\'s card names the settings the code trains with (change them and the judge must be retrained and shipped again)', { skip: notShipped }, () => {
  const card = readJudgeCard(dir!);
  assert.deepEqual(card.training, {
    layout: 'grid',
    input: JUDGE_INPUT_SIZE,
    pooling: JUDGE_POOLING.grid,
    blurs: JUDGE_BLURS,
    composites: JUDGE_COMPOSITES,
    compositeWeight: JUDGE_COMPOSITE_WEIGHT,
    seed: 0,
    epochs: 60,
    hidden: 0,
    l2: 1e-3,
  });
  for (const report of card.reports) assert.ok(fs.existsSync(report), `${report}, named by the card, is committed`);
  const bytes = fs.readdirSync(dir!).reduce((s, f) => s + fs.statSync(path.join(dir!, f)).size, 0);
  assert.ok(bytes < 4 * 2 ** 20, `models/judges/pretrained is ${bytes} bytes`);
});

test('the shipped judge gives, on the card\'s check faces, the verdicts of the judge it was exported from; judgeFor uses it for 64×64 faces only', { skip: notShipped || sharedCelebaSkip, timeout: 300_000 }, async () => {
  await selectBackend();
  const card = readJudgeCard(dir!);
  const data = await loadFaces({ dir: SHARED_CELEBA, preprocess: { size: card.trainedOn.size, cropFraction: CELEBA_CROP_FRACTION }, seed: DEFAULT_SPEC.train.seed });
  const judge = await judgeFor(data, 'pretrained');
  try {
    assert.match(judge.description, /shipped: models\/judges\/pretrained/);
    const got = await judgeProbabilities(judge, data, facesByName(data, card.check.images));
    let worst = 0;
    got.forEach((row, i) => row.forEach((p, j) => (worst = Math.max(worst, Math.abs(p - card.check.probabilities[i][j])))));
    assert.ok(worst < 1e-4, `the shipped judge differs from the trained one by ${worst} in p`);
    // Where the judge was trained on this machine, the shipped probes are its probes.
    const trained = pretrainedJudgeCache(data, {}).headDir;
    if (fs.existsSync(path.join(trained, 'weights.bin'))) {
      assert.ok(fs.readFileSync(path.join(trained, 'weights.bin')).equals(fs.readFileSync(path.join(dir!, 'weights.bin'))), `${trained} differs from the shipped probes`);
    } else console.log(`# no judge trained here (${trained}); run \`npx vii judge train\` to compare the shipped probes with a fresh training`);
  } finally {
    disposeClassifier(judge);
  }
  // 32×32 faces are not what it was trained on: the data set trains its own.
  assert.equal(await loadShippedJudge('pretrained', await tinyFaces(48)), null);
});
