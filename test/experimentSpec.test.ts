import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { applyOverride, canonicalJson, loadSpec, resolvedModel, runName, specFrom, SpecError } from '../src/lib/spec/experimentSpec';
import { Experiment, runExperiment } from '../src/lib/experiments/experiment';
import { experimentPaths } from '../src/lib/experiments/experimentStages';
import { trainModel } from '../src/lib/experiments/trainModel';
import { buildTable1 } from '../src/lib/experiments/table1';
import { disposeRun, resolveInitFrom } from '../src/lib/training/trainer';
import { fineTuneConfigs } from '../src/lib/experiments/fineTune';
import { modelFromArgs, trainFromArgs, MODEL_FLAGS } from '../src/cli/modelOptions';
import { parseArgs } from '../src/cli/args';
import { writeSyntheticFaces } from '../src/lib/data/syntheticFaces';
import { loadFaces } from '../src/lib/data/dataSource';
import { selectBackend } from '../src/lib/backend/selectBackend';
import { tempDir, sharedCelebaSkip } from './helpers/fixtures';

const CONFIGS = path.resolve(__dirname, '..', 'configs');
const minimal = { models: [{ preset: 'vae-partial' }] };

test('a spec refuses unknown keys, wrong types, presets, stages and masks by their dotted name', () => {
  const cases: [unknown, RegExp][] = [
    [{ ...minimal, train: { epoch: 2 } }, /unknown key train\.epoch; known: train\.epochs/],
    [{ ...minimal, train: { epochs: '2' } }, /train\.epochs is "2"; expected number/],
    [{ ...minimal, data: { limit: 'all' } }, /data\.limit is "all"; expected number or null/],
    [{ models: [{ preset: 'vae-partal' }] }, /models\.0\.preset "vae-partal"; expected one of vae-complete/],
    [{ models: [{ preset: 'vae-partial', model: { lamdas: {} } }] }, /unknown model setting models\.0\.model\.lamdas/],
    [{ ...minimal, stages: ['train', 'plot'] }, /stage "plot"; expected some of train, chain/],
    [{ ...minimal, evaluation: { mask: 'circle:3' } }, /evaluation\.mask/],
    [{ models: [{ preset: 'vae-partial', model: { attributeGuidance: 4 } }] }, /models\.0 \(vae-partial\): .*attributeGuidance needs attributes in the decoder/],
    [{ models: [] }, /models is empty/],
    [{ ...minimal, train: { epochs: 0 } }, /train\.epochs 0; expected an integer ≥ 1/],
    [{ models: [{ preset: 'vae-partial', train: { epoch: 2 } }] }, /unknown key models\.0\.train\.epoch; known: models\.0\.train\.epochs/],
    [{ models: [{ preset: 'vae-partial', train: { initFrom: 3 } }] }, /models\.0\.train\.initFrom is 3; expected a run or checkpoint folder/],
    [{ ...minimal, train: { initFrom: 'runs/a' } }, /train\.initFrom: a parent belongs to one model/],
    [{ ...minimal, compare: [[0, 0]] }, /compare entry \[0, 0\]; expected different indices of models \(0\.\.0\)/],
    [{ ...minimal, compare: [[0, 3]] }, /compare entry \[0, 3\]; expected different indices of models \(0\.\.0\)/],
    [{ ...minimal, compare: [0] }, /compare entry 0; expected two or more model indices/],
    [{ ...minimal, compare: [[0]] }, /compare entry \[0\]; expected two or more model indices/],
  ];
  for (const [value, message] of cases) assert.throws(() => specFrom(value, 'my.json'), (e: Error) => e instanceof SpecError && e.message.startsWith('my.json: ') && message.test(e.message), JSON.stringify(value));
  assert.throws(() => loadSpec('/nonexistent/spec.json'), /^Error: \/nonexistent\/spec\.json: no such spec file$|\/nonexistent\/spec\.json: no such spec file/);
});

test('overrides: dotted keys, values read as JSON where they parse, the file and override named in errors', () => {
  const raw = applyOverride(applyOverride(applyOverride(minimal, 'train.epochs=2'), 'data.dir=/tmp/faces'), 'stages=["table1"]');
  const spec = specFrom(raw, 'x');
  assert.equal(spec.train.epochs, 2);
  assert.equal(spec.data.dir, '/tmp/faces');
  assert.deepEqual(spec.stages, ['table1']);
  assert.equal(spec.train.batchSize, 64, 'defaults fill what the file does not say');
  const lam = specFrom(applyOverride(minimal, 'model.perceptual.weights.Conv1_relu=0.05'), 'x');
  assert.equal(resolvedModel(lam, lam.models[0]).model.perceptual.weights.Conv1_relu, 0.05);
  assert.throws(() => applyOverride(minimal, 'train.epochs'), /expected KEY=VALUE/);
  const file = path.join(tempDir(), 'spec.json');
  fs.writeFileSync(file, JSON.stringify(minimal));
  assert.throws(() => loadSpec(file, ['train.epochs=-1']), new RegExp(`${file} with train.epochs=-1: train.epochs -1`));
  // The uncertainty stage's models: indices of the spec's, or null (every trained model).
  assert.throws(() => loadSpec(file, ['evaluation.uncertaintyModels=[3]']), /evaluation\.uncertaintyModels \[3\]; expected indices of models \(0\.\.0\)/);
  assert.throws(() => loadSpec(file, ['evaluation.uncertaintyModels="all"']), /evaluation\.uncertaintyModels is "all"; expected array or null/);
  assert.deepEqual(loadSpec(file, ['evaluation.uncertaintyModels=[0]']).evaluation.uncertaintyModels, [0]);
});

test('run names: a readable stem and a hash of the settings, whatever their order in the file', () => {
  const a = specFrom({ models: [{ preset: 'attr1-both', model: { attributeGuidance: 40 } }], train: { epochs: 3, seed: 1 } }, 'a');
  const b = specFrom({ train: { seed: 1, epochs: 3 }, models: [{ model: { attributeGuidance: 40 }, preset: 'attr1-both' }] }, 'b');
  assert.equal(runName(a, a.models[0]), runName(b, b.models[0]));
  assert.match(runName(a, a.models[0]), /^attr1-both-64-Conv10\.01-block_30\.01-block_60\.01-g40-[0-9a-f]{8}$/);
  const c = specFrom(applyOverride({ models: [{ preset: 'attr1-both', model: { attributeGuidance: 40 } }], train: { epochs: 3, seed: 1 } }, 'train.epochs=4'), 'c');
  assert.notEqual(runName(a, a.models[0]), runName(c, c.models[0]), 'another epoch count is another run');
  assert.equal(canonicalJson({ b: 1, a: [2, { d: 3, c: undefined }] }), '{"a":[2,{"d":3}],"b":1}');
});

test('configs/*.json load, and their models equal what the old scripts\' vii train flags made', () => {
  const files = fs.readdirSync(CONFIGS).filter((f) => f.endsWith('.json'));
  assert.ok(files.includes('paper64.json') && files.includes('guided64.json'));
  const specs = Object.fromEntries(files.map((f) => [f, loadSpec(path.join(CONFIGS, f))]));
  // scripts/train_paper64.sh: vii train --preset P --size 64 --epochs 10 --feature-net none --seed 0 [TRAIN_ARGS]
  const old = (preset: string, extra: string[] = []) => {
    const args = parseArgs(['--preset', preset, '--size', '64', '--epochs', '10', '--feature-net', 'none', '--seed', '0', ...extra], MODEL_FLAGS);
    return { model: modelFromArgs(args), train: trainFromArgs(args) };
  };
  const paper = specs['paper64.json'];
  assert.equal(paper.models.length, 8);
  for (const e of paper.models) assert.equal(canonicalJson(resolvedModel(paper, e)), canonicalJson(old(e.preset)), e.preset);
  // scripts/train_guided64.sh's MODELS list
  const guided = specs['guided64.json'];
  const flags = ['--attribute-guidance 40', '--attribute-guidance 40', '--attribute-guidance 4', '--attribute-guidance 30', '--attribute-guidance 10 --attribute-guide balanced'];
  guided.models.forEach((e, i) => assert.equal(canonicalJson(resolvedModel(guided, e)), canonicalJson(old(e.preset, flags[i].split(' '))), `${e.preset} ${flags[i]}`));
  // scripts/perceptual64.sh: each twin as above, then --feature-net mobilenetv2 --lambda (chosen-lambda.json's flag)
  const chosen = JSON.parse(fs.readFileSync(path.join(CONFIGS, '..', 'results', 'logs', 'perceptual64', 'chosen-lambda.json'), 'utf8')) as { flag: string };
  const perceptual = specs['perceptual64.json'];
  perceptual.models.forEach((e, i) => {
    const args = parseArgs(['--preset', e.preset, '--size', '64', '--epochs', '10', '--feature-net', 'mobilenetv2', '--lambda', chosen.flag, '--seed', '0'], MODEL_FLAGS);
    const made = i % 2 ? { model: modelFromArgs(args), train: trainFromArgs(args) } : old(e.preset);
    assert.equal(canonicalJson(resolvedModel(perceptual, e)), canonicalJson(made), `${e.preset} ${i % 2 ? 'perceptual' : 'twin'}`);
  });
  // scripts/guidance_completion64.sh: two fine-tunes of the shipped model (--init-from, --epochs 2, no KL warm-up)
  const tune = specs['guidance-completion64.json'];
  ['decoded', 'completion'].forEach((on, i) => {
    const args = parseArgs(['--preset', 'attr1-both', '--size', '64', '--feature-net', 'none', '--attribute-guidance', '40', '--guidance-on', on, '--init-from', 'models/cropped-attr1-both-guided', '--epochs', '2', '--seed', '0'], MODEL_FLAGS);
    assert.equal(canonicalJson(resolvedModel(tune, tune.models[i])), canonicalJson({ model: modelFromArgs(args), train: trainFromArgs(args) }), `guidance on ${on}`);
  });
  // mouth-hole64: the same fine-tune on the paper's centre holes and on holes over the mouth
  const mouth = specs['mouth-hole64.json'];
  ['centre:0.5', 'rect:0.62,0.25,0.3,0.5'].forEach((mask, i) => {
    const args = parseArgs(['--preset', 'attr1-both', '--size', '64', '--feature-net', 'none', '--attribute-guidance', '40', '--mask', mask, '--init-from', 'models/cropped-attr1-both-guided', '--epochs', '2', '--seed', '0'], MODEL_FLAGS);
    assert.equal(canonicalJson(resolvedModel(mouth, mouth.models[i])), canonicalJson({ model: modelFromArgs(args), train: trainFromArgs(args) }), `mask ${mask}`);
  });
  assert.equal(mouth.evaluation.mask, 'rect:0.62,0.25,0.3,0.5');
  // The λ_l sweep (was scripts/lambda_sweep64.ts: fineTune of the λ = 0 Cropped model, 200 steps → 2 epochs of 112) as initFrom entries.
  const sweep = specs['lambda-sweep64.json'];
  const { initFrom, meta } = resolveInitFrom('models/cropped-no-attr');
  const settings: Record<string, number>[] = [{}, { Conv1_relu: 0.003, block_3_expand_relu: 0.003, block_6_expand_relu: 0.003 }, { Conv1_relu: 0.01, block_3_expand_relu: 0.01, block_6_expand_relu: 0.01 }, { Conv1_relu: 0.03, block_3_expand_relu: 0.03, block_6_expand_relu: 0.03 }, { Conv1_relu: 0.1, block_3_expand_relu: 0.1, block_6_expand_relu: 0.1 }, { Conv1_relu: 0.01, block_3_expand_relu: 0.01, block_6_expand_relu: 0.01, block_13_expand_relu: 0.01 }];
  assert.equal(sweep.models.length, settings.length);
  sweep.models.forEach((e, i) => {
    const made = fineTuneConfigs(meta, { lambdas: settings[i], steps: 200 }, initFrom, 112);
    const { model, train } = resolvedModel(sweep, e);
    const active = (w: Record<string, number>) => Object.fromEntries(Object.entries(w).filter(([, v]) => v > 0));
    assert.deepEqual([model.perceptual.net, active(model.perceptual.weights)], [made.model.perceptual.net, active(made.model.perceptual.weights)], `sweep ${i}`);
    assert.equal(canonicalJson({ ...model, perceptual: null }), canonicalJson({ ...made.model, perceptual: null }), `sweep ${i} model`);
    assert.equal(canonicalJson(train), canonicalJson(made.train), `sweep ${i} training`);
  });
  assert.deepEqual(sweep.compare, [[0, 1, 2, 3, 4, 5]]);
});

test('vii run on a tiny spec reproduces the old path (vii train, then vii table1) number for number', { timeout: 600_000 }, async () => {
  await selectBackend();
  const root = tempDir();
  const faces = path.join(root, 'faces');
  await writeSyntheticFaces({ dir: faces, count: 200, seed: 3 });
  const spec = specFrom(
    {
      name: 'tiny',
      data: { dir: faces, size: 32 },
      model: { perceptual: { net: 'none', weights: {} } },
      train: { epochs: 1, batchSize: 8, stepsPerEpoch: 3, checkpointEvery: 2 },
      models: [{ preset: 'vae-partial' }, { preset: 'attr1-both' }],
      compare: [[0, 1]],
      evaluation: { images: 12, chainImages: 8, frechet: false, sweepSamples: 4, judge: 'plain' },
      out: { runs: path.join(root, 'runs'), logs: path.join(root, 'logs'), figures: path.join(root, 'figures'), tables: path.join(root, 'tables') },
    },
    'tiny',
  );
  const quiet = () => {};
  const first = await runExperiment(spec, quiet);
  const newTable = JSON.parse(fs.readFileSync(path.join(root, 'tables', 'tiny.json'), 'utf8')) as { rows: { name: string; maskedL1: { mean: number }; ssim: { mean: number } }[] };
  assert.ok(first.summary && fs.readFileSync(first.summary, 'utf8').includes('## Table 1'));
  assert.equal(Object.keys(first.chains).length, 2);
  assert.equal(first.chains[first.runs[0].name].mean.length, 10);
  assert.ok(first.control['Cropped + 1 attribute (E + D)'], 'the attribute model was swept');
  const [compared] = first.compared;
  assert.deepEqual(compared.pair, ['Cropped + no attributes', 'Cropped + 1 attribute (E + D)']);
  assert.ok(compared.figures.length === 3 && compared.figures.every((f) => fs.existsSync(f)), 'completions, reconstructions and samples side by side');
  assert.match(fs.readFileSync(compared.table, 'utf8'), /Cropped \+ no attributes[^\n]*\n[^\n]*Cropped \+ 1 attribute/);
  assert.ok(first.chainFigure.length > 0 && first.chainFigure.every((f) => fs.existsSync(f)), 'the chain figure (or its data without a browser)');

  // The old path: vii train with the same flags into other folders, then vii table1 over them.
  const data = await loadFaces({ dir: faces, preprocess: { size: 32, cropFraction: 148 / 178 }, seed: 0 });
  const oldRuns: { name: string; runDir: string }[] = [];
  for (const preset of ['vae-partial', 'attr1-both']) {
    const args = parseArgs(['--preset', preset, '--size', '32', '--epochs', '1', '--batch', '8', '--steps-per-epoch', '3', '--feature-net', 'none'], MODEL_FLAGS);
    const runDir = path.join(root, 'old', preset);
    disposeRun(await trainModel({ model: modelFromArgs(args), train: { ...trainFromArgs(args), checkpointEvery: 2 }, data, runDir, onLine: quiet, log: quiet }));
    oldRuns.push({ name: first.runs.find((r) => r.entry.preset === preset)!.row, runDir });
  }
  const { rows } = await buildTable1({ data, models: oldRuns, limit: 12, frechet: false, judge: 'plain', outBase: path.join(root, 'old', 'table'), log: quiet, onLine: quiet });
  assert.deepEqual(
    rows.map((r) => [r.name, r.maskedL1.mean, r.ssim.mean]),
    newTable.rows.map((r) => [r.name, r.maskedL1.mean, r.ssim.mean]),
  );

  // A rerun finds every stage done: nothing is retrained or re-evaluated.
  const tableTime = fs.statSync(path.join(root, 'tables', 'tiny.json')).mtimeMs;
  const lines: string[] = [];
  await runExperiment(spec, (m) => lines.push(m));
  assert.equal(fs.statSync(path.join(root, 'tables', 'tiny.json')).mtimeMs, tableTime);
  assert.ok(!lines.some((l) => /^\[vii\] (chain|sweep) /.test(l)), lines.join('\n'));
  assert.ok(!lines.some((l) => l.includes('masked L1')), 'the compare table was not rebuilt');
});

test('experiment names are plain folder names: a path, an empty or a huge name is refused naming the rule', () => {
  for (const name of ['../../../tmp/x/escaped', '', '/tmp/abs', 'a/b', '.hidden', 'x'.repeat(10_000)]) {
    assert.throws(() => specFrom({ name, models: [{ preset: 'vae-partial' }] }, 'spec.json'), (e: Error) => e instanceof SpecError && /name .*expected a plain folder name/.test(e.message) && e.message.length < 300, name.slice(0, 20));
  }
  assert.equal(specFrom({ name: 'mouth-hole64', models: [{ preset: 'vae-partial' }] }, 'spec.json').name, 'mouth-hole64');
});

test('overrides that change results give the experiment its own output folder; stages alone do not', () => {
  const plain = loadSpec('configs/mouth-hole64.json');
  assert.equal(plain.name, 'mouth-hole64');
  assert.equal(loadSpec('configs/mouth-hole64.json', ['stages=["summary"]']).name, 'mouth-hole64', 'choosing stages computes nothing else');
  const trial = loadSpec('configs/mouth-hole64.json', ['data.limit=120', 'stages=["summary"]']);
  assert.match(trial.name, /^mouth-hole64-[0-9a-f]{8}$/, 'a quick trial never writes over the committed mouth-hole64 outputs');
  assert.equal(loadSpec('configs/mouth-hole64.json', ['data.limit=120']).name, trial.name, 'the same settings find the same folder');
  assert.notEqual(loadSpec('configs/mouth-hole64.json', ['data.limit=121']).name, trial.name);
  assert.equal(experimentPaths(trial).summary, path.join('results', 'logs', trial.name, 'summary.md'));
});

test('an opened experiment finds the shipped model of exactly its settings; another λ_l, a subset or a fine-tune is its own experiment', async () => {
  const exp = Experiment.open('configs/perceptual64.json', [], { useShipped: true, tiny: false, log: () => {} });
  const sources = exp.runs().map((r) => (r.source === 'shipped' ? path.basename(r.runDir) : r.source === 'run' ? 'run' : 'untrained'));
  // Model 2 (complete, λ = 0) does not ship; the other three do, matched by their settings hash.
  assert.deepEqual([sources[0], sources[1], sources[3]], ['cropped-no-attr', 'cropped-no-attr-perceptual', 'complete-no-attr-perceptual']);
  const other = Experiment.open('configs/perceptual64.json', ['models.1.model.perceptual.weights.Conv1_relu=0.05'], { useShipped: true, tiny: false, log: () => {} });
  assert.notEqual(other.runs()[1].source, 'shipped', 'another λ_l is another model');
  assert.notEqual(other.runs()[1].name, exp.runs()[1].name);
  assert.notEqual(other.paths.figures, exp.paths.figures, 'its figures never replace the committed settings\' ones');
  assert.equal(Experiment.open('configs/perceptual64.json', [], { useShipped: false, tiny: false }).runs()[0].source === 'shipped', false, 'vii run trains its own');
  const sub = exp.select([1, 0]);
  assert.deepEqual(sub.spec.models.map((m) => m.preset), ['vae-partial', 'vae-partial']);
  assert.deepEqual(sub.spec.compare, [[1, 0]]);
  assert.throws(() => exp.select([7]), /no model 7/);
  const tune = await exp.fineTune(1, { lambdas: { Conv1_relu: 0.05 }, steps: 200, images: 50 });
  const [parent, tuned] = tune.runs();
  assert.equal(parent.source, 'shipped');
  assert.equal(tuned.source === 'shipped', false);
  assert.match(tuned.name, /^vae-partial-64-Conv10\.05-[0-9a-f]{8}$/);
  assert.equal(tune.spec.evaluation.images, 50);
  assert.notEqual((await exp.fineTune(1, { lambdas: { Conv1_relu: 0.02 }, steps: 200 })).paths.figures, tune.paths.figures, 'another λ never overwrites this fine-tune\'s figures');
  await assert.rejects(() => exp.fineTune(2, { lambdas: {}, steps: 5 }), /not trained/);
  // 200 steps are whole epochs of the training split (as vii train --init-from counts them), never one capped epoch.
  const perEpoch = Math.ceil((await exp.data()).splits.train.length / 64);
  assert.deepEqual([tuned.epochs, resolvedModel(tune.spec, tune.spec.models[1]).train.stepsPerEpoch], [Math.ceil(200 / perEpoch), perEpoch >= 200 ? 200 : null]);
});

test('smoke size (VII_TINY) is applied after the settings are checked: a bad epoch count or size is refused, not replaced', () => {
  assert.throws(() => Experiment.open('configs/perceptual64.json', ['train.epochs=-1'], { tiny: true }), /train\.epochs -1; expected an integer ≥ 1/);
  assert.throws(() => Experiment.open('configs/perceptual64.json', ['data.size=48'], { tiny: true }), /data\.size/);
  assert.throws(() => Experiment.open('configs/perceptual64.json', ['evaluation.mask="centre:2"'], { tiny: true }), /evaluation\.mask/);
  assert.throws(() => Experiment.open('configs/perceptual64.json', ['models.1.model.perceptual.weights.Conv1_reluu=0.01'], { tiny: true }), /Conv1_reluu/);
  const tiny = Experiment.open('configs/perceptual64.json', [], { tiny: true });
  assert.equal(tiny.spec.data.size, 32);
  assert.match(tiny.paths.figures, /^results\/tiny\//);
});

test('the committed 64×64 specs open on the shipped models and their stage outputs are current (a notebook reads them, no recomputation)', { skip: sharedCelebaSkip }, async () => {
  const lines: string[] = [];
  const exp = Experiment.open('configs/perceptual64.json', [], { useShipped: true, tiny: false, log: (m) => lines.push(m) });
  const t0 = performance.now();
  await exp.chain();
  assert.equal(await exp.table1(), path.join('results', 'table1', 'perceptual64.md'));
  assert.equal((await exp.compare()).length, 1);
  const paper = Experiment.open('configs/paper64.json', [], { useShipped: true, tiny: false, log: (m) => lines.push(m) });
  await paper.chain();
  await paper.table1();
  assert.ok(!lines.some((l) => /^\[vii\] (chain|Cropped|Complete|evaluate)/.test(l) || /pretrained judge|real metric/.test(l)), `a stage recomputed (a stamp no longer matches its committed output):\n${lines.join('\n')}`);
  assert.ok(performance.now() - t0 < 60_000);
});
