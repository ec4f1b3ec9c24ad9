import sharp from 'sharp';

/**
 * How a face photo becomes a training image: a centred square crop whose side is `cropFraction`
 * of the image width (148/178 is the usual CelebA recipe, resolution independent), resized to
 * size×size RGB. Recorded in every checkpoint so completion preprocesses exactly as training did.
 */
export interface PreprocessSpec {
  size: number;
  cropFraction: number;
}

export const CELEBA_CROP_FRACTION = 148 / 178;
export const DEFAULT_PREPROCESS: PreprocessSpec = { size: 64, cropFraction: CELEBA_CROP_FRACTION };

export function validatePreprocess(spec: PreprocessSpec): void {
  if (!Number.isInteger(spec.size) || spec.size < 8 || spec.size > 1024) {
    throw new Error(`image size ${spec.size} is invalid; expected an integer in 8..1024 (e.g. 64, or 32 for fast runs)`);
  }
  if (!(spec.cropFraction > 0 && spec.cropFraction <= 1)) {
    throw new Error(`cropFraction ${spec.cropFraction} is invalid; expected a number in (0, 1]`);
  }
}

export class ImageDecodeError extends Error {
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(`${file}: ${detail}`);
    this.name = 'ImageDecodeError';
  }
}

/** Crop box of the spec on a width×height image. */
export function cropBox(width: number, height: number, cropFraction: number) {
  const side = Math.min(Math.round(width * cropFraction), width, height);
  return { left: Math.floor((width - side) / 2), top: Math.floor((height - side) / 2), width: side, height: side };
}

/**
 * Decode, crop and resize one image to size×size×3 uint8 (RGB). A corrupt or truncated file is an
 * ImageDecodeError naming it: libvips' warnings (premature end of data) count as failures.
 */
export async function loadFaceImage(file: string, spec: PreprocessSpec): Promise<Uint8Array> {
  let input: Buffer;
  try {
    input = await import('fs').then((fs) => fs.promises.readFile(file));
  } catch (e) {
    throw new ImageDecodeError(file, `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    const image = sharp(input, { failOn: 'warning' });
    const meta = await image.metadata();
    if (!meta.width || !meta.height) throw new Error('no image dimensions');
    const { data, info } = await image
      .extract(cropBox(meta.width, meta.height, spec.cropFraction))
      .resize(spec.size, spec.size, { kernel: 'lanczos3' })
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3 || data.length !== spec.size * spec.size * 3) {
      throw new Error(`decoded to ${info.width}x${info.height}x${info.channels}, expected ${spec.size}x${spec.size}x3`);
    }
    return new Uint8Array(data.buffer, data.byteOffset, data.length);
  } catch (e) {
    throw new ImageDecodeError(file, `is not a readable image: ${(e as Error).message.split('\n')[0]}`);
  }
}

/** Run `fn` over items with at most `limit` in flight, preserving order of results. */
export async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
