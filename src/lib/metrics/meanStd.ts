/** Mean and population standard deviation (as the paper's "mean ± std" and numpy's std). */
export interface MeanStd {
  mean: number;
  std: number;
}

export function meanStd(values: readonly number[]): MeanStd {
  if (values.length === 0) throw new Error('meanStd: no values');
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return { mean, std: Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length) };
}
