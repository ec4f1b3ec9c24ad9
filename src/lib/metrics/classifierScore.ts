import { meanStd } from './meanStd';

/**
 * The Inception-score formula exp(E_x KL(p(y|x) ‖ p(y))) over `splits` equal parts, mean ± std
 * (Salimans et al. 2016). Which classifier gives p(y|x) decides what the number is called.
 */
export function classifierScore(probs: Float32Array, classes: number, splits = 10): { mean: number; std: number } {
  const n = probs.length / classes;
  if (!Number.isInteger(n) || n < splits) throw new Error(`classifier score: ${n} images cannot be split into ${splits} parts`);
  const scores: number[] = [];
  for (let s = 0; s < splits; s++) {
    const lo = Math.floor((s * n) / splits);
    const hi = Math.floor(((s + 1) * n) / splits);
    const marginal = new Float64Array(classes);
    for (let i = lo; i < hi; i++) for (let k = 0; k < classes; k++) marginal[k] += probs[i * classes + k] / (hi - lo);
    let kl = 0;
    for (let i = lo; i < hi; i++) {
      for (let k = 0; k < classes; k++) {
        const p = probs[i * classes + k];
        if (p > 0) kl += p * (Math.log(p) - Math.log(marginal[k] + 1e-16));
      }
    }
    scores.push(Math.exp(kl / (hi - lo)));
  }
  return meanStd(scores);
}
