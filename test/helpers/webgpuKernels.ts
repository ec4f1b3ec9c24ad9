/**
 * Every kernel the models, the perceptual loss and the metrics use, forward and gradient, on
 * webgpu and on the cpu backend in one process: for each case, y = f(x…) and the gradient of
 * Σ w ⊙ y (w random, so the whole Jacobian is exercised) with respect to every input. Prints one
 * JSON line: per case, the largest relative error (‖a − b‖ / ‖b‖) over y and the gradients.
 */
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../src/lib/backend/selectBackend';
import { relativeError } from './compare';

type Case = { name: string; shapes: number[][]; f: (...xs: tf.Tensor[]) => tf.Tensor; positive?: boolean; /** Given inputs instead of random ones. */ values?: number[][] };
const t4 = (x: tf.Tensor) => x as tf.Tensor4D;

const CASES: Case[] = [
  // VAE encoder / decoder (tf.layers: conv2d, conv2dTranspose, dense, leaky ReLU, sigmoid, concat with y, FiLM)
  { name: 'conv2d 4×4 stride 2 same', shapes: [[2, 16, 16, 4], [4, 4, 4, 8]], f: (x, k) => tf.conv2d(t4(x), t4(k), 2, 'same') },
  { name: 'conv2d 3×3 stride 1 same', shapes: [[2, 8, 8, 6], [3, 3, 6, 5]], f: (x, k) => tf.conv2d(t4(x), t4(k), 1, 'same') },
  { name: 'conv2dTranspose 4×4 stride 2 same', shapes: [[2, 8, 8, 8], [4, 4, 3, 8]], f: (x, k) => tf.conv2dTranspose(t4(x), t4(k), [2, 16, 16, 3], 2, 'same') },
  // The project's filter-gradient GEMM (src/lib/backend/webgpu): several K and N tiles, split-K
  // with a ragged last split, stride 2 with 'valid' padding, explicit padding
  { name: 'filter gradient: 3 K tiles × 2 N tiles, 4 splits', shapes: [[4, 16, 16, 20], [3, 3, 20, 70]], f: (x, k) => tf.conv2d(t4(x), t4(k), 1, 'same') },
  { name: 'filter gradient: ragged last split (M = 600)', shapes: [[5, 15, 13, 5], [4, 4, 5, 9]], f: (x, k) => tf.conv2d(t4(x), t4(k), 1, 'valid') },
  { name: 'filter gradient: stride 2 valid, first-layer shape', shapes: [[8, 33, 33, 3], [4, 4, 3, 32]], f: (x, k) => tf.conv2d(t4(x), t4(k), 2, 'valid') },
  { name: 'filter gradient: explicit padding', shapes: [[2, 9, 9, 3], [3, 3, 3, 4]], f: (x, k) => tf.conv2d(t4(x), t4(k), 1, [[0, 0], [2, 0], [0, 1], [0, 0]]) },
  // The project's input-gradient GEMM (Conv2DBackpropInput: every conv's dx and every conv2dTranspose):
  // the three tile widths, phases of unequal size, non-square strides with explicit padding, 1×1
  { name: 'input gradient: conv2dTranspose 4×4 s2 to 3 channels (narrow tile, K = 80)', shapes: [[2, 16, 16, 20], [4, 4, 3, 20]], f: (x, k) => tf.conv2dTranspose(t4(x), t4(k), [2, 32, 32, 3], 2, 'same') },
  { name: 'input gradient: 3×3 stride 2 on 9×9 (phases of 5 and 4 rows), 10 channels', shapes: [[2, 9, 9, 10], [3, 3, 10, 12]], f: (x, k) => tf.conv2d(t4(x), t4(k), 2, 'same') },
  { name: 'input gradient: 1×1, 70 channels (two N tiles)', shapes: [[2, 6, 6, 70], [1, 1, 70, 24]], f: (x, k) => tf.conv2d(t4(x), t4(k), 1, 'valid') },
  { name: 'input gradient: strides [2, 3], explicit padding', shapes: [[2, 11, 10, 5], [4, 4, 5, 9]], f: (x, k) => tf.conv2d(t4(x), t4(k), [2, 3], [[0, 0], [1, 2], [0, 1], [0, 0]]) },
  { name: 'fused conv2d + bias + relu', shapes: [[2, 8, 8, 4], [3, 3, 4, 6], [6]], f: (x, k, b) => tf.fused.conv2d({ x: t4(x), filter: t4(k), strides: 1, pad: 'same', bias: b, activation: 'relu' }) },
  { name: 'matMul (dense)', shapes: [[4, 32], [32, 16]], f: (a, b) => tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D) },
  { name: 'leakyRelu', shapes: [[4, 33]], f: (x) => tf.leakyRelu(x, 0.2) },
  { name: 'relu', shapes: [[4, 33]], f: (x) => tf.relu(x) },
  { name: 'sigmoid', shapes: [[4, 33]], f: (x) => tf.sigmoid(x) },
  { name: 'concat + tile (y into z and into maps)', shapes: [[3, 5], [3, 2]], f: (a, b) => tf.tile(tf.concat([a, b], 1), [2, 3]) },
  { name: 'FiLM: x ⊙ (1 + s) + t broadcast', shapes: [[2, 4, 4, 3], [2, 1, 1, 3], [2, 1, 1, 3]], f: (x, s, t) => tf.add(tf.mul(x, tf.add(1, s)), t) },
  { name: 'reshape + flatten', shapes: [[2, 4, 4, 3]], f: (x) => tf.reshape(x, [2, 48]) },
  // Reparameterisation and KL
  { name: 'exp, log, square, sub (KL)', shapes: [[4, 8], [4, 8]], f: (mu, lv) => tf.sum(tf.sub(tf.add(tf.square(mu), tf.exp(lv)), tf.add(lv, 1)), 1) },
  { name: 'log of positive values', shapes: [[4, 8]], f: (x) => tf.log(x), positive: true },
  // Perceptual loss: MobileNetV2 (depthwise conv, ReLU6, pad) and the squared feature difference
  { name: 'depthwiseConv2d 3×3 stride 1', shapes: [[2, 8, 8, 6], [3, 3, 6, 1]], f: (x, k) => tf.depthwiseConv2d(t4(x), t4(k), 1, 'same') },
  { name: 'depthwiseConv2d 3×3 stride 2 valid after pad', shapes: [[2, 9, 9, 6], [3, 3, 6, 1]], f: (x, k) => tf.depthwiseConv2d(tf.pad(t4(x), [[0, 0], [0, 1], [0, 1], [0, 0]]), t4(k), 2, 'valid') },
  // The project's depthwise input gradient (channels in fours; 6 channels above take tfjs' kernel)
  { name: 'depthwise input gradient: 3×3 stride 1 same, 8 channels', shapes: [[2, 7, 9, 8], [3, 3, 8, 1]], f: (x, k) => tf.depthwiseConv2d(t4(x), t4(k), 1, 'same') },
  { name: 'depthwise input gradient: 3×3 stride 2 valid on 10×11 after pad, 12 channels', shapes: [[2, 10, 11, 12], [3, 3, 12, 1]], f: (x, k) => tf.depthwiseConv2d(tf.pad(t4(x), [[0, 0], [0, 1], [0, 1], [0, 0]]), t4(k), 2, 'valid') },
  { name: 'relu6', shapes: [[4, 33]], f: (x) => tf.relu6(tf.mul(x, 8)) },
  // The fused activation gradient (one dispatch) at its edges: x = 0 and 6 exactly, either side
  { name: 'relu6 and leakyRelu at 0 and 6', shapes: [[12]], values: [[-7, -1, -1e-7, 0, 1e-7, 3, 6 - 1e-6, 6, 6 + 1e-6, 7, 0, 6]], f: (x) => tf.add(tf.relu6(x), tf.leakyRelu(x, 0.2)) },
  { name: 'squaredDifference + mean', shapes: [[2, 4, 4, 3], [2, 4, 4, 3]], f: (a, b) => tf.mean(tf.squaredDifference(a, b), [1, 2]) },
  // Metrics: SSIM (Gaussian window as a conv), LPIPS (channel norm), Inception score resize, pools
  { name: 'SSIM-style: conv with a fixed window, div, sqrt', shapes: [[2, 16, 16, 1], [11, 11, 1, 1]], f: (x, k) => tf.div(tf.conv2d(t4(x), t4(tf.abs(k)), 1, 'valid'), tf.add(tf.sqrt(tf.abs(tf.conv2d(t4(tf.square(x)), t4(tf.abs(k)), 1, 'valid'))), 0.01)) },
  { name: 'channel unit-normalisation (LPIPS)', shapes: [[2, 4, 4, 8]], f: (x) => tf.div(x, tf.add(tf.sqrt(tf.sum(tf.square(x), 3, true)), 1e-10)) },
  { name: 'resizeBilinear half-pixel (Inception input)', shapes: [[1, 8, 8, 3]], f: (x) => tf.image.resizeBilinear(t4(x), [19, 19], false, true) },
  { name: 'avgPool 3×3 stride 1', shapes: [[2, 8, 8, 4]], f: (x) => tf.avgPool(t4(x), 3, 1, 'valid') },
  { name: 'maxPool 3×3 stride 2', shapes: [[2, 9, 9, 4]], f: (x) => tf.maxPool(t4(x), 3, 2, 'valid') },
  { name: 'softmax', shapes: [[3, 10]], f: (x) => tf.softmax(x) },
  { name: 'batchNorm (frozen, eval)', shapes: [[2, 4, 4, 3], [3], [3], [3], [3]], f: (x, m, v, o, s) => tf.batchNorm(t4(x), m, tf.add(tf.abs(v), 0.5), o, s, 1e-3) },
  // Completion: masked blend, clip
  { name: 'masked blend + clip', shapes: [[2, 8, 8, 3], [2, 8, 8, 3]], f: (a, b) => tf.clipByValue(tf.add(tf.mul(a, 0.3), tf.mul(b, 0.7)), -0.5, 0.5) },
];

/** Seeded inputs as plain arrays, so both backends get identical values. */
function inputs(c: Case, seed: number): Float32Array[] {
  let s = seed;
  const next = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
  if (c.values) return c.values.map((v) => Float32Array.from(v));
  return c.shapes.map((shape) => Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => (c.positive ? Math.abs(next()) + 0.1 : next())));
}

async function evaluate(c: Case, values: Float32Array[], weightSeed: number): Promise<Float32Array[]> {
  const xs = values.map((v, i) => tf.tensor(v, c.shapes[i]));
  const y = c.f(...xs);
  const w = tf.randomUniform(y.shape, -1, 1, 'float32', weightSeed);
  const grads = tf.grads((...args: tf.Tensor[]) => tf.sum(tf.mul(c.f(...args), w)))(xs);
  const out = (await Promise.all([y, ...grads].map((t) => t.data()))) as Float32Array[];
  tf.dispose([...xs, y, w, ...grads]);
  return out;
}

async function main(): Promise<void> {
  const info = await selectBackend({ force: 'webgpu', quiet: true });
  if (info.name !== 'webgpu') throw new Error(`expected webgpu, got ${info.name}`);
  // tfjs-backend-webgpu runs ops on small CPU-resident tensors with its CPU kernels; check the WGSL ones.
  tf.env().set('WEBGPU_CPU_FORWARD', false);
  const results: Record<string, number> = {};
  for (const [i, c] of CASES.entries()) {
    const values = inputs(c, 1000 + i);
    await tf.setBackend('webgpu');
    const gpu = await evaluate(c, values, i);
    await tf.setBackend('cpu');
    const cpu = await evaluate(c, values, i);
    results[c.name] = Math.max(...gpu.map((g, k) => relativeError(g, cpu[k])));
  }
  console.log(JSON.stringify({ adapter: info.adapter, ownKernels: info.ownKernels, results }));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
