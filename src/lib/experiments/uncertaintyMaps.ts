import * as tf from '@tensorflow/tfjs';
import { completionSpread } from '../completion';
import { attributeIndices } from '../data/attributes';
import { gatherBatch, type FaceDataset } from '../data/faceDataset';
import { makeMaskBatch, parseMaskSpec } from '../masks';
import { calibrationSummary, holeStdMap, holeValues, poolHoles } from '../metrics/calibration';
import { withErrorModel, type ErrorModel } from '../metrics/errorModel';
import { sigmaNetSigma, type SigmaNetModel } from '../metrics/sigmaNet';
import { ERROR_VMAX, inferno, UNCERTAINTY_VMAX } from '../plots/colormap';
import { gridPng } from '../plots/imageGrid';
import type { ExperimentSpec } from '../spec/experimentSpec';
import { readAndDispose } from '../tensorReads';
import { loadTrainedModel } from '../weights/loadModel';

/**
 * How far to trust each filled pixel, as a figure: K completions of the first `count` test faces by
 * one trained model (z ~ q along the chain), as rows — truth, masked, their per-pixel mean, std,
 * |truth − mean| and, with an error model, the calibrated σ (all on one inferno scale, so a
 * calibrated σ's row looks like the error's) — and the calibration of the std (and of the
 * calibrated σ) on those faces' holes.
 */
export async function uncertaintyMaps(spec: ExperimentSpec, data: FaceDataset, runDir: string, errorModel: ErrorModel | null, o: { k: number; count: number; sigmaNet?: SigmaNetModel | null }) {
  const { k } = o;
  const indices = data.splits.test.slice(0, o.count);
  const { model } = loadTrainedModel(runDir);
  const batch = gatherBatch(data, indices, attributeIndices(data.attributeNames, model.config.attributes));
  const mask = makeMaskBatch(parseMaskSpec(spec.evaluation.mask), indices.length, spec.data.size);
  const y = model.config.attributes.length ? batch.y : null;
  try {
    const { mean, std } = completionSpread(model, batch.x, mask, y, { steps: spec.completion.steps, latent: 'sample', seed: spec.train.seed }, k);
    const learned = o.sigmaNet ? sigmaNetSigma(o.sigmaNet, mean, std, mask) : null;
    const [xs, ms, mus, sds, nets] = (await readAndDispose([batch.x.clone(), mask.clone(), mean, std, ...(learned ? [learned] : [])])) as Float32Array[];
    const n = indices.length;
    const px = spec.data.size * spec.data.size;
    const faces = holeValues(xs, ms, mus, sds, n);
    const calibratedFaces = errorModel ? faces.map((f) => withErrorModel(errorModel, f)) : null;
    const sigma = calibratedFaces?.map((f) => holeStdMap(f, px)) ?? null;
    const learnedFaces = nets ? holeValues(xs, ms, mus, nets, n) : null;
    const learnedMaps = learnedFaces?.map((f) => holeStdMap(f, px)) ?? null;
    const rowCount = 5 + Number(!!errorModel) + Number(!!learnedFaces);
    const rows = new Uint8Array(rowCount * n * px * 3);
    const put = (row: number, i: number, p: number, rgb: ArrayLike<number>) => rows.set(rgb, ((row * n + i) * px + p) * 3);
    for (let i = 0; i < n; i++) {
      for (let p = 0; p < px; p++) {
        const at = (i * px + p) * 3;
        const observed = ms[i * px + p] > 0.5;
        const truth = [0, 1, 2].map((c) => Math.round(xs[at + c] * 255));
        const sd = (sds[at] + sds[at + 1] + sds[at + 2]) / 3;
        const err = (Math.abs(xs[at] - mus[at]) + Math.abs(xs[at + 1] - mus[at + 1]) + Math.abs(xs[at + 2] - mus[at + 2])) / 3;
        put(0, i, p, truth);
        put(1, i, p, observed ? truth : [128, 128, 128]);
        put(2, i, p, [0, 1, 2].map((c) => Math.round(Math.min(1, Math.max(0, mus[at + c])) * 255)));
        put(3, i, p, observed ? [0, 0, 4] : inferno(sd / UNCERTAINTY_VMAX));
        put(4, i, p, observed ? [0, 0, 4] : inferno(err / ERROR_VMAX));
        if (sigma) put(5, i, p, observed ? [0, 0, 4] : inferno(sigma[i][p] / ERROR_VMAX));
        if (learnedMaps) put(rowCount - 1, i, p, observed ? [0, 0, 4] : inferno(learnedMaps[i][p] / ERROR_VMAX));
      }
    }
    const png = await gridPng({ data: rows, shape: [rowCount * n, spec.data.size, spec.data.size, 3] }, { columns: n, scale: spec.data.size < 64 ? 2 : 1 });
    const calibration = calibrationSummary(poolHoles(faces));
    const calibrated = calibratedFaces ? calibrationSummary(poolHoles(calibratedFaces)) : null;
    const network = learnedFaces ? calibrationSummary(poolHoles(learnedFaces)) : null;
    const labels = ['truth', 'masked', `mean of ${k}`, `std (inferno, top ${UNCERTAINTY_VMAX})`, `|truth − mean| (inferno, top ${ERROR_VMAX})`, ...(errorModel ? ['calibrated σ (error model, as |truth − mean|)'] : []), ...(learnedFaces ? ['learned σ (σ network, as |truth − mean|)'] : [])];
    return { png, calibration, calibrated, network, config: { rows: labels, k, faces: `first ${n} test faces`, mask: spec.evaluation.mask, steps: spec.completion.steps, seed: spec.train.seed, calibration, calibrated, ...(network ? { network } : {}) } };
  } finally {
    tf.dispose([batch.x, batch.y, mask]);
    model.dispose();
  }
}
