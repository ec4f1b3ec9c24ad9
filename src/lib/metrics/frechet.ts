import { EigenvalueDecomposition, Matrix } from 'ml-matrix';

/**
 * The Fréchet distance between two Gaussians fitted to feature sets (Heusel et al. 2017):
 * ‖μ_a − μ_b‖² + Tr Σ_a + Tr Σ_b − 2 Tr (Σ_a Σ_b)^{1/2}, with unbiased covariances (n − 1), as
 * pytorch-fid and TTUR compute it.
 *
 * Tr (Σ_a Σ_b)^{1/2} is the nuclear norm of L_aᵀ L_b for any factors Σ = L Lᵀ (the eigenvalues
 * of Σ_a Σ_b are those of (L_aᵀ L_b)(L_aᵀ L_b)ᵀ). With fewer images than feature dimensions
 * (900 faces, 2,048 Inception features) L = Xᵀ_centred / √(n − 1) is thin, so no d × d square root
 * is ever formed and no singular covariance needs regularising.
 */
export function frechetDistance(a: Float32Array, b: Float32Array, dim: number): number {
  const A = centred(a, dim, 'a');
  const B = centred(b, dim, 'b');
  let meanTerm = 0;
  for (let j = 0; j < dim; j++) meanTerm += (A.mean[j] - B.mean[j]) ** 2;
  const la = factor(A);
  const lb = factor(B);
  const cross = la.transpose().mmul(lb);
  // Nuclear norm: √ of the eigenvalues of the smaller Gram matrix.
  const gram = cross.rows <= cross.columns ? cross.mmul(cross.transpose()) : cross.transpose().mmul(cross);
  const eig = new EigenvalueDecomposition(gram, { assumeSymmetric: true }).realEigenvalues;
  const traceSqrt = eig.reduce((s, v) => s + Math.sqrt(Math.max(v, 0)), 0);
  return meanTerm + A.trace + B.trace - 2 * traceSqrt;
}

interface Centred {
  n: number;
  mean: Float64Array;
  /** n × d, rows minus the mean. */
  x: Matrix;
  /** Tr Σ. */
  trace: number;
}

function centred(values: Float32Array, dim: number, which: string): Centred {
  if (!Number.isInteger(dim) || dim < 1) throw new Error(`frechetDistance: feature dimension ${dim} must be a positive integer`);
  if (values.length % dim !== 0) throw new Error(`frechetDistance: set ${which} has ${values.length} values, not a multiple of the dimension ${dim}`);
  const n = values.length / dim;
  if (n < 2) throw new Error(`frechetDistance: set ${which} has ${n} feature vector(s); a covariance needs at least 2`);
  const mean = new Float64Array(dim);
  for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) mean[j] += values[i * dim + j] / n;
  const x = new Matrix(n, dim);
  let sq = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < dim; j++) {
      const v = values[i * dim + j] - mean[j];
      if (!Number.isFinite(v)) throw new Error(`frechetDistance: set ${which} has a non-finite feature (row ${i}, column ${j})`);
      x.set(i, j, v);
      sq += v * v;
    }
  }
  return { n, mean, x, trace: sq / (n - 1) };
}

/** A d × k factor L with Σ = L Lᵀ: the scaled data when n ≤ d, else the eigen square root V √Λ. */
function factor(c: Centred): Matrix {
  const dim = c.x.columns;
  if (c.n <= dim) return c.x.transpose().div(Math.sqrt(c.n - 1));
  const sigma = c.x.transpose().mmul(c.x).div(c.n - 1);
  const e = new EigenvalueDecomposition(sigma, { assumeSymmetric: true });
  const v = e.eigenvectorMatrix;
  e.realEigenvalues.forEach((lambda, k) => {
    const s = Math.sqrt(Math.max(lambda, 0));
    for (let j = 0; j < dim; j++) v.set(j, k, v.get(j, k) * s);
  });
  return v;
}
