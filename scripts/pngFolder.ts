// The pilots' reader of a sweep's saved images (a folder of S×S PNGs, in file-name order) as one [N, S, S, 3] tensor in [0, 1].
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';

export async function readPngFolder(dir: string, size = 64): Promise<tf.Tensor4D> {
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.png')).sort();
  if (files.length === 0) throw new Error(`${dir}: no PNG files (expected a sweep's saved images)`);
  const per = size * size * 3;
  const arr = new Float32Array(files.length * per);
  for (const [i, f] of files.entries()) {
    const { data, info } = await sharp(path.join(dir, f)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    if (info.width !== size || info.height !== size || info.channels !== 3) throw new Error(`${path.join(dir, f)}: ${info.width}×${info.height}×${info.channels}, expected ${size}×${size}×3`);
    arr.set(Float32Array.from(data, (v) => v / 255), i * per);
  }
  return tf.tensor4d(arr, [files.length, size, size, 3]);
}
