import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import type { ExperimentSpec } from '../spec/experimentSpec';
import type { FaceDataset } from '../data/faceDataset';
import { attributeIndices } from '../data/attributes';
import { subSeed } from '../rng';
import { readAndDispose } from '../tensorReads';
import { loadTrainedModel } from '../weights/loadModel';
import type { Vae } from '../models/vae';
import { fitScale, holeValues, meanFaceRankCorrelation, perPixel, poolHoles, sparsification, type HoleValues } from '../metrics/calibration';
import { fitErrorModel, withErrorModel } from '../metrics/errorModel';
import { buildSigmaNet, predictSigma, trainSigmaNet, writeSigmaNetFiles, type SigmaNetSettings } from '../metrics/sigmaNet';
import { writeJsonAtomic } from '../io/atomicWrite';
import type { ResultTable } from '../export/table';
import { checkpointStamp, dataIdentity, forEachSpreadBatch, sigmaScores, upToDate, UNCERTAINTY_FIT_FACES, type Paths, type Run, type SigmaScores } from './experimentStages';

/** How well one σ ranks the errors, per value (pixel × channel) and per pixel (metrics/calibration.perPixel). */
export interface SigmaRanking {
  spearmanPerFace: number;
  sparsificationRatio: number;
  pixelSpearmanPerFace: number;
  pixelSparsificationRatio: number;
}

/** The learned σ (metrics/sigmaNet.ts) against the std and the error model, on the same test completions (Gibbs chain). */
export interface SigmaNetResult {
  steps: number;
  settings: SigmaNetSettings;
  /** Training faces used, and the training NLL per epoch. */
  trainFaces: number;
  trainNll: number[];
  /** σ scale of the network's output, fitted on the validation faces (likelihood), and its full scores on the test faces. */
  scale: number;
  net: SigmaScores;
  ranking: { std: SigmaRanking; errorModel: SigmaRanking; net: SigmaRanking };
  /** Where the weights are (`vii`'s tensor files, relative to the project). */
  weights: string;
}

interface Spread {
  x: Float32Array;
  mask: Float32Array;
  mean: Float32Array;
  std: Float32Array;
  faces: number;
}

/** K completions of each face (the uncertainty stage's batches and seeds: the same completions it measures). */
async function spreadImages(model: Vae, checkpoint: string, data: FaceDataset, indices: number[], cols: number[], spec: ExperimentSpec, steps: number, offset: number, k: number, onBatch?: (done: number) => void): Promise<Spread> {
  const parts: Float32Array[][] = [];
  await forEachSpreadBatch(model, checkpoint, data, indices, cols, spec, steps, offset, k, (arrays, start, n) => {
    parts.push(arrays);
    onBatch?.(start + n);
  });
  const join = (i: number) => {
    const out = new Float32Array(parts.reduce((n, p) => n + p[i].length, 0));
    let at = 0;
    for (const p of parts) (out.set(p[i], at), (at += p[i].length));
    return out;
  };
  return { x: join(0), mask: join(1), mean: join(2), std: join(3), faces: indices.length };
}

/** The network's σ̂ for a spread, as hole values (std replaced by σ̂). */
async function netFaces(net: tf.LayersModel, s: Spread, size: number): Promise<HoleValues[]> {
  const px = size * size;
  const sigma = new Float32Array(s.mean.length);
  for (let start = 0; start < s.faces; start += 50) {
    const n = Math.min(50, s.faces - start);
    const t = (a: Float32Array, c: number) => tf.tensor4d(a.subarray(start * px * c, (start + n) * px * c), [n, size, size, c]);
    const [mean, std, mask] = [t(s.mean, 3), t(s.std, 3), t(s.mask, 1)];
    const [out] = await readAndDispose([predictSigma(net, mean, std, mask)]);
    sigma.set(out, start * px * 3);
    tf.dispose([mean, std, mask]);
  }
  return holeValues(s.x, s.mask, s.mean, sigma, s.faces);
}

function ranking(faces: HoleValues[]): SigmaRanking {
  const ratio = (f: HoleValues[]) => {
    const sp = sparsification(poolHoles(f));
    return sp.modelArea / sp.oracleArea;
  };
  const pixels = faces.map(perPixel);
  return { spearmanPerFace: meanFaceRankCorrelation(faces) ?? 0, sparsificationRatio: ratio(faces), pixelSpearmanPerFace: meanFaceRankCorrelation(pixels) ?? 0, pixelSparsificationRatio: ratio(pixels) };
}

/**
 * The learned σ for one model (its Gibbs chain, or its single decode where the decoder sees x'):
 * the network trained on the completions of `settings.faces` training faces, its scale fitted on
 * the uncertainty stage's validation faces, measured on its test faces beside the std and the error
 * model. Stamped like every stage; the weights are kept beside the result.
 */
export async function sigmaNetStage(spec: ExperimentSpec, data: FaceDataset, r: Run, p: Paths, log: (m: string) => void): Promise<SigmaNetResult | null> {
  const settings = spec.evaluation.sigmaNet;
  if (!settings) return null;
  const file = path.join(p.logs, `uncertainty-net-${r.name}.json`);
  const images = Math.min(spec.evaluation.images ?? data.splits.test.length, data.splits.test.length);
  const fitImages = Math.min(images, data.splits.val.length, UNCERTAINTY_FIT_FACES);
  const trainFaces = Math.min(settings.faces, data.splits.train.length);
  const stamp = { data: dataIdentity(data), checkpoint: checkpointStamp(r.runDir), images, fitImages, k: spec.evaluation.uncertaintySamples, steps: spec.completion.steps, mask: spec.evaluation.mask, seed: spec.train.seed, settings };
  if (upToDate(file, stamp)) return (JSON.parse(fs.readFileSync(file, 'utf8')) as { result: SigmaNetResult }).result;
  const { model, meta } = loadTrainedModel(r.runDir);
  const size = data.preprocess.size;
  const net = buildSigmaNet(size, settings.seed);
  try {
    const cols = attributeIndices(data.attributeNames, meta.model.attributes);
    const steps = meta.model.decoderSeesObserved ? 1 : spec.completion.steps;
    const progress = (what: string, total: number) => (done: number) => log(`[vii] σ network ${r.row}: ${what} ${done}/${total}`);
    const train = await spreadImages(model, stamp.checkpoint, data, data.splits.train.slice(0, trainFaces), cols, spec, steps, 200_000, settings.samples, progress(`completions of training faces (K = ${settings.samples})`, trainFaces));
    const trainNll = await trainSigmaNet(net, { mean: train.mean, std: train.std, truth: train.x, mask: train.mask, faces: train.faces, size }, settings, (epoch, nll) => log(`[vii] σ network ${r.row}: epoch ${epoch}/${settings.epochs}, training NLL ${nll.toFixed(4)}`));
    const k = spec.evaluation.uncertaintySamples;
    const val = await spreadImages(model, stamp.checkpoint, data, data.splits.val.slice(0, fitImages), cols, spec, steps, 100_000, k);
    const test = await spreadImages(model, stamp.checkpoint, data, data.splits.test.slice(0, images), cols, spec, steps, 0, k, progress(`test faces (K = ${k})`, images));
    const [valNet, testNet] = [await netFaces(net, val, size), await netFaces(net, test, size)];
    const scale = fitScale(poolHoles(valNet));
    const scaled = testNet.map((f) => ({ ...f, std: f.std.map((v) => v * scale) }));
    const valStd = holeValues(val.x, val.mask, val.mean, val.std, val.faces);
    const testStd = holeValues(test.x, test.mask, test.mean, test.std, test.faces);
    const errorModel = fitErrorModel(valStd, size * size * 3);
    const weights = path.join(p.logs, `sigma-net-${r.name}`);
    await writeSigmaNetFiles(weights, net, { scale, size, trainFaces, settings, fittedOn: { run: r.name, split: 'train', scaleOn: `${fitImages} validation faces`, k: settings.samples, steps, mask: spec.evaluation.mask } });
    const result: SigmaNetResult = {
      steps,
      settings,
      trainFaces,
      trainNll,
      scale,
      net: sigmaScores(scaled, subSeed(spec.train.seed, 'ideal-net')),
      ranking: { std: ranking(testStd), errorModel: ranking(testStd.map((f) => withErrorModel(errorModel, f))), net: ranking(scaled) },
      weights,
    };
    writeJsonAtomic(file, { stamp, result });
    const f = (g: SigmaRanking) => `rank ${g.spearmanPerFace.toFixed(3)} / sparsification ${g.sparsificationRatio.toFixed(2)}× (per pixel ${g.pixelSpearmanPerFace.toFixed(3)} / ${g.pixelSparsificationRatio.toFixed(2)}×)`;
    log(`[vii] σ network ${r.row} (${images} test faces): std ${f(result.ranking.std)}; error model ${f(result.ranking.errorModel)}; σ network ${f(result.ranking.net)}, ECE ${result.net.test.ece.toFixed(3)} with σ × ${scale.toFixed(2)}`);
    return result;
  } finally {
    net.dispose();
    model.dispose();
  }
}

/** The learned σ against the std and the error model: how well each ranks the errors, per value and per pixel. */
export function sigmaNetTable(results: Record<string, SigmaNetResult>): ResultTable {
  const cells = (g: SigmaRanking, ece: number | null) => [g.spearmanPerFace, g.sparsificationRatio, g.pixelSpearmanPerFace, g.pixelSparsificationRatio, ece];
  return {
    caption:
      'A learned σ (metrics/sigmaNet.ts: a small CNN reading the mean and log std of the completions, the mask and the position; trained on the completions of training faces by the Laplace likelihood of |error|, its scale fitted on the validation faces) against the completions\' std and the error model, on the same test completions (Gibbs chain, K as above). ' +
      'Rank corr.: Spearman of σ and |error| per face, averaged; sparsification: the area under the mean error left as the most uncertain are removed, over the oracle\'s (1 = the oracle). Per value: each pixel\'s channels apart (the table above); per pixel: |error| and σ averaged over the channels, as the maps show them. ECE: of the scaled σ (per value).',
    columns: ['rank corr.', 'sparsification ÷ oracle', 'rank corr. (per pixel)', 'sparsification ÷ oracle (per pixel)', 'ECE'],
    digits: [3, 2, 3, 2, 3],
    rows: Object.entries(results).flatMap(([name, u]) => [
      { name: `${name}: std`, cells: cells(u.ranking.std, null) },
      { name: `${name}: error model`, cells: cells(u.ranking.errorModel, null) },
      { name: `${name}: σ network (${u.trainFaces} training faces, ${u.settings.epochs} epochs)`, cells: cells(u.ranking.net, u.net.test.ece) },
    ]),
  };
}
