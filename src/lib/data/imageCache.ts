import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { writeFileAtomic } from '../io/atomicWrite';

/**
 * Binary cache of preprocessed pixels: "VIIC" + u32 header length + JSON header + uint8 pixels.
 * The key hashes everything the pixels depend on (folder, file names, sizes, mtimes, recipe),
 * so a changed image or recipe misses the cache instead of returning stale data.
 */
const MAGIC = 'VIIC';
const VERSION = 1;

export interface CacheHeader {
  version: number;
  key: string;
  images: string[];
  skipped: { image: string; reason: string }[];
  pixelsPerImage: number;
}

export function cacheKey(parts: unknown): string {
  return crypto.createHash('sha256').update(JSON.stringify({ v: VERSION, parts })).digest('hex').slice(0, 24);
}

export function cacheFile(cacheDir: string, prefix: string, key: string): string {
  return path.join(cacheDir, `${prefix}-${key}.bin`);
}

export function readCache(file: string, key: string): { header: CacheHeader; pixels: Uint8Array } | null {
  if (!fs.existsSync(file)) return null;
  const buf = fs.readFileSync(file);
  if (buf.length < 8 || buf.toString('ascii', 0, 4) !== MAGIC) return null;
  const headerLength = buf.readUInt32LE(4);
  let header: CacheHeader;
  try {
    header = JSON.parse(buf.toString('utf8', 8, 8 + headerLength)) as CacheHeader;
  } catch {
    return null;
  }
  const offset = 8 + headerLength;
  const expected = header.images.length * header.pixelsPerImage;
  if (header.version !== VERSION || header.key !== key || buf.length - offset !== expected) return null;
  return { header, pixels: new Uint8Array(buf.buffer, buf.byteOffset + offset, expected) };
}

export function writeCache(file: string, header: CacheHeader, pixels: Uint8Array): void {
  const json = Buffer.from(JSON.stringify(header));
  const prefix = Buffer.alloc(8);
  prefix.write(MAGIC, 0, 'ascii');
  prefix.writeUInt32LE(json.length, 4);
  writeFileAtomic(file, Buffer.concat([prefix, json, pixels]));
}
