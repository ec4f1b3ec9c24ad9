import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/lib/backend/selectBackend';
import { wasmOwn } from '../src/lib/backend/wasm/registerWasmKernels';
import { isBatchSpatialSum } from '../src/lib/backend/wasm/spatialSum';
import { relativeError } from './helpers/compare';
import { cpuAndWasm } from './helpers/cpuAndWasm';
import { createRng } from '../src/lib/rng';
import { prefersTransposedProduct } from '../src/lib/backend/wasm/matMulPlan';

type Pad = 'same' | 'valid' | tf.backend_util.ExplicitPadding;
interface Case { n: number; h: number; w: number; ci: number; co: number; k: [number, number]; s: [number, number]; pad: Pad }

const CASES: Case[] = [
  { n: 3, h: 16, w: 16, ci: 3, co: 8, k: [4, 4], s: [2, 2], pad: 'same' },
  { n: 2, h: 15, w: 13, ci: 5, co: 4, k: [3, 3], s: [1, 1], pad: 'same' },
  { n: 2, h: 17, w: 11, ci: 4, co: 6, k: [3, 5], s: [2, 3], pad: 'valid' },
  { n: 1, h: 9, w: 12, ci: 2, co: 3, k: [4, 2], s: [3, 2], pad: 'same' },
  { n: 2, h: 10, w: 10, ci: 3, co: 5, k: [4, 4], s: [2, 2], pad: [[0, 0], [1, 2], [2, 1], [0, 0]] },
  { n: 4, h: 8, w: 8, ci: 16, co: 32, k: [1, 1], s: [1, 1], pad: 'valid' },
  { n: 2, h: 12, w: 12, ci: 3, co: 4, k: [5, 5], s: [2, 2], pad: 'valid' },
  // MobileNetV2's stride-2 3×3 (depthwise): phases of 2×2, 2×1, 1×2 and 1×1 taps
  { n: 2, h: 12, w: 11, ci: 6, co: 4, k: [3, 3], s: [2, 2], pad: 'same' },
  // the VAE's layers: 4×4, stride 2, padding 1
  { n: 2, h: 8, w: 8, ci: 3, co: 4, k: [4, 4], s: [2, 2], pad: [[0, 0], [1, 1], [1, 1], [0, 0]] },
  // 16+ input channels: the interleave moves whole pixels (copyWithin on the wasm heap)
  { n: 2, h: 9, w: 8, ci: 20, co: 6, k: [4, 4], s: [2, 2], pad: 'same' },
  // stride larger than the kernel: phases with no taps are zeros
  { n: 2, h: 9, w: 7, ci: 3, co: 4, k: [1, 1], s: [2, 2], pad: 'valid' },
  // an output gradient of 2^19+ values: the filter gradient runs in 8-channel chunks, the last one short
  { n: 64, h: 42, w: 42, ci: 3, co: 20, k: [4, 4], s: [2, 2], pad: 'same' },
  // padding as large as the kernel: phases start past dy's first rows
  { n: 1, h: 7, w: 9, ci: 2, co: 3, k: [3, 3], s: [2, 2], pad: [[0, 0], [2, 2], [0, 2], [0, 0]] },
];

function randomArray(size: number, seed: number): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: size }, () => rng.normal());
}

/** Gradients of sum(conv2d(x, f) * g) w.r.t. x and f, and the forward of conv2dTranspose. */
async function convGradients(c: Case) {
  const x = tf.tensor4d(randomArray(c.n * c.h * c.w * c.ci, 1), [c.n, c.h, c.w, c.ci]);
  const f = tf.tensor4d(randomArray(c.k[0] * c.k[1] * c.ci * c.co, 2), [c.k[0], c.k[1], c.ci, c.co]);
  const y = tf.conv2d(x, f, c.s, c.pad);
  const g = tf.tensor4d(randomArray(y.size, 3), y.shape);
  const grads = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.s, c.pad), g)));
  const [dx, df] = grads([x, f]);
  const transposed = c.pad === 'same' || c.pad === 'valid' ? tf.conv2dTranspose(g, f, [c.n, c.h, c.w, c.ci], c.s, c.pad) : null;
  const out = { dx: await dx.data(), df: await df.data(), transposed: transposed ? await transposed.data() : null };
  tf.dispose([x, f, y, g, dx, df, transposed ?? []]);
  return out;
}

test('wasm conv gradient kernels agree with the cpu backend (relative error < 1e-4)', async () => {
  const reference = [];
  await selectBackend({ force: 'cpu', quiet: true });
  for (const c of CASES) reference.push(await convGradients(c));
  const info = await selectBackend({ force: 'wasm', quiet: true });
  assert.equal(info.tfBackend, 'wasm');
  const before = tf.memory().numTensors;
  for (const [i, c] of CASES.entries()) {
    const got = await convGradients(c);
    const label = JSON.stringify(c);
    const eFilter = relativeError(got.df, reference[i].df);
    const eInput = relativeError(got.dx, reference[i].dx);
    assert.ok(eFilter < 1e-4, `Conv2DBackpropFilter ${label}: relative error ${eFilter}`);
    assert.ok(eInput < 1e-4, `Conv2DBackpropInput ${label}: relative error ${eInput}`);
    if (got.transposed && reference[i].transposed) {
      const eT = relativeError(got.transposed, reference[i].transposed!);
      assert.ok(eT < 1e-4, `conv2dTranspose ${label}: relative error ${eT}`);
    }
  }
  assert.equal(tf.memory().numTensors, before, 'the kernels leak no tensors');
});

/** Input gradient of sum(depthwiseConv2d(x, f) * g), as MobileNetV2's layers need it. */
async function depthwiseInputGradient(c: Case): Promise<Float32Array> {
  const x = tf.tensor4d(randomArray(c.n * c.h * c.w * c.ci, 4), [c.n, c.h, c.w, c.ci]);
  const f = tf.tensor4d(randomArray(c.k[0] * c.k[1] * c.ci, 5), [c.k[0], c.k[1], c.ci, 1]);
  const pad = c.pad as 'same' | 'valid';
  const g = tf.tidy(() => tf.tensor4d(randomArray(tf.depthwiseConv2d(x, f, c.s, pad).size, 6), tf.depthwiseConv2d(x, f, c.s, pad).shape));
  const dx = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.depthwiseConv2d(a as tf.Tensor4D, f, c.s, pad), g)))(x);
  const out = (await dx.data()) as Float32Array;
  tf.dispose([x, f, g, dx]);
  return out;
}

test('wasm depthwise input gradient agrees with the cpu backend (relative error < 1e-4)', async () => {
  // depthwise convs take equal strides only
  const cases = CASES.filter((c) => (c.pad === 'same' || c.pad === 'valid') && c.s[0] === c.s[1]);
  assert.ok(cases.length >= 4);
  await selectBackend({ force: 'cpu', quiet: true });
  const reference = [];
  for (const c of cases) reference.push(await depthwiseInputGradient(c));
  await selectBackend({ force: 'wasm', quiet: true });
  const before = tf.memory().numTensors;
  for (const [i, c] of cases.entries()) {
    const e = relativeError(await depthwiseInputGradient(c), reference[i]);
    assert.ok(e < 1e-4, `DepthwiseConv2dNativeBackpropInput ${JSON.stringify(c)}: relative error ${e}`);
  }
  assert.equal(tf.memory().numTensors, before);
});

test('wasm runs with the requested 2 threads in Node', async () => {
  const info = await selectBackend({ force: 'wasm', quiet: true });
  assert.equal(info.threads, 2);
});

test('wasm BatchMatMul through XNNPACK agrees with the cpu backend, transposed or not, batched or not', async () => {
  const cases: { a: number[]; b: number[]; ta: boolean; tb: boolean }[] = [
    { a: [64, 300], b: [300, 17], ta: false, tb: false },
    { a: [300, 64], b: [300, 17], ta: true, tb: false },
    { a: [64, 300], b: [17, 300], ta: false, tb: true },
    { a: [300, 64], b: [17, 300], ta: true, tb: true },
    // few rows, many columns: computed as the transposed product
    { a: [8, 300], b: [300, 500], ta: false, tb: false },
    { a: [8, 300], b: [500, 300], ta: false, tb: true },
    { a: [300, 8], b: [500, 300], ta: true, tb: true },
    { a: [3, 5, 7], b: [3, 7, 4], ta: false, tb: false }, // batched: wasm's own kernel
  ];
  assert.ok(prefersTransposedProduct(8, 300, 500, false, false) && !prefersTransposedProduct(64, 300, 17, false, false), 'the cases cover both orders');
  const run = async () => {
    const out: Float32Array[] = [];
    for (const [i, c] of cases.entries()) {
      const a = tf.tensor(randomArray(c.a.reduce((p, d) => p * d, 1), 10 + i), c.a);
      const b = tf.tensor(randomArray(c.b.reduce((p, d) => p * d, 1), 20 + i), c.b);
      const g = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.square(tf.matMul(x as tf.Tensor2D, y as tf.Tensor2D, c.ta, c.tb))));
      const [ga, gb] = g([a, b]);
      const y = tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D, c.ta, c.tb);
      out.push((await y.data()) as Float32Array, (await ga.data()) as Float32Array, (await gb.data()) as Float32Array);
      tf.dispose([a, b, ga, gb, y]);
    }
    return out;
  };
  const { cpu: reference, wasm: got } = await cpuAndWasm(run);
  got.forEach((g, i) => {
    const e = relativeError(g, reference[i]);
    assert.ok(e < 1e-4, `case ${Math.floor(i / 3)} output ${i % 3}: relative error ${e}`);
  });
});

test('wasm Identity shares the values without a copy and keeps them alive after the source is disposed', async () => {
  await selectBackend({ force: 'wasm', quiet: true });
  const x = tf.tensor([1.5, -2, 3.25, 0]);
  const before = tf.memory().numDataBuffers;
  const y = tf.engine().runKernel('Identity', { x }) as tf.Tensor;
  assert.equal(tf.memory().numDataBuffers, before, 'no new buffer for the identity');
  x.dispose();
  assert.deepEqual(Array.from(await y.data()), [1.5, -2, 3.25, 0]);
  const s = tf.engine().runKernel('Identity', { x: tf.tensor(['a', 'b']) }) as tf.Tensor;
  assert.deepEqual(await s.data(), ['a', 'b']);
  tf.dispose([y, s]);
});

test('wasm LeakyRelu through Step and Multiply equals wasm\'s own kernel value for value, and the cpu backend', async () => {
  const values = Float32Array.from([...randomArray(997, 50), 0, -0, 1e-30, -1e-30, 1e30, -1e30]);
  const alphas = [0.2, 0, 1, 0.01, 1.5];
  const run = async (own: boolean) => {
    const out: Float32Array[] = [];
    for (const alpha of alphas) {
      const x = tf.tensor(values);
      const y = own ? tf.engine().makeTensorFromTensorInfo(wasmOwn('LeakyRelu')({ inputs: { x }, backend: tf.backend(), attrs: { alpha } }) as tf.TensorInfo) : tf.leakyRelu(x, alpha);
      out.push((await y.data()) as Float32Array);
      tf.dispose([x, y]);
    }
    return out;
  };
  await selectBackend({ force: 'cpu', quiet: true });
  const cpu = await run(false);
  await selectBackend({ force: 'wasm', quiet: true });
  const own = await run(true);
  const before = tf.memory().numTensors;
  const got = await run(false);
  assert.equal(tf.memory().numTensors, before);
  got.forEach((g, i) => {
    assert.deepEqual(Array.from(g), Array.from(own[i]), `alpha ${alphas[i]}: differs from wasm's own LeakyRelu`);
    assert.ok(relativeError(g, cpu[i]) < 1e-6, `alpha ${alphas[i]}: differs from cpu`);
  });
});

test('wasm Sum over batch and space (bias gradients) agrees with the cpu backend; other reductions keep wasm\'s kernel', async () => {
  const cases: { shape: number[]; axis: number[]; keepDims: boolean }[] = [
    { shape: [4, 6, 5, 7], axis: [0, 1, 2], keepDims: false },
    { shape: [4, 6, 5, 7], axis: [2, 0, -3], keepDims: true },
    { shape: [64, 9, 9, 3], axis: [0, 1, 2], keepDims: false }, // 3 channels: the depthwise route
    { shape: [64, 32, 32, 8], axis: [0, 1, 2], keepDims: false }, // 65536 rows: blocked SIMD sums
    { shape: [4, 6, 5, 7], axis: [1, 2], keepDims: false },
    { shape: [4, 6, 5, 7], axis: [0, 1, 2, 3], keepDims: false },
    { shape: [64, 300], axis: [0], keepDims: false },
  ];
  assert.ok(isBatchSpatialSum([2, 0, -3], 4) && !isBatchSpatialSum([1, 2], 4) && !isBatchSpatialSum([0, 1, 2, 3], 4) && !isBatchSpatialSum([0], 2));
  const run = async () => {
    const out: { shape: number[]; values: Float32Array }[] = [];
    for (const [i, c] of cases.entries()) {
      const x = tf.tensor(randomArray(c.shape.reduce((p, d) => p * d, 1), 40 + i), c.shape);
      const s = tf.sum(x, c.axis, c.keepDims);
      out.push({ shape: s.shape, values: (await s.data()) as Float32Array });
      tf.dispose([x, s]);
    }
    return out;
  };
  const { cpu: reference, wasm: got } = await cpuAndWasm(run);
  got.forEach((g, i) => {
    assert.deepEqual(g.shape, reference[i].shape, `case ${i} shape`);
    const e = relativeError(g.values, reference[i].values);
    assert.ok(e < 1e-5, `case ${i} ${JSON.stringify(cases[i])}: relative error ${e}`);
  });
});

test('wasm Slice as strided runs agrees with the cpu backend for ranks 1–4 (and falls back beyond)', async () => {
  const cases: { shape: number[]; begin: number[]; size: number[]; dtype?: 'int32' }[] = [
    { shape: [64, 65, 65, 3], begin: [0, 1, 1, 0], size: [64, 64, 64, 3] }, // a Pad's gradient
    { shape: [4, 9, 9, 12], begin: [1, 2, 0, 5], size: [2, -1, 7, 6] },
    { shape: [10, 13], begin: [3, 4], size: [5, 9] },
    { shape: [17], begin: [5], size: [11] },
    { shape: [3, 4, 5], begin: [0, 1, 2], size: [3, 2, 3] },
    { shape: [2, 3, 4, 5, 6], begin: [0, 1, 1, 2, 3], size: [2, 2, 3, 3, 3] }, // rank 5: wasm's own
    { shape: [6, 7], begin: [1, 1], size: [4, 5], dtype: 'int32' }, // int32: wasm's own
  ];
  const run = async () => {
    const out: number[][] = [];
    for (const [i, c] of cases.entries()) {
      const n = c.shape.reduce((p, d) => p * d, 1);
      const x = c.dtype === 'int32' ? tf.tidy(() => tf.range(0, n, 1, 'int32').reshape(c.shape)) : tf.tensor(randomArray(n, 60 + i), c.shape);
      const y = tf.slice(x, c.begin, c.size);
      out.push(Array.from(await y.data()));
      tf.dispose([x, y]);
    }
    return out;
  };
  const { cpu: reference, wasm: got } = await cpuAndWasm(run);
  got.forEach((g, i) => assert.deepEqual(g, reference[i], `case ${i} ${JSON.stringify(cases[i])}`));
});
