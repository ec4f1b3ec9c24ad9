import * as fs from 'fs';
import { Matrix, solve } from 'ml-matrix';
import { fitScale, poolHoles, type HoleValues } from './calibration';
import { createRng } from '../rng';

/**
 * A calibrated per-pixel σ for a completion, fitted on validation faces (never the test faces).
 * The spread of K completions alone (std over z ~ q) tracks the error weakly: the decoder's
 * likelihood is one fixed Gaussian, so the model has no say in *where* its mean is far off — at
 * the edges of eyes, nostrils and mouth, which in aligned faces sit at nearly fixed places. The
 * error model adds two heteroscedastic terms the completion itself provides or the validation
 * faces measure:
 *   log σ̂ = w₁ log(std + ε) + w₂ log(|∇μ| + ε) + w₃ log(e_pos + ε) + b,   σ = s · σ̂,
 * |∇μ| the mean completion's gradient magnitude, e_pos the mean |error| at that pixel and channel
 * over the validation faces' holes (a position prior; pixels never in a validation hole take its
 * mean). w and b: least squares on log(|error| + ε) over the validation holes; s: the Gaussian
 * likelihood scale of σ̂ on the same faces (fitScale). Four weights, a scale and a map: measured
 * on held-out test faces like the raw std.
 */
export interface ErrorModel {
  weights: { std: number; gradient: number; position: number; bias: number };
  scale: number;
  /** Mean |error| per pixel and channel over the validation holes ([S·S·3], channels interleaved). */
  positionMap: number[];
  /** Validation faces it was fitted on. */
  faces: number;
}

const EPS = 1e-4;
const ERR_EPS = 1e-3;

function positionPrior(faces: readonly HoleValues[], values: number): number[] {
  const sum = new Float64Array(values);
  const count = new Float64Array(values);
  for (const f of faces) {
    for (let j = 0; j < f.mean.length; j++) {
      sum[f.position[j]] += Math.abs(f.truth[j] - f.mean[j]);
      count[f.position[j]]++;
    }
  }
  let total = 0;
  let seen = 0;
  for (let i = 0; i < values; i++) if (count[i] > 0) (total += sum[i]), (seen += count[i]);
  const fallback = seen ? total / seen : 0;
  return Array.from(sum, (v, i) => (count[i] > 0 ? v / count[i] : fallback));
}

function features(h: HoleValues, map: readonly number[], j: number): [number, number, number, number] {
  return [Math.log(h.std[j] + EPS), Math.log(h.gradient[j] + EPS), Math.log(map[h.position[j]] + EPS), 1];
}

/** Fit the error model on validation faces' holes of images with `values` = S·S·3 values. */
export function fitErrorModel(faces: readonly HoleValues[], values: number): ErrorModel {
  const map = positionPrior(faces, values);
  // Normal equations XᵀX w = Xᵀy, accumulated without holding X (millions of rows).
  const xtx = Array.from({ length: 4 }, () => new Float64Array(4));
  const xty = new Float64Array(4);
  let rows = 0;
  for (const f of faces) {
    for (let j = 0; j < f.mean.length; j++) {
      const x = features(f, map, j);
      const y = Math.log(Math.abs(f.truth[j] - f.mean[j]) + ERR_EPS);
      for (let a = 0; a < 4; a++) {
        xty[a] += x[a] * y;
        for (let b = 0; b < 4; b++) xtx[a][b] += x[a] * x[b];
      }
      rows++;
    }
  }
  if (rows < 8) throw new Error(`fitErrorModel: ${rows} hole values; expected validation faces with holes`);
  const w = solve(new Matrix(xtx.map((r) => Array.from(r))), Matrix.columnVector(Array.from(xty))).to1DArray();
  const model: ErrorModel = { weights: { std: w[0], gradient: w[1], position: w[2], bias: w[3] }, scale: 1, positionMap: map, faces: faces.length };
  model.scale = fitScale(poolHoles(faces.map((f) => ({ ...f, std: errorModelSigma(model, f) }))));
  return model;
}

/** σ̂ (before the scale) of each hole value. */
export function errorModelSigma(model: ErrorModel, h: HoleValues): Float32Array {
  const { std, gradient, position, bias } = model.weights;
  return Float32Array.from(h.mean, (_, j) => {
    const [a, b, c] = features(h, model.positionMap, j);
    return Math.exp(std * a + gradient * b + position * c + bias);
  });
}

/** The faces' holes with the error model's σ (scale applied) in place of the raw std. */
export function withErrorModel(model: ErrorModel, h: HoleValues): HoleValues {
  return { ...h, std: errorModelSigma(model, h).map((v) => v * model.scale) };
}

/**
 * The same σ as if it were perfectly calibrated: truths drawn from N(mean, σ²) (seeded). The
 * calibration measures of this ideal are the most a Gaussian σ of this spread can score — with
 * |error| half-normal around σ, even an ideal σ leaves a gap to the oracle's sparsification.
 */
export function idealTruths(h: HoleValues, seed: number): HoleValues {
  const rng = createRng(seed);
  return { ...h, truth: Float32Array.from(h.mean, (m, j) => m + h.std[j] * rng.normal()) };
}

/** The file a model folder may hold: its error model, fitted by the uncertainty stage (models/NAME/error-model.json). */
export const ERROR_MODEL_FILE = 'error-model.json';

/** Read an error model for images of `values` = S·S·3 values; a clear one-line error names the file and what is wrong. */
export function readErrorModel(file: string, values: number): ErrorModel {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: not a readable JSON error model (${(e as Error).message})`);
  }
  const m = (raw as { errorModel?: unknown }).errorModel ?? raw;
  const o = m as Partial<ErrorModel>;
  const w = o.weights as Record<string, unknown> | undefined;
  const finite = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
  if (!w || !['std', 'gradient', 'position', 'bias'].every((k) => finite(w[k]))) throw new Error(`${file}: weights must hold finite numbers std, gradient, position, bias`);
  if (!finite(o.scale) || !(o.scale! > 0)) throw new Error(`${file}: scale ${JSON.stringify(o.scale)}; expected a positive number`);
  if (!Array.isArray(o.positionMap) || o.positionMap.length !== values || !o.positionMap.every((v) => finite(v) && v >= 0)) {
    throw new Error(`${file}: positionMap must be ${values} non-negative numbers (one per pixel and channel of these images), got ${Array.isArray(o.positionMap) ? o.positionMap.length : typeof o.positionMap}`);
  }
  return { weights: { std: w.std as number, gradient: w.gradient as number, position: w.position as number, bias: w.bias as number }, scale: o.scale!, positionMap: o.positionMap, faces: finite(o.faces) ? o.faces! : 0 };
}
