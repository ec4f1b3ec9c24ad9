// Conv2DBackpropInput on webgpu, tfjs' kernel against this project's per-phase GEMM, on the shapes
// of the 64×64 reference step at batch 8 with the perceptual term (the decoder's transposed convs,
// MobileNetV2's 1×1 and first-layer input gradients): mean ms of 3 calls after one warm-up.
//   VII_BACKEND=webgpu npx tsx bench/webgpuInputGradient.ts
import * as tf from '@tensorflow/tfjs';
import { selectBackend, useOwnWebgpuKernels } from '../src/lib/backend/selectBackend';

type Shape = { input: [number, number, number, number]; filter: [number, number, number, number]; stride: number };
const SHAPES: Shape[] = [
  { input: [8, 8, 8, 128], filter: [4, 4, 128, 256], stride: 2 },
  { input: [8, 16, 16, 64], filter: [4, 4, 64, 128], stride: 2 },
  { input: [8, 32, 32, 32], filter: [4, 4, 32, 64], stride: 2 },
  { input: [8, 64, 64, 3], filter: [4, 4, 3, 32], stride: 2 },
  { input: [8, 8, 8, 32], filter: [1, 1, 32, 192], stride: 1 },
  { input: [8, 8, 8, 192], filter: [1, 1, 192, 32], stride: 1 },
  { input: [8, 16, 16, 24], filter: [1, 1, 24, 144], stride: 1 },
  { input: [8, 32, 32, 16], filter: [1, 1, 16, 96], stride: 1 },
  { input: [8, 65, 65, 3], filter: [3, 3, 3, 32], stride: 2 },
];

async function timeShape(s: Shape): Promise<number> {
  const pad = s.filter[0] === 4 ? 'same' : 'valid';
  const outShape = tf.backend_util.computeConv2DInfo(s.input, s.filter, s.stride, 1, pad).outShape;
  const dy = tf.randomNormal(outShape, 0, 1, 'float32', 1) as tf.Tensor4D;
  const w = tf.randomNormal(s.filter, 0, 1, 'float32', 2) as tf.Tensor4D;
  const once = async () => {
    const dx = tf.conv2dTranspose(dy, w, s.input, s.stride, pad);
    await dx.data();
    dx.dispose();
  };
  await once();
  const t0 = performance.now();
  for (let i = 0; i < 3; i++) await once();
  tf.dispose([dy, w]);
  return (performance.now() - t0) / 3;
}

async function main(): Promise<void> {
  const info = await selectBackend({ force: 'webgpu' });
  console.log(`adapter ${info.adapter}\n\n| input (dx) | filter | stride | tfjs ms | own GEMM ms | own / tfjs |\n|---|---|---|---|---|---|`);
  for (const s of SHAPES) {
    useOwnWebgpuKernels([]);
    const stock = await timeShape(s);
    useOwnWebgpuKernels(['Conv2DBackpropInput']);
    const own = await timeShape(s);
    console.log(`| ${s.input.join('×')} | ${s.filter.join('×')} | ${s.stride} | ${stock.toFixed(1)} | ${own.toFixed(1)} | ${(own / stock).toFixed(2)} |`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
