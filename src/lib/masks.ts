import * as tf from '@tensorflow/tfjs';
import { createRng, subSeed, type Rng } from './rng';

/**
 * Inpainting masks. Convention everywhere in the project: m = 1 on observed pixels, 0 on the hole.
 *
 * - centre: the paper's central square hole, side = fraction × image size.
 * - box: one random rectangular hole per image (sides 25–50 % of the image), seeded.
 * - half: the left/right/top/bottom half is missing.
 * - free: free-form brush strokes (as in partial-convolution / gated-convolution papers), seeded.
 * - rect: one fixed rectangle, TOP,LEFT,HEIGHT,WIDTH as fractions of the image: a hole over a
 *   chosen region (e.g. `rect:0.62,0.25,0.3,0.5` hides the mouth and chin of an aligned CelebA face,
 *   which the paper's centre hole leaves observed).
 */
export type MaskSpec =
  | { kind: 'centre'; fraction: number }
  | { kind: 'box'; seed: number }
  | { kind: 'half'; side: 'left' | 'right' | 'top' | 'bottom' }
  | { kind: 'free'; seed: number }
  | { kind: 'rect'; top: number; left: number; height: number; width: number };

export class MaskSpecError extends Error {}

/** Parse `centre:0.5`, `box:SEED`, `half:left`, `free:SEED`, `rect:T,L,H,W` (the CLI / config syntax). */
export function parseMaskSpec(text: string): MaskSpec {
  const [kind, arg, ...rest] = text.trim().split(':');
  const fail = (why: string): never => {
    throw new MaskSpecError(`mask "${text}": ${why} (expected centre:FRACTION, box:SEED, half:left|right|top|bottom, free:SEED or rect:TOP,LEFT,HEIGHT,WIDTH)`);
  };
  if (rest.length > 0) fail('too many ":" parts');
  const seedOf = (): number => {
    const seed = arg === undefined ? 0 : Number(arg);
    if (!Number.isInteger(seed) || seed < 0) fail(`seed "${arg}" is not a non-negative integer`);
    return seed;
  };
  switch (kind) {
    case 'centre':
    case 'center': {
      const fraction = arg === undefined ? 0.5 : Number(arg);
      if (!(fraction > 0 && fraction < 1)) fail(`fraction "${arg}" must be a number in (0, 1)`);
      return { kind: 'centre', fraction };
    }
    case 'box':
      return { kind: 'box', seed: seedOf() };
    case 'free':
      return { kind: 'free', seed: seedOf() };
    case 'rect': {
      const parts = (arg ?? '').split(',');
      const v = parts.map(Number);
      if (parts.length !== 4 || v.some((x) => !Number.isFinite(x))) fail('expected four numbers TOP,LEFT,HEIGHT,WIDTH');
      const [top, left, height, width] = v;
      if (top < 0 || left < 0 || !(height > 0) || !(width > 0)) fail('TOP and LEFT must be ≥ 0, HEIGHT and WIDTH > 0');
      if (top + height > 1 + 1e-9 || left + width > 1 + 1e-9) fail('the rectangle must lie inside the image (TOP + HEIGHT ≤ 1, LEFT + WIDTH ≤ 1)');
      if (height * width >= 1 - 1e-9) fail('the rectangle covers the whole image; nothing would be observed');
      return { kind: 'rect', top, left, height, width };
    }
    case 'half':
      if (arg !== 'left' && arg !== 'right' && arg !== 'top' && arg !== 'bottom') fail(`side "${arg}" is not left, right, top or bottom`);
      return { kind: 'half', side: arg as 'left' | 'right' | 'top' | 'bottom' };
    default:
      return fail(`unknown kind "${kind}"`);
  }
}

export function formatMaskSpec(spec: MaskSpec): string {
  switch (spec.kind) {
    case 'centre':
      return `centre:${spec.fraction}`;
    case 'half':
      return `half:${spec.side}`;
    case 'rect':
      return `rect:${[spec.top, spec.left, spec.height, spec.width].join(',')}`;
    default:
      return `${spec.kind}:${spec.seed}`;
  }
}

/** Throws when the mask cannot be drawn at this resolution (e.g. a centre hole under one pixel). */
export function validateMaskForSize(spec: MaskSpec, size: number): void {
  if (!Number.isInteger(size) || size < 4) throw new MaskSpecError(`image size ${size} is too small for a mask (need an integer ≥ 4)`);
  if (spec.kind === 'centre') {
    const side = Math.round(spec.fraction * size);
    if (side < 1 || side >= size) {
      throw new MaskSpecError(`mask ${formatMaskSpec(spec)} gives a ${side}-pixel hole at ${size}×${size}; it must be 1..${size - 1} pixels`);
    }
  }
  if (spec.kind === 'rect') {
    const { h, w } = rectPixels(spec, size);
    if (h < 1 || w < 1 || h * w >= size * size) throw new MaskSpecError(`mask ${formatMaskSpec(spec)} gives a ${h}×${w}-pixel hole at ${size}×${size}; it must hide at least one pixel and leave at least one observed`);
  }
}

/** A rect spec in pixels: edges rounded to the nearest pixel boundary. */
function rectPixels(spec: Extract<MaskSpec, { kind: 'rect' }>, size: number): { y0: number; x0: number; h: number; w: number } {
  const y0 = Math.round(spec.top * size);
  const x0 = Math.round(spec.left * size);
  return { y0, x0, h: Math.round((spec.top + spec.height) * size) - y0, w: Math.round((spec.left + spec.width) * size) - x0 };
}

function fillRect(m: Float32Array, size: number, x0: number, y0: number, w: number, h: number): void {
  for (let y = Math.max(0, y0); y < Math.min(size, y0 + h); y++) {
    for (let x = Math.max(0, x0); x < Math.min(size, x0 + w); x++) m[y * size + x] = 0;
  }
}

function fillDisc(m: Float32Array, size: number, cx: number, cy: number, r: number): void {
  for (let y = Math.max(0, Math.floor(cy - r)); y <= Math.min(size - 1, Math.ceil(cy + r)); y++) {
    for (let x = Math.max(0, Math.floor(cx - r)); x <= Math.min(size - 1, Math.ceil(cx + r)); x++) {
      if ((x - cx) ** 2 + (y - cy) ** 2 <= r * r) m[y * size + x] = 0;
    }
  }
}

function drawStrokes(m: Float32Array, size: number, rng: Rng): void {
  const strokes = rng.int(2, 5);
  for (let s = 0; s < strokes; s++) {
    let x = rng.next() * size;
    let y = rng.next() * size;
    let angle = rng.next() * 2 * Math.PI;
    const radius = size * (0.03 + 0.04 * rng.next());
    const vertices = rng.int(3, 7);
    for (let v = 0; v < vertices; v++) {
      angle += (rng.next() - 0.5) * Math.PI * 0.8;
      const length = size * (0.1 + 0.2 * rng.next());
      const steps = Math.ceil(length / Math.max(radius / 2, 0.5));
      for (let k = 0; k <= steps; k++) fillDisc(m, size, x + (Math.cos(angle) * length * k) / steps, y + (Math.sin(angle) * length * k) / steps, radius);
      x = Math.min(size - 1, Math.max(0, x + Math.cos(angle) * length));
      y = Math.min(size - 1, Math.max(0, y + Math.sin(angle) * length));
    }
  }
}

/** One mask as a [size*size] array (1 = observed). `index` selects the image within a seeded stream. */
export function maskPixels(spec: MaskSpec, size: number, index = 0): Float32Array {
  validateMaskForSize(spec, size);
  const m = new Float32Array(size * size).fill(1);
  switch (spec.kind) {
    case 'centre': {
      const side = Math.round(spec.fraction * size);
      const o = Math.floor((size - side) / 2);
      fillRect(m, size, o, o, side, side);
      break;
    }
    case 'half': {
      const h = size / 2;
      if (spec.side === 'left') fillRect(m, size, 0, 0, h, size);
      if (spec.side === 'right') fillRect(m, size, h, 0, size - h, size);
      if (spec.side === 'top') fillRect(m, size, 0, 0, size, h);
      if (spec.side === 'bottom') fillRect(m, size, 0, h, size, size - h);
      break;
    }
    case 'box': {
      const rng = createRng(subSeed(spec.seed, `box-${index}`));
      const w = rng.int(Math.ceil(size * 0.25), Math.floor(size * 0.5) + 1);
      const h = rng.int(Math.ceil(size * 0.25), Math.floor(size * 0.5) + 1);
      fillRect(m, size, rng.int(0, size - w + 1), rng.int(0, size - h + 1), w, h);
      break;
    }
    case 'rect': {
      const { y0, x0, h, w } = rectPixels(spec, size);
      fillRect(m, size, x0, y0, w, h);
      break;
    }
    case 'free':
      drawStrokes(m, size, createRng(subSeed(spec.seed, `free-${index}`)));
      break;
  }
  return m;
}

/**
 * Masks for a batch as a [n, size, size, 1] tensor. `offset` is the index of the first image in
 * its seeded stream, so image i of a data set always gets the same random mask.
 */
export function makeMaskBatch(spec: MaskSpec, n: number, size: number, offset = 0): tf.Tensor4D {
  const data = new Float32Array(n * size * size);
  for (let i = 0; i < n; i++) data.set(maskPixels(spec, size, offset + i), i * size * size);
  return tf.tensor4d(data, [n, size, size, 1]);
}
