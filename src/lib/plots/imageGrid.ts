import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';

export interface GridOptions {
  /** Images per row (default: ceil(sqrt(n))). */
  columns?: number;
  /** Pixels between tiles. */
  gap?: number;
  /** Integer upscaling with nearest neighbour, so small faces stay crisp in a notebook. */
  scale?: number;
  background?: [number, number, number];
}

export type GridImages = tf.Tensor4D | { data: Float32Array | Uint8Array; shape: [number, number, number, number] };

/** Pack [N, H, W, C] images in [0, 1] (C = 1 or 3) into one RGB tile sheet, uint8. */
export async function gridPixels(images: GridImages, options: GridOptions = {}) {
  const [n, h, w, c] = images.shape;
  if (c !== 1 && c !== 3) throw new Error(`image grid: expected 1 or 3 channels, got ${c}`);
  const data = images instanceof tf.Tensor ? ((await images.data()) as Float32Array) : images.data;
  const scale255 = data instanceof Uint8Array ? 1 : 255;
  const cols = options.columns ?? Math.ceil(Math.sqrt(n));
  const rows = Math.ceil(n / cols);
  const gap = options.gap ?? 2;
  const bg = options.background ?? [255, 255, 255];
  const W = cols * w + (cols + 1) * gap;
  const H = rows * h + (rows + 1) * gap;
  const out = new Uint8Array(W * H * 3);
  for (let i = 0; i < W * H; i++) out.set(bg, i * 3);
  for (let k = 0; k < n; k++) {
    const ox = gap + (k % cols) * (w + gap);
    const oy = gap + Math.floor(k / cols) * (h + gap);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const src = ((k * h + y) * w + x) * c;
        const dst = ((oy + y) * W + ox + x) * 3;
        for (let ch = 0; ch < 3; ch++) {
          const v = data[src + (c === 1 ? 0 : ch)] * scale255;
          out[dst + ch] = Math.max(0, Math.min(255, Math.round(v)));
        }
      }
    }
  }
  return { pixels: out, width: W, height: H };
}

/** PNG bytes of an image grid. */
export async function gridPng(images: GridImages, options: GridOptions = {}): Promise<Buffer> {
  const { pixels, width, height } = await gridPixels(images, options);
  let img = sharp(Buffer.from(pixels.buffer, pixels.byteOffset, pixels.length), { raw: { width, height, channels: 3 } });
  const scale = options.scale ?? 1;
  if (scale !== 1) img = img.resize(width * scale, height * scale, { kernel: 'nearest' });
  return img.png().toBuffer();
}

/** One PNG per image of a [N, H, W, C] batch in [0, 1] (C = 1 saved as grey, 3 as RGB). */
export async function imagePngs(images: tf.Tensor4D): Promise<Buffer[]> {
  const [n, h, w, c] = images.shape;
  const data = (await images.data()) as Float32Array;
  const per = h * w * c;
  return Promise.all(
    Array.from({ length: n }, (_, i) => {
      const px = Uint8Array.from(data.subarray(i * per, (i + 1) * per), (v) => Math.round(Math.min(1, Math.max(0, v)) * 255));
      return sharp(Buffer.from(px.buffer), { raw: { width: w, height: h, channels: c as 1 | 3 } }).png().toBuffer();
    }),
  );
}
