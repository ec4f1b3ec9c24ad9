// Calibration of a completion's uncertainty (issue 36), each measure on a case with a known answer.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { coverage, erf, erfInv, expectedCalibrationError, fitScale, meanFaceRankCorrelation, perPixel, poolHoles, reliabilityDiagram, sparsification, spearman, type HoleValues, type Predictive } from '../src/lib/metrics/calibration';
import { fitErrorModel, idealTruths, withErrorModel } from '../src/lib/metrics/errorModel';
import { completionSpread, forEachSpreadChunk } from '../src/lib/completion';
import { buildVae } from '../src/lib/models/vae';
import { makeMaskBatch, parseMaskSpec } from '../src/lib/masks';
import { createRng } from '../src/lib/rng';
import * as fs from 'fs';
import * as path from 'path';
import { tinyModel } from './helpers/tinyData';
import { tempDir } from './helpers/fixtures';
import { writeSyntheticFaces } from '../src/lib/data/syntheticFaces';
import { completeFolder } from '../src/lib/experiments/completeFolder';
import { Experiment } from '../src/lib/experiments/experiment';
import { writeTensors } from '../src/lib/io/tensorFiles';

const root = path.resolve(__dirname, '..');

/** A model whose K samples are the truth's distribution: truth = μ + σε, samples μ + σε_k, per pixel σ known. */
function gaussianCase(n: number, samples: number, seed: number, sigmaScale = 1): Predictive & { sigma: Float64Array } {
  const rng = createRng(seed);
  const mu = Float64Array.from({ length: n }, () => rng.next());
  const sigma = Float64Array.from({ length: n }, () => 0.02 + 0.18 * rng.next());
  const truth = Float64Array.from({ length: n }, (_, i) => mu[i] + sigma[i] * rng.normal());
  const mean = new Float64Array(n);
  const std = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const draws = Array.from({ length: samples }, () => mu[i] + sigma[i] * rng.normal());
    const m = draws.reduce((a, b) => a + b, 0) / samples;
    mean[i] = m;
    std[i] = sigmaScale * Math.sqrt(draws.reduce((a, b) => a + (b - m) ** 2, 0) / (samples - 1));
  }
  return { mean, std, truth, sigma };
}

test('erf and its inverse: the Gaussian coverages of ±0.5σ, ±1σ, ±2σ', () => {
  assert.ok(Math.abs(erf(1 / Math.SQRT2) - 0.682689) < 1e-6);
  assert.ok(Math.abs(erf(2 / Math.SQRT2) - 0.954500) < 1e-6);
  assert.ok(Math.abs(erf(0.5 / Math.SQRT2) - 0.382925) < 1e-6);
  for (const p of [0.05, 0.5, 0.9, 0.99]) assert.ok(Math.abs(erf(erfInv(p)) - p) < 1e-9, `erfInv(${p})`);
});

test('spearman: monotone 1, reversed −1, ties averaged, constant NaN', () => {
  assert.equal(spearman([1, 2, 3, 4], [10, 20, 30, 400]), 1);
  assert.equal(spearman([1, 2, 3, 4], [4, 3, 2, 1]), -1);
  assert.ok(Math.abs(spearman([1, 2, 2, 3], [1, 2, 3, 4]) - 0.9486833) < 1e-6);
  assert.ok(Number.isNaN(spearman([1, 1, 1], [1, 2, 3])));
});

test('a model whose samples are the truth plus Gaussian noise of known σ is calibrated; one with σ halved is not, and the fitted scale says by how much', () => {
  const p = gaussianCase(20_000, 200, 7);
  for (const r of reliabilityDiagram(p)) assert.ok(Math.abs(r.observed - r.expected) < 0.015, `±${r.k}σ: ${r.observed} vs ${r.expected}`);
  assert.ok(expectedCalibrationError(p) < 0.01, `ECE ${expectedCalibrationError(p)}`);
  assert.ok(Math.abs(fitScale(p) - 1) < 0.02, `scale ${fitScale(p)}`);
  // |error| grows with σ: their ranks agree (E|ε|σ against σ).
  const err = Float64Array.from({ length: p.truth.length }, (_, i) => Math.abs(p.truth[i] - p.mean[i]));
  assert.ok(spearman(p.std, err) > 0.3, `rank correlation ${spearman(p.std, err)}`);
  const over = gaussianCase(20_000, 200, 7, 0.5);
  assert.ok(Math.abs(coverage(over, 1) - erf(0.5 / Math.SQRT2)) < 0.015, 'σ halved: ±1σ covers what ±0.5σ should');
  assert.ok(expectedCalibrationError(over) > 0.15);
  assert.ok(Math.abs(fitScale(over) - 2) < 0.04, `scale ${fitScale(over)}`);
  assert.ok(expectedCalibrationError(over, fitScale(over)) < 0.01, 'the fitted scale restores calibration');
});

test('sparsification: σ that orders the errors exactly is the oracle; σ unrelated to them removes nothing useful', () => {
  const rng = createRng(3);
  const n = 5000;
  const mean = new Float64Array(n);
  const truth = Float64Array.from({ length: n }, () => rng.normal() * 0.1);
  const exact = sparsification({ mean, truth, std: truth.map(Math.abs) });
  assert.ok(Math.abs(exact.ause) < 1e-12, `AUSE ${exact.ause}`);
  assert.deepEqual(exact.model, exact.oracle);
  const random = sparsification({ mean, truth, std: Float64Array.from({ length: n }, () => rng.next()) });
  const meanErr = truth.reduce((a, b) => a + Math.abs(b), 0) / n;
  for (const v of random.model) assert.ok(Math.abs(v - meanErr) < 0.15 * meanErr, `${v} vs ${meanErr}`);
  random.model.forEach((v, i) => assert.ok(random.oracle[i] <= v + 1e-12, 'the oracle is never worse'));
  assert.ok(random.ause > 0.3 * random.modelArea);
});

test('completionSpread: the per-pixel mean and std of the K batched completions; std 0 on observed pixels; no tensor left behind', () => {
  const model = buildVae(tinyModel('vae-partial'), 5);
  const x = tf.randomUniform([2, 32, 32, 3], 0, 1, 'float32', 11) as tf.Tensor4D;
  const mask = makeMaskBatch(parseMaskSpec('centre:0.5'), 2, 32);
  const options = { steps: 2, latent: 'sample' as const, seed: 9 };
  const before = tf.memory().numTensors;
  const { mean, std } = completionSpread(model, x, mask, null, options, 4);
  // The same K completions, kept: [K × faces] sample-major.
  const kept: tf.Tensor4D[] = [];
  forEachSpreadChunk(model, x, mask, null, options, 4, (chunk, count) => {
    for (let j = 0; j < count; j++) kept.push(tf.slice(chunk, [j * 2, 0, 0, 0], [2, -1, -1, -1]));
  });
  const [m, s, obs, hole, distinct] = tf.tidy(() => {
    const stack = tf.stack(kept);
    const ref = tf.mean(stack, 0);
    const refStd = tf.sqrt(tf.div(tf.sum(tf.square(tf.sub(stack, ref)), 0), 3));
    return [tf.max(tf.abs(tf.sub(mean, ref))).dataSync()[0], tf.max(tf.abs(tf.sub(std, refStd))).dataSync()[0], tf.max(tf.mul(std, mask)).dataSync()[0], tf.mean(tf.mul(std, tf.sub(1, mask))).dataSync()[0], tf.max(tf.abs(tf.sub(kept[0], kept[1]))).dataSync()[0]];
  });
  assert.equal(kept.length, 4);
  assert.ok(m < 1e-5 && s < 1e-4, `mean ${m}, std ${s} against the completions' own`);
  assert.ok(obs < 1e-6, `observed pixels vary by ${obs}`);
  assert.ok(hole > 0 && distinct > 0, 'each copy draws its own z: the hole varies between samples');
  tf.dispose([mean, std, ...kept]);
  assert.equal(tf.memory().numTensors, before);
  assert.throws(() => completionSpread(model, x, mask, null, options, 1), /expected an integer ≥ 2/);
  tf.dispose([x, mask]);
  model.dispose();
});

test('vii complete --uncertainty K: a map and the raw std per image (0 on observed pixels), calibration against the photographs in run.json', async () => {
  const faces = tempDir();
  await writeSyntheticFaces({ dir: faces, count: 2, seed: 4 });
  const out = path.join(tempDir(), 'out');
  const result = await completeFolder({ checkpoint: path.join(root, 'models', 'cropped-no-attr'), images: path.join(faces, 'img_align_celeba'), out, steps: 2, uncertainty: 4, errorModel: null, sigmaNet: null, log: () => {} });
  const files = fs.readdirSync(path.join(out, 'uncertainty')).sort();
  assert.deepEqual(files, ['000001.f32', '000001.png', '000002.f32', '000002.png']);
  const raw = new Float32Array(fs.readFileSync(path.join(out, 'uncertainty', '000001.f32')).buffer.slice(0));
  assert.equal(raw.length, 64 * 64, 'one std per pixel of the 64×64 model');
  const mask = makeMaskBatch(parseMaskSpec('centre:0.5'), 1, 64);
  const m = mask.dataSync();
  mask.dispose();
  assert.ok(raw.every((v, p) => (m[p] > 0.5 ? v === 0 : v >= 0)), 'observed pixels have no spread');
  assert.ok(raw.some((v) => v > 0), 'the hole does');
  const u = JSON.parse(fs.readFileSync(path.join(out, 'run.json'), 'utf8')).uncertaintyCalibration;
  assert.equal(u.pixels, 2 * 32 * 32 * 3);
  assert.deepEqual(u.coverage.map((c: { k: number }) => c.k), [0.5, 1, 2]);
  assert.ok(u.coverage.every((c: { observed: number }) => c.observed >= 0 && c.observed <= 1));
  assert.ok(Number.isFinite(u.ece) && u.scale > 0 && u.sparsification.oracleArea <= u.sparsification.modelArea + 1e-12);
  assert.deepEqual(result.uncertainty, u);
  await assert.rejects(() => completeFolder({ checkpoint: path.join(root, 'models', 'cropped-no-attr'), images: path.join(faces, 'img_align_celeba'), out: path.join(tempDir(), 'o'), uncertainty: 1, log: () => {} }), /--uncertainty 1: expected an integer in 2\.\.256/);
});

test('vii complete --uncertainty K --error-model FILE: calibrated σ maps beside the raw ones and their calibration; a malformed file is refused before anything is written', async () => {
  const faces = tempDir();
  await writeSyntheticFaces({ dir: faces, count: 2, seed: 4 });
  const images = path.join(faces, 'img_align_celeba');
  const checkpoint = path.join(root, 'models', 'cropped-no-attr');
  const positionMap = Array.from({ length: 64 * 64 * 3 }, (_, j) => (Math.floor(j / 3) % 64 < 32 ? 0.02 : 0.2));
  const file = path.join(tempDir(), 'error-model.json');
  fs.writeFileSync(file, JSON.stringify({ errorModel: { weights: { std: 0, gradient: 0, position: 1, bias: 0 }, scale: 2, positionMap, faces: 10 } }));
  const out = path.join(tempDir(), 'out');
  const result = await completeFolder({ checkpoint, images, out, steps: 2, uncertainty: 3, errorModel: file, sigmaNet: null, log: () => {} });
  const sigma = new Float32Array(fs.readFileSync(path.join(out, 'uncertainty', '000001-calibrated.f32')).buffer.slice(0));
  // σ = scale · exp(log(e_pos + ε)) ≈ 2 e_pos: the left half of the hole 0.04, the right 0.4.
  const hole = (y: number, x: number) => sigma[y * 64 + x];
  assert.ok(Math.abs(hole(32, 20) - 0.04) < 1e-3 && Math.abs(hole(32, 40) - 0.4) < 1e-3, `calibrated σ ${hole(32, 20)}, ${hole(32, 40)}`);
  assert.equal(hole(2, 2), 0, 'observed pixels carry no σ');
  assert.ok(fs.existsSync(path.join(out, 'uncertainty', '000001-calibrated.png')) && fs.existsSync(path.join(out, 'uncertainty', '000001.png')));
  assert.ok(result.uncertainty?.calibrated && Number.isFinite(result.uncertainty.calibrated.ece), 'the calibrated σ is scored too');
  fs.writeFileSync(file, JSON.stringify({ weights: { std: 0, gradient: 0, position: 1, bias: 0 }, scale: 1, positionMap: [1, 2] }));
  const bad = path.join(tempDir(), 'bad');
  await assert.rejects(() => completeFolder({ checkpoint, images, out: bad, uncertainty: 3, errorModel: file, log: () => {} }), /error-model\.json: positionMap must be 12288 non-negative numbers/);
  assert.ok(!fs.existsSync(bad), 'nothing written');
});

test('the uncertainty stage: per model, the Gibbs chain and a single decode calibrated on held-out faces, the σ scale from validation faces; a rerun reads its file', { timeout: 300_000 }, async () => {
  const faces = tempDir();
  await writeSyntheticFaces({ dir: faces, count: 80, seed: 8 });
  const root2 = tempDir();
  const file = path.join(root2, 'spec.json');
  const out = { runs: path.join(root2, 'runs'), logs: path.join(root2, 'logs'), figures: path.join(root2, 'figures'), tables: path.join(root2, 'tables') };
  fs.writeFileSync(file, JSON.stringify({ name: 'unc', data: { dir: faces, size: 32 }, model: { perceptual: { net: 'none', weights: {} }, channels: [8, 16, 32], latentDim: 8 }, train: { epochs: 1, stepsPerEpoch: 2, batchSize: 8 }, models: [{ preset: 'vae-partial' }], completion: { steps: 2 }, evaluation: { images: 6, uncertaintySamples: 3, frechet: false, sigmaNet: { faces: 32, samples: 2, epochs: 2, batch: 8 } }, stages: ['train', 'uncertainty', 'summary'], out }));
  const lines: string[] = [];
  const exp = Experiment.open(file, [], { tiny: false, log: (m) => lines.push(m) });
  const first = await exp.runAll();
  const rows = Object.values(first.uncertainty)[0];
  assert.deepEqual(rows.map((r) => [r.method, r.steps]), [['chain', 2], ['single', 1]]);
  for (const r of rows) {
    assert.equal(r.test.pixels, 6 * 16 * 16 * 3, 'the holes of the six test faces');
    assert.ok(Number.isFinite(r.spearmanPerFace) && r.scale > 0 && r.test.sparsification.oracleArea <= r.test.sparsification.modelArea + 1e-12);
    assert.ok(r.scaledEce >= 0 && r.scaledEce <= 1 && r.scaledCoverage.length === 3, 'the test calibration with the validation scale');
    const w = r.errorModel.weights;
    assert.ok([w.std, w.gradient, w.position, w.bias, r.errorModel.scale].every(Number.isFinite) && r.errorModel.positionMap.length === 32 * 32 * 3, 'the error model fitted on the validation faces');
    assert.equal(r.calibrated.test.pixels, r.test.pixels, 'the error model is scored on the same test holes');
    assert.ok(r.ideal.sparsificationRatio >= 1 && r.calibrated.ideal.sparsificationRatio >= 1, 'an ideal σ is never better than the oracle');
  }
  assert.match(fs.readFileSync(first.summary!, 'utf8'), /## Uncertainty[\s\S]*Gibbs, 2 steps\): std[\s\S]*Gibbs, 2 steps\): error model[\s\S]*single decode[\s\S]*: σ network \(\d+ training faces, 2 epochs\)[\s\S]*!\[uncertainty-vae-partial/);
  // The learned σ: trained on training faces' completions, its weights kept, scored on the same six test faces.
  const netFile = fs.readdirSync(path.join(out.logs, 'unc')).find((f) => f.startsWith('uncertainty-net-'))!;
  const net = JSON.parse(fs.readFileSync(path.join(out.logs, 'unc', netFile), 'utf8')).result;
  assert.equal(net.net.test.pixels, 6 * 16 * 16 * 3);
  assert.equal(net.trainNll.length, 2);
  assert.ok(net.scale > 0 && [net.ranking.net.spearmanPerFace, net.ranking.net.pixelSparsificationRatio].every(Number.isFinite));
  assert.ok(fs.existsSync(`${net.weights}.bin`));
  const maps = first.uncertaintyFigures.find((f) => /uncertainty-vae-partial.*\.png$/.test(f))!;
  assert.ok(maps && fs.readFileSync(maps).subarray(1, 4).toString() === 'PNG', 'each model\'s maps (with the calibrated σ row) are a figure of the stage');
  assert.equal(JSON.parse(fs.readFileSync(maps.replace(/\.png$/, '.json'), 'utf8')).config.rows.length, 7, 'truth, masked, mean, std, error, calibrated σ, learned σ');
  lines.length = 0;
  await exp.runAll();
  assert.ok(!lines.some((l) => l.startsWith('[vii] uncertainty') || l.startsWith('[vii] σ network')), 'a rerun with the same checkpoint reads the stage\'s files');
  // Results of other faces (a stamp naming another data set) are never taken for these.
  const stageFile = fs.readdirSync(out.logs + '/unc').find((f) => f.startsWith('uncertainty-') && !f.startsWith('uncertainty-net-'))!;
  const saved = JSON.parse(fs.readFileSync(path.join(out.logs, 'unc', stageFile), 'utf8'));
  assert.deepEqual(saved.stamp.data, { kind: 'synthetic', images: 80, test: 8 });
  saved.stamp.data.kind = 'celeba';
  fs.writeFileSync(path.join(out.logs, 'unc', stageFile), JSON.stringify(saved));
  lines.length = 0;
  await exp.runAll();
  assert.ok(lines.some((l) => l.startsWith('[vii] uncertainty')), 'another data set\'s stamp is recomputed');
});

/**
 * Faces whose errors are set by position (σ_pos) and by the mean's gradient, with an uninformative
 * raw std: truth = mean + σ ε, σ = 0.02 · (1 + 4·[position in the left half]) · (1 + 10 |∇mean|).
 */
function positionalFaces(n: number, seed: number): { faces: HoleValues[]; sigma: Float32Array[] } {
  const rng = createRng(seed);
  const size = 8;
  const faces: HoleValues[] = [];
  const sigma: Float32Array[] = [];
  for (let f = 0; f < n; f++) {
    const position = Int32Array.from({ length: size * size * 3 }, (_, j) => j);
    const gradient = Float32Array.from(position, () => 0.05 * rng.next());
    const s = Float32Array.from(position, (j, i) => 0.02 * (1 + 4 * Number(Math.floor(j / 3) % size < size / 2)) * (1 + 10 * gradient[i]));
    const mean = Float32Array.from(position, () => rng.next());
    faces.push({ mean, truth: Float32Array.from(mean, (m, i) => m + s[i] * rng.normal()), std: Float32Array.from(position, () => 0.01 + 0.05 * rng.next()), gradient, position });
    sigma.push(s);
  }
  return { faces, sigma };
}

test('the error model learns where errors are from position and the mean\'s gradient, ignores an uninformative std, and is calibrated on new faces', () => {
  const train = positionalFaces(200, 3);
  const model = fitErrorModel(train.faces, 8 * 8 * 3);
  assert.ok(Math.abs(model.weights.std) < 0.05, `std weight ${model.weights.std} (the std carries nothing here)`);
  assert.ok(model.weights.position > 0.8, `position weight ${model.weights.position}`);
  assert.ok(model.weights.gradient > 0, `gradient weight ${model.weights.gradient}`);
  const test = positionalFaces(100, 4);
  const calibrated = test.faces.map((f) => withErrorModel(model, f));
  const pooled = poolHoles(calibrated);
  assert.ok(expectedCalibrationError(pooled) < 0.03, `test ECE ${expectedCalibrationError(pooled)} (the fitted scale calibrates new faces)`);
  const raw = meanFaceRankCorrelation(test.faces)!;
  const fitted = meanFaceRankCorrelation(calibrated)!;
  const truthSigma = meanFaceRankCorrelation(test.faces.map((f, i) => ({ ...f, std: test.sigma[i] })))!;
  assert.ok(Math.abs(raw) < 0.05, `raw std rank ${raw}`);
  assert.ok(fitted > 0.9 * truthSigma, `error model rank ${fitted} against the true σ's ${truthSigma}`);
});

test('idealTruths: truths drawn from the predicted σ are calibrated, and even then the sparsification stays above the oracle\'s', () => {
  const { faces } = positionalFaces(50, 5);
  const ideal = poolHoles(faces.map((f, i) => idealTruths(f, 100 + i)));
  for (const r of reliabilityDiagram(ideal)) assert.ok(Math.abs(r.observed - r.expected) < 0.02, `±${r.k}σ: ${r.observed} vs ${r.expected}`);
  const sp = sparsification(ideal);
  assert.ok(sp.modelArea > 1.2 * sp.oracleArea, `an ideal σ still orders |error| only in expectation: ${sp.modelArea} vs oracle ${sp.oracleArea}`);
});

test('perPixel: a pixel\'s |error| and σ are its channels\' means', () => {
  const h: HoleValues = { mean: Float32Array.from([0, 0, 0, 1, 1, 1]), truth: Float32Array.from([0.3, -0.3, 0, 1, 1, 1.6]), std: Float32Array.from([0.1, 0.2, 0.3, 0.4, 0.5, 0.6]), gradient: new Float32Array(6), position: Int32Array.from([6, 7, 8, 9, 10, 11]) };
  const p = perPixel(h);
  assert.deepEqual(Array.from(p.position), [2, 3]);
  assert.deepEqual(Array.from(p.truth, (v) => Number(v.toFixed(5))), [0.2, 0.2]);
  assert.deepEqual(Array.from(p.std, (v) => Number(v.toFixed(5))), [0.2, 0.5]);
  assert.deepEqual(Array.from(p.mean), [0, 0]);
});

/**
 * Completions whose errors have a known scale: |truth − mean| ~ Laplace(b), b = (0.01 + 0.3 · (a
 * pixel's std input)) · (1 + 2·[upper half]) — upper, not left: training mirrors faces left–right,
 * as a face's errors allow. The network reads the std and where the pixel is; trained by the
 * Laplace likelihood its σ̂ should be b itself (E|e| = b).
 */
function knownSigmaFaces(n: number, size: number, seed: number) {
  const rng = createRng(seed);
  const px = size * size;
  const [mean, std, truth, b] = [new Float32Array(n * px * 3), new Float32Array(n * px * 3), new Float32Array(n * px * 3), new Float32Array(n * px * 3)];
  const mask = new Float32Array(n * px);
  for (let f = 0; f < n; f++) {
    for (let p = 0; p < px; p++) {
      const [y, x] = [Math.floor(p / size), p % size];
      mask[f * px + p] = y >= size / 4 && y < (3 * size) / 4 && x >= size / 4 && x < (3 * size) / 4 ? 0 : 1;
      const s = 0.01 + 0.3 * rng.next();
      for (let c = 0; c < 3; c++) {
        const j = (f * px + p) * 3 + c;
        mean[j] = 0.2 + 0.6 * rng.next();
        std[j] = s;
        b[j] = (0.01 + 0.3 * s) * (1 + 2 * Number(y < size / 2));
        const u = rng.next() - 0.5;
        truth[j] = mean[j] - b[j] * Math.sign(u) * Math.log(1 - 2 * Math.abs(u) + 1e-12);
      }
    }
  }
  return { mean, std, truth, mask, b, faces: n, size };
}

test('the σ network learns a known error scale (σ̂ ≈ E|error| from the std and the position), keeps the tensor count flat, and saves and loads its weights', { timeout: 300_000 }, async () => {
  const { buildSigmaNet, trainSigmaNet, predictSigma, saveSigmaNet, loadSigmaNet, SIGMA_NET_DEFAULTS } = await import('../src/lib/metrics/sigmaNet');
  await (await import('../src/lib/backend/selectBackend')).selectBackend({ quiet: true });
  const size = 16;
  const train = knownSigmaFaces(192, size, 11);
  const net = buildSigmaNet(size, 3);
  // The first training call leaves one tensor TF.js caches for good; from then on the count is flat.
  await trainSigmaNet(net, train, { ...SIGMA_NET_DEFAULTS, epochs: 1, batch: 16, learningRate: 3e-3 });
  const before = tf.memory().numTensors;
  const nll = await trainSigmaNet(net, train, { ...SIGMA_NET_DEFAULTS, epochs: 25, batch: 16, learningRate: 3e-3 });
  assert.equal(tf.memory().numTensors, before, 'training leaves no tensor behind (a mirrored batch used to leave its originals: 4 a step)');
  assert.ok(nll.at(-1)! < nll[0], `training NLL ${nll[0]} → ${nll.at(-1)}`);
  const test = knownSigmaFaces(24, size, 12);
  const t = (a: Float32Array, c: number) => tf.tensor4d(a, [test.faces, size, size, c]);
  const [mean, std, mask] = [t(test.mean, 3), t(test.std, 3), t(test.mask, 1)];
  const sigma = predictSigma(net, mean, std, mask);
  const s = (await sigma.data()) as Float32Array;
  const hole: number[] = [];
  test.mask.forEach((m, p) => m === 0 && hole.push(p * 3, p * 3 + 1, p * 3 + 2));
  const [pred, truthB] = [Float32Array.from(hole, (j) => s[j]), Float32Array.from(hole, (j) => test.b[j])];
  const rank = spearman(pred, truthB);
  const ratio = hole.reduce((a, j) => a + s[j], 0) / hole.reduce((a, j) => a + test.b[j], 0);
  assert.ok(rank > 0.8, `rank correlation of σ̂ with the true scale ${rank} (a net that ignores the std or the position gets far less)`);
  assert.ok(ratio > 0.8 && ratio < 1.25, `σ̂ / b on average ${ratio} (the Laplace likelihood's minimiser is E|e| = b; a Gaussian one would give √2·b)`);
  const file = path.join(tempDir(), 'sigma-net');
  await saveSigmaNet(net, file);
  const loaded = loadSigmaNet(file, size);
  const again = predictSigma(loaded, mean, std, mask);
  assert.deepEqual(await again.data(), s, 'the loaded network predicts the same σ̂');
  const other = path.join(tempDir(), 'not-a-sigma-net');
  await writeTensors(other, [{ name: 'w0', tensor: tf.zeros([3, 3]) }]);
  assert.throws(() => loadSigmaNet(other, size), /not-a-sigma-net: not the weights of a σ network for 16×16 faces \(1 tensors, expected 12 of shapes 3×3×9×16/);
  tf.dispose([mean, std, mask, sigma, again]);
  net.dispose();
  loaded.dispose();
});

test('vii complete --uncertainty with a model folder\'s σ network: learned σ maps (its output times the card\'s scale) and their calibration; a card for other faces is refused before anything is written', { timeout: 300_000 }, async () => {
  const { buildSigmaNet, writeSigmaNetFiles, SIGMA_NET_DEFAULTS, SIGMA_NET_FILE } = await import('../src/lib/metrics/sigmaNet');
  const faces = tempDir();
  await writeSyntheticFaces({ dir: faces, count: 2, seed: 4 });
  const images = path.join(faces, 'img_align_celeba');
  const checkpoint = path.join(tempDir(), 'model');
  fs.cpSync(path.join(root, 'models', 'cropped-no-attr'), checkpoint, { recursive: true });
  const net = buildSigmaNet(64, 5);
  const card = { scale: 1.5, size: 64, trainFaces: 10, settings: SIGMA_NET_DEFAULTS, fittedOn: { test: true } };
  const stem = path.join(checkpoint, SIGMA_NET_FILE);
  const run = async (scale: number) => {
    await writeSigmaNetFiles(stem, net, { ...card, scale });
    const out = path.join(tempDir(), 'out');
    const result = await completeFolder({ checkpoint, images, out, steps: 2, uncertainty: 3, errorModel: null, log: () => {} });
    return { result, sigma: new Float32Array(fs.readFileSync(path.join(out, 'uncertainty', '000001-network.f32')).buffer.slice(0)), png: path.join(out, 'uncertainty', '000001-network.png') };
  };
  const a = await run(1.5);
  const b = await run(3);
  assert.equal(a.sigma[2 * 64 + 2], 0, 'observed pixels carry no σ');
  const centre = 32 * 64 + 32;
  assert.ok(a.sigma[centre] > 0 && Math.abs(b.sigma[centre] / a.sigma[centre] - 2) < 1e-4, `the card's scale multiplies the network's σ̂ (${a.sigma[centre]} at 1.5, ${b.sigma[centre]} at 3)`);
  assert.ok(fs.existsSync(a.png) && a.result.uncertainty?.network && Number.isFinite(a.result.uncertainty.network.ece), 'the learned σ is mapped and scored');
  assert.equal(a.result.uncertainty?.calibrated, null, 'no error model asked for');
  // The map's colour is the σ on the error scale (top ERROR_VMAX), not the std's (a learned σ would saturate it).
  const { ERROR_VMAX, inferno } = await import('../src/lib/plots/colormap');
  const { data: rgb } = await (await import('sharp')).default(a.png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const shown: number[] = Array.from(rgb.subarray(centre * 3, centre * 3 + 3) as Uint8Array);
  assert.ok(inferno(a.sigma[centre] / ERROR_VMAX).every((v, c) => Math.abs(v - shown[c]) <= 1), `σ ${a.sigma[centre]} drawn as ${shown}, expected ${inferno(a.sigma[centre] / ERROR_VMAX)}`);
  fs.writeFileSync(`${stem}-card.json`, JSON.stringify({ ...card, size: 32 }));
  const bad = path.join(tempDir(), 'bad');
  await assert.rejects(() => completeFolder({ checkpoint, images, out: bad, uncertainty: 3, errorModel: null, log: () => {} }), /sigma-net-card\.json: a σ network fitted on 32×32 completions, not 64×64/);
  assert.ok(!fs.existsSync(bad), 'nothing written');
  net.dispose();
});

test('the completions\' spread cache: a second draw of the same faces reads the disk (no chain run, the same values); another checkpoint, K or a damaged file draws again', async () => {
  const { forEachSpreadBatch } = await import('../src/lib/experiments/experimentStages');
  const { specFrom } = await import('../src/lib/spec/experimentSpec');
  const { tinyFaces } = await import('./helpers/tinyData');
  const data = await tinyFaces(24);
  const root2 = tempDir();
  const spec = specFrom({ name: 'cache', data: { size: 32 }, models: [{ preset: 'vae-partial' }], evaluation: { mask: 'centre:0.5' }, out: { runs: path.join(root2, 'runs'), logs: path.join(root2, 'logs'), figures: path.join(root2, 'f'), tables: path.join(root2, 't') } }, 'test');
  const model = buildVae(tinyModel('vae-partial'), 5);
  let encodes = 0;
  const encode = model.encode.bind(model);
  model.encode = (...a: Parameters<typeof encode>) => (encodes++, encode(...a));
  const draw = async (checkpoint: string | null, k: number) => {
    const before = encodes;
    const got: Float32Array[][] = [];
    await forEachSpreadBatch(model, checkpoint, data, data.splits.train.slice(0, 12), [], spec, 2, 0, k, (arrays) => got.push(arrays));
    return { arrays: got, ran: encodes > before };
  };
  const first = await draw('ckpt-a', 3);
  const cacheDir = path.join(root2, 'cache', 'spreads');
  assert.ok(first.ran && fs.readdirSync(cacheDir).length === 1, 'drawn and stored');
  const second = await draw('ckpt-a', 3);
  assert.equal(second.ran, false, 'the same faces, model, K and chain: read from the cache');
  assert.deepEqual(second.arrays, first.arrays);
  assert.ok((await draw('ckpt-b', 3)).ran, 'another checkpoint misses');
  assert.ok((await draw('ckpt-a', 4)).ran, 'another K misses');
  assert.ok((await draw(null, 3)).ran && fs.readdirSync(cacheDir).length === 3, 'no checkpoint: no cache');
  const stored = fs.readdirSync(cacheDir).map((f) => path.join(cacheDir, f));
  for (const f of stored) fs.writeFileSync(f, Buffer.alloc(100));
  const damaged = await draw('ckpt-a', 3);
  assert.ok(damaged.ran, 'a file of the wrong length is redrawn');
  assert.deepEqual(damaged.arrays, first.arrays, 'and gives the same completions (same seeds)');
  model.dispose();
});
