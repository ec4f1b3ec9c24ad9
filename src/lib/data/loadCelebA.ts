import * as fs from 'fs';
import * as path from 'path';
import { parseAttributeFile, parsePartitionFile, DataFormatError } from './attributes';
import { cacheFile, cacheKey, readCache, writeCache } from './imageCache';
import { loadFaceImage, mapLimited, validatePreprocess, DEFAULT_PREPROCESS, type PreprocessSpec } from './preprocess';
import { seededSplit, type FaceDataset, type SplitFractions, type SplitName } from './faceDataset';

export interface LoadOptions {
  /** Folder in the official CelebA layout. */
  dir: string;
  preprocess?: PreprocessSpec;
  /** Load only the first N images of the attribute file. */
  limit?: number;
  /** Skip unreadable or missing images with a warning instead of failing. */
  skipBad?: boolean;
  /** Seed of the split used when there is no list_eval_partition.txt. */
  seed?: number;
  split?: SplitFractions;
  /** Where the binary cache lives; null disables it. */
  cacheDir?: string | null;
  kind?: FaceDataset['kind'];
  onProgress?: (done: number, total: number) => void;
  log?: (message: string) => void;
}

export const ATTRIBUTE_FILE = 'list_attr_celeba.txt';
export const PARTITION_FILE = 'list_eval_partition.txt';

/** `img_align_celeba/` or any resolution of it (e.g. `img_align_celeba_half/`). */
export function findImageDir(root: string): string {
  if (!fs.existsSync(root) || !fs.statSync(root).isDirectory()) {
    throw new DataFormatError(root, null, 'data folder not found (expected the CelebA layout: img_align_celeba*/ and list_attr_celeba.txt)');
  }
  const names = fs.readdirSync(root).filter((n) => n.startsWith('img_align_celeba') && fs.statSync(path.join(root, n)).isDirectory());
  if (names.length === 0) throw new DataFormatError(root, null, 'no img_align_celeba* image folder in it');
  names.sort((a, b) => (a === 'img_align_celeba' ? -1 : b === 'img_align_celeba' ? 1 : a.localeCompare(b)));
  return path.join(root, names[0]);
}

/** Load a CelebA-layout folder: attributes, splits and preprocessed pixels (from cache when valid). */
export async function loadCelebA(options: LoadOptions): Promise<FaceDataset> {
  const spec = options.preprocess ?? DEFAULT_PREPROCESS;
  validatePreprocess(spec);
  const log = options.log ?? ((m: string) => console.warn(m));
  const root = path.resolve(options.dir);
  const imageDir = findImageDir(root);
  const table = parseAttributeFile(path.join(root, ATTRIBUTE_FILE));
  if (table.images.length === 0) throw new DataFormatError(path.join(root, ATTRIBUTE_FILE), null, 'lists no images (an attribute file with a header and no rows); expected one row per face');
  const limit = options.limit ?? table.images.length;
  if (!Number.isInteger(limit) || limit < 1) throw new Error(`${root}: data limit ${options.limit} is invalid; expected a positive integer (data.limit in a spec, --limit on the command line)`);
  const wanted = table.images.slice(0, limit);

  const stats = wanted.map((image, i) => {
    try {
      const st = fs.statSync(path.join(imageDir, image));
      return [st.size, Math.floor(st.mtimeMs)];
    } catch {
      return [-1, table.lines[i]];
    }
  });
  const key = cacheKey({ imageDir, wanted, stats, spec, skipBad: !!options.skipBad });
  const cacheDir = options.cacheDir === undefined ? path.resolve('data', 'cache') : options.cacheDir;
  const file = cacheDir ? cacheFile(cacheDir, `faces-${spec.size}`, key) : null;
  const cached = file ? readCache(file, key) : null;

  const per = spec.size * spec.size * 3;
  let images: string[];
  let pixels: Uint8Array;
  let skipped: { image: string; reason: string }[];
  if (cached) {
    ({ images, skipped } = cached.header);
    pixels = cached.pixels;
  } else {
    skipped = [];
    let done = 0;
    const decoded = await mapLimited(wanted, 8, async (image, i) => {
      const full = path.join(imageDir, image);
      try {
        if (!fs.existsSync(full)) {
          throw new DataFormatError(table.file, table.lines[i], `image ${image} is listed but ${full} does not exist`);
        }
        const px = await loadFaceImage(full, spec);
        return px;
      } catch (e) {
        if (!options.skipBad) throw e;
        const reason = (e as Error).message;
        skipped.push({ image, reason });
        log(`[vii] warning: skipping ${reason}`);
        return null;
      } finally {
        options.onProgress?.(++done, wanted.length);
      }
    });
    images = wanted.filter((_, i) => decoded[i] !== null);
    pixels = new Uint8Array(images.length * per);
    let row = 0;
    for (const px of decoded) if (px) pixels.set(px, row++ * per);
    if (file) writeCache(file, { version: 1, key, images, skipped, pixelsPerImage: per }, pixels);
  }
  if (images.length === 0) throw new Error(`${imageDir}: no readable images`);

  const rowOf = new Map(table.images.map((name, i) => [name, i]));
  const na = table.names.length;
  const attributes = new Uint8Array(images.length * na);
  images.forEach((name, i) => {
    const r = rowOf.get(name)!;
    attributes.set(table.values.subarray(r * na, (r + 1) * na), i * na);
  });

  const partitionPath = path.join(root, PARTITION_FILE);
  let splits: Record<SplitName, number[]>;
  let partition: FaceDataset['partition'];
  if (fs.existsSync(partitionPath)) {
    const parts = parsePartitionFile(partitionPath);
    splits = { train: [], val: [], test: [] };
    images.forEach((name, i) => {
      const p = parts.get(name);
      if (p === undefined) throw new DataFormatError(partitionPath, null, `image ${name} has no partition entry`);
      splits[(['train', 'val', 'test'] as const)[p]].push(i);
    });
    partition = 'official';
    const empty = (['train', 'val', 'test'] as const).filter((k) => splits[k].length === 0);
    if (empty.length > 0) {
      // --limit keeps only the first (training) images of the official partition: the seeded split is
      // then the expected outcome (the data line says "seeded"); without a limit it is a surprise.
      if (options.limit === undefined) log(`[vii] warning: the official partition leaves the ${empty.join('/')} split empty for these ${images.length} images; using a seeded 80/10/10 split instead`);
      splits = seededSplit(images.length, options.seed ?? 0, options.split);
      partition = 'seeded';
    }
  } else {
    splits = seededSplit(images.length, options.seed ?? 0, options.split);
    partition = 'seeded';
  }

  return {
    kind: options.kind ?? 'celeba',
    root,
    imageDir,
    preprocess: spec,
    images,
    pixels,
    attributeNames: table.names,
    attributes,
    splits,
    partition,
    skipped,
    fromCache: !!cached,
  };
}
