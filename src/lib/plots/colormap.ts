/** Anchors of the perceptually uniform "inferno" colour map (matplotlib), dark to bright. */
const INFERNO: [number, number, number][] = [
  [0, 0, 4],
  [87, 16, 110],
  [188, 55, 84],
  [249, 142, 9],
  [252, 255, 164],
];

/** t in [0, 1] (clamped) to an RGB byte triple, linear between the anchors. */
export function inferno(t: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (INFERNO.length - 1);
  const i = Math.min(INFERNO.length - 2, Math.floor(x));
  const f = x - i;
  const [a, b] = [INFERNO[i], INFERNO[i + 1]];
  return [0, 1, 2].map((c) => Math.round(a[c] + f * (b[c] - a[c]))) as [number, number, number];
}

/**
 * Colour scale of uncertainty maps: std of pixel values in [0, 1], the top colour at 0.1 (with
 * K = 16, cropped-no-attr-perceptual on the last 8 faces of ../shared/celeba: mean 0.026, max
 * 0.076), the same for every image so maps compare.
 */
export const UNCERTAINTY_VMAX = 0.1;

/**
 * Colour scale of maps of an error's size — |truth − mean| and a σ calibrated to it (the error
 * model's, the σ network's): the top colour at 0.3. Per pixel over the holes of 300 test faces
 * (cropped-no-attr, K = 16, channels averaged; results/logs/perceptual64/uncertainty-map-scale.log)
 * |error| has median 0.067, 90th percentile 0.19, 99th 0.39, and the learned σ median 0.11, 90th
 * 0.18, 99th 0.28: on the std's scale (0.1) half of a learned-σ map was its top colour.
 */
export const ERROR_VMAX = 0.3;
