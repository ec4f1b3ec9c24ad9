import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import * as tf from '@tensorflow/tfjs';

export const TELEA_PYTHON = process.env.VII_PYTHON ?? '/usr/bin/python3';
const SCRIPT = path.join(__dirname, 'telea_inpaint.py');

/** Whether the OpenCV baseline can run here (Debian python3-opencv), or why not. */
export function teleaUnavailable(): string | null {
  const r = spawnSync(TELEA_PYTHON, ['-c', 'import cv2, numpy'], { encoding: 'utf8' });
  return r.status === 0 ? null : `${TELEA_PYTHON} cannot import cv2 (apt-get install python3-opencv)`;
}

/** OpenCV Telea inpainting of the hole of each image; observed pixels are put back exactly. */
export async function teleaComplete(x: tf.Tensor4D, mask: tf.Tensor4D): Promise<tf.Tensor4D> {
  const [n, h, w] = x.shape;
  const [xv, mv] = (await Promise.all([x.data(), mask.data()])) as Float32Array[];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vii-telea-'));
  try {
    fs.writeFileSync(path.join(dir, 'x.f32'), Buffer.from(xv.buffer, xv.byteOffset, xv.byteLength));
    fs.writeFileSync(path.join(dir, 'm.f32'), Buffer.from(mv.buffer, mv.byteOffset, mv.byteLength));
    const r = spawnSync(TELEA_PYTHON, [SCRIPT, path.join(dir, 'x.f32'), path.join(dir, 'm.f32'), path.join(dir, 'out.f32'), String(n), String(h), String(w)], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`Telea baseline failed (${TELEA_PYTHON} ${SCRIPT}): ${r.stderr || r.error}`);
    const bytes = fs.readFileSync(path.join(dir, 'out.f32'));
    const out = tf.tensor4d(new Float32Array(bytes.buffer, bytes.byteOffset, n * h * w * 3).slice(), [n, h, w, 3]);
    // uint8 round trip inside OpenCV: restore observed pixels bit-exactly.
    const completed = tf.tidy(() => tf.add(tf.mul(x, mask), tf.mul(out, tf.sub(1, mask))) as tf.Tensor4D);
    out.dispose();
    return completed;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
