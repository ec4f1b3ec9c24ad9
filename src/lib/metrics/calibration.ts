/**
 * How far to trust each filled pixel: measures of whether a predictive spread (the per-pixel std
 * over K completions) matches the actual error. Plain arrays over the hole's pixels (one face or
 * many), no tensors: the callers gather them once.
 *
 * - rank correlation of std with |error| (Spearman, ties averaged);
 * - coverage: the share of true pixels within ±kσ of the mean, against a Gaussian's erf(k/√2), and
 *   the expected calibration error over central intervals (Kuleshov et al. 2018);
 * - sparsification: the mean error left after removing the most uncertain pixels first, against the
 *   oracle that removes the largest errors first (Ilg et al. 2018), and the area between them;
 * - the single scale s of σ (temperature-style) that maximises the Gaussian likelihood.
 */

/** Ranks 1..n, ties given their average rank. */
function ranks(v: ArrayLike<number>): Float64Array {
  const order = Array.from({ length: v.length }, (_, i) => i).sort((a, b) => v[a] - v[b]);
  const r = new Float64Array(v.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && v[order[j + 1]] === v[order[i]]) j++;
    for (let k = i; k <= j; k++) r[order[k]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return r;
}

/** Spearman's rank correlation; NaN when either side is constant. */
export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`spearman: ${a.length} and ${b.length} values; expected equal lengths`);
  const [ra, rb] = [ranks(a), ranks(b)];
  const n = a.length;
  const mean = (n + 1) / 2;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const [x, y] = [ra[i] - mean, rb[i] - mean];
    sab += x * y;
    saa += x * x;
    sbb += y * y;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : NaN;
}

/** erf by Abramowitz–Stegun 7.1.26 (|error| < 1.5e-7): the Gaussian's coverage of ±kσ is erf(k/√2). */
export function erf(x: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return x >= 0 ? y : -y;
}

/** The inverse of erf (Newton on erf), for the interval of a central probability p: ±√2·erf⁻¹(p)·σ. */
export function erfInv(p: number): number {
  if (!(p > -1 && p < 1)) throw new Error(`erfInv(${p}): expected a value in (−1, 1)`);
  let x = 0;
  for (let i = 0; i < 60; i++) x -= (erf(x) - p) / ((2 / Math.sqrt(Math.PI)) * Math.exp(-x * x));
  return x;
}

export interface Predictive {
  mean: ArrayLike<number>;
  std: ArrayLike<number>;
  truth: ArrayLike<number>;
}

function checkLengths(p: Predictive): number {
  const n = p.mean.length;
  if (p.std.length !== n || p.truth.length !== n) throw new Error(`calibration: mean ${n}, std ${p.std.length}, truth ${p.truth.length} values; expected equal lengths`);
  if (n === 0) throw new Error('calibration: no pixels (an empty hole?)');
  return n;
}

/** The share of true values within ±kσ of the mean (σ scaled by `scale`). */
export function coverage(p: Predictive, k: number, scale = 1): number {
  const n = checkLengths(p);
  let inside = 0;
  for (let i = 0; i < n; i++) if (Math.abs(p.truth[i] - p.mean[i]) <= k * scale * p.std[i]) inside++;
  return inside / n;
}

export interface ReliabilityPoint {
  k: number;
  observed: number;
  /** What a Gaussian with this σ would give: erf(k/√2). */
  expected: number;
}

/** Coverage at each k (e.g. 0.5, 1, 2) beside a Gaussian's. */
export function reliabilityDiagram(p: Predictive, ks: readonly number[] = [0.5, 1, 2], scale = 1): ReliabilityPoint[] {
  return ks.map((k) => ({ k, observed: coverage(p, k, scale), expected: erf(k / Math.SQRT2) }));
}

/**
 * Expected calibration error: the mean |observed − expected| coverage over central intervals of
 * probability 0.05, 0.10, …, 0.95 of the Gaussian N(mean, (scale·σ)²).
 */
export function expectedCalibrationError(p: Predictive, scale = 1): number {
  const levels = Array.from({ length: 19 }, (_, i) => (i + 1) * 0.05);
  return levels.reduce((s, q) => s + Math.abs(coverage(p, Math.SQRT2 * erfInv(q), scale) - q), 0) / levels.length;
}

export interface Sparsification {
  /** Fractions of pixels removed (0, 0.05, …, 0.95). */
  fractions: number[];
  /** Mean |error| of what is left, removing the highest σ first. */
  model: number[];
  /** The same, removing the largest |error| first (the best any ordering can do). */
  oracle: number[];
  /** Areas under the two curves (trapezoids over the fractions) and between them (AUSE). */
  modelArea: number;
  oracleArea: number;
  ause: number;
}

function curve(order: number[], err: Float64Array, fractions: number[]): number[] {
  // Suffix sums: the mean error of the pixels after the first `removed` in the order.
  const n = order.length;
  const tail = new Float64Array(n + 1);
  for (let i = n - 1; i >= 0; i--) tail[i] = tail[i + 1] + err[order[i]];
  return fractions.map((f) => {
    const removed = Math.min(n - 1, Math.floor(f * n));
    return tail[removed] / (n - removed);
  });
}

const area = (xs: number[], ys: number[]) => xs.slice(1).reduce((s, x, i) => s + ((x - xs[i]) * (ys[i] + ys[i + 1])) / 2, 0);

export function sparsification(p: Predictive): Sparsification {
  const n = checkLengths(p);
  const err = Float64Array.from({ length: n }, (_, i) => Math.abs(p.truth[i] - p.mean[i]));
  const byStd = Array.from({ length: n }, (_, i) => i).sort((a, b) => p.std[b] - p.std[a]);
  const byErr = Array.from({ length: n }, (_, i) => i).sort((a, b) => err[b] - err[a]);
  const fractions = Array.from({ length: 20 }, (_, i) => i * 0.05);
  const model = curve(byStd, err, fractions);
  const oracle = curve(byErr, err, fractions);
  const [modelArea, oracleArea] = [area(fractions, model), area(fractions, oracle)];
  return { fractions, model, oracle, modelArea, oracleArea, ause: modelArea - oracleArea };
}

/**
 * The one scale s of σ that maximises the Gaussian likelihood of the truth: s² = mean((x − μ)² / σ²).
 * Fitted on a validation split, then applied to the test split's σ.
 */
export function fitScale(p: Predictive, floor = 1e-6): number {
  const n = checkLengths(p);
  let s = 0;
  for (let i = 0; i < n; i++) {
    const d = p.truth[i] - p.mean[i];
    const v = Math.max(p.std[i], floor);
    s += (d * d) / (v * v);
  }
  return Math.sqrt(s / n);
}

/** Everything above for one set of hole pixels: what run.json, figures and tables record. */
export function calibrationSummary(p: Predictive) {
  const n = checkLengths(p);
  const err = Array.from({ length: n }, (_, i) => Math.abs(p.truth[i] - p.mean[i]));
  const sp = sparsification(p);
  const round = (v: number[]) => v.map((x) => Number(x.toPrecision(5)));
  return { pixels: n, spearman: spearman(p.std, err), coverage: reliabilityDiagram(p), ece: expectedCalibrationError(p), scale: fitScale(p), sparsification: { modelArea: sp.modelArea, oracleArea: sp.oracleArea, ause: sp.ause, fractions: round(sp.fractions), model: round(sp.model), oracle: round(sp.oracle) } };
}

/**
 * One face's hole values (channels interleaved): its truth, the completions' per-pixel mean and std,
 * the mean image's gradient magnitude there (central differences, per channel) and each value's
 * position in the image (pixel·3 + channel), what the error model (errorModel.ts) reads.
 */
export interface HoleValues {
  mean: Float32Array;
  std: Float32Array;
  truth: Float32Array;
  gradient: Float32Array;
  position: Int32Array;
}

/** |∇| of channel c of image i of a flat [N, S, S, 3] array at (y, x): central differences, one-sided at the border. */
function gradientAt(a: Float32Array, base: number, size: number, y: number, x: number, c: number): number {
  const at = (yy: number, xx: number) => a[base + (yy * size + xx) * 3 + c];
  const [y0, y1] = [Math.max(0, y - 1), Math.min(size - 1, y + 1)];
  const [x0, x1] = [Math.max(0, x - 1), Math.min(size - 1, x + 1)];
  const gy = (at(y1, x) - at(y0, x)) / Math.max(1, y1 - y0);
  const gx = (at(y, x1) - at(y, x0)) / Math.max(1, x1 - x0);
  return Math.sqrt(gx * gx + gy * gy);
}

/**
 * The hole's values of each face, from flat reads of [N, H, W, 3] truth, mean and std and the
 * [N, H, W, 1] mask (1 = observed): what every calibration measure takes.
 */
export function holeValues(truth: Float32Array, mask: Float32Array, mean: Float32Array, std: Float32Array, faces: number): HoleValues[] {
  const px = mask.length / faces;
  const size = Math.round(Math.sqrt(px));
  return Array.from({ length: faces }, (_, i) => {
    const at: number[] = [];
    for (let p = 0; p < px; p++) if (mask[i * px + p] <= 0.5) for (let c = 0; c < 3; c++) at.push(p * 3 + c);
    const base = i * px * 3;
    return {
      mean: Float32Array.from(at, (j) => mean[base + j]),
      std: Float32Array.from(at, (j) => std[base + j]),
      truth: Float32Array.from(at, (j) => truth[base + j]),
      gradient: Float32Array.from(at, (j) => gradientAt(mean, base, size, Math.floor(j / 3 / size), Math.floor(j / 3) % size, j % 3)),
      position: Int32Array.from(at),
    };
  });
}

/** Spearman of std and |error| within one face's hole (NaN for a hole of fewer than two values or no spread). */
export function faceRankCorrelation(h: HoleValues): number {
  return h.mean.length > 1 ? spearman(h.std, Float32Array.from(h.mean, (m, j) => Math.abs(h.truth[j] - m))) : NaN;
}

/** A face's σ (its hole values' std) as a map over its image's `pixels` pixels, averaged over channels; 0 where observed. */
export function holeStdMap(h: HoleValues, pixels: number): Float32Array {
  const map = new Float32Array(pixels);
  h.std.forEach((v, j) => (map[Math.floor(h.position[j] / 3)] += v / 3));
  return map;
}

/** Many faces' hole values as one pool. */
export function poolHoles(faces: readonly HoleValues[]): HoleValues {
  const join = <K extends keyof HoleValues>(key: K, make: (n: number) => HoleValues[K]): HoleValues[K] => {
    const out = make(faces.reduce((n, f) => n + f[key].length, 0));
    let at = 0;
    for (const f of faces) (out.set(f[key] as never, at), (at += f[key].length));
    return out;
  };
  const floats = (n: number) => new Float32Array(n);
  return { mean: join('mean', floats), std: join('std', floats), truth: join('truth', floats), gradient: join('gradient', floats), position: join('position', (n) => new Int32Array(n)) };
}

/** The average of the faces' rank correlations (faces differ in how hard they are); null when none is defined. */
export function meanFaceRankCorrelation(faces: readonly HoleValues[]): number | null {
  const r = faces.map(faceRankCorrelation).filter(Number.isFinite);
  return r.length ? r.reduce((a, b) => a + b, 0) / r.length : null;
}

/**
 * A face's hole per pixel rather than per value: each pixel's |error| is the mean of its channels'
 * |truth − mean|, its σ the mean of theirs (the maps show σ per pixel this way). Returned as hole
 * values with mean 0 and truth = that |error|, so the rank correlation and sparsification read it;
 * the coverage and ECE of such values mean nothing (|error| is not a Gaussian draw).
 */
export function perPixel(h: HoleValues): HoleValues {
  const at = new Map<number, number>();
  const pixels: number[] = [];
  for (const p of h.position) {
    const px = Math.floor(p / 3);
    if (!at.has(px)) (at.set(px, pixels.length), pixels.push(px));
  }
  const err = new Float32Array(pixels.length);
  const std = new Float32Array(pixels.length);
  const count = new Float32Array(pixels.length);
  h.position.forEach((p, j) => {
    const k = at.get(Math.floor(p / 3))!;
    err[k] += Math.abs(h.truth[j] - h.mean[j]);
    std[k] += h.std[j];
    count[k]++;
  });
  return {
    mean: new Float32Array(pixels.length),
    truth: err.map((e, k) => e / count[k]),
    std: std.map((s, k) => s / count[k]),
    gradient: new Float32Array(pixels.length),
    position: Int32Array.from(pixels),
  };
}
