// Per-kernel self time of the reference training step (wasm), with shapes:
//   npx tsx bench/profileStep.ts   (SIZE=32|64, PERCEPTUAL=1, STEPS=n)
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/lib/backend/selectBackend';
import { trainStep } from '../src/lib/training/trainer';
import { referenceRun } from './referenceRun';

async function main() {
  const size = Number(process.env.SIZE ?? 64) as 32 | 64;
  await selectBackend({ force: 'wasm' });
  const stats = new Map<string, { ms: number; n: number }>();
  const stack: number[] = [];
  let profiling = true;
  for (const k of tf.getKernelsForBackend('wasm')) {
    const f = k.kernelFunc;
    tf.unregisterKernel(k.kernelName, 'wasm');
    tf.registerKernel({
      ...k,
      kernelFunc: (args) => {
        if (!profiling) return f(args);
        stack.push(0);
        const t0 = performance.now();
        const out = f(args);
        const dt = performance.now() - t0;
        const child = stack.pop()!;
        if (stack.length) stack[stack.length - 1] += dt;
        const ins = Object.values(args.inputs).filter(Boolean).map((t) => (t as tf.TensorInfo).shape.join('x')).join(',');
        const key = `${k.kernelName} ${ins}`;
        const s = stats.get(key) ?? { ms: 0, n: 0 };
        s.ms += dt - child; s.n++;
        stats.set(key, s);
        return out;
      },
    });
  }
  const reference = await referenceRun(size, Boolean(process.env.PERCEPTUAL));
  const { run, x, y } = reference;
  for (let i = 0; i < 3; i++) await trainStep(run, x, y, 0);
  const plain: number[] = [];
  profiling = false;
  for (let i = 0; i < Number(process.env.STEPS ?? 10); i++) {
    const t = performance.now();
    await trainStep(run, x, y, 0);
    plain.push(performance.now() - t);
  }
  plain.sort((a, b) => a - b);
  console.log(`unprofiled step: median ${plain[Math.floor(plain.length / 2)].toFixed(1)} ms, min ${plain[0].toFixed(1)} ms`);
  profiling = true;
  stats.clear();
  const N = 5;
  const t0 = performance.now();
  for (let i = 0; i < N; i++) await trainStep(run, x, y, 0);
  const total = (performance.now() - t0) / N;
  const rows = [...stats.entries()].map(([k, s]) => [k, s.ms / N, s.n / N] as const).sort((a, b) => b[1] - a[1]);
  let sum = 0;
  for (const [k, ms, n] of rows) { sum += ms; if (ms > 1) console.log(ms.toFixed(1).padStart(7), n.toFixed(0).padStart(3), k); }
  const byKernel = new Map<string, number>();
  for (const [k, ms] of rows) byKernel.set(k.split(' ')[0], (byKernel.get(k.split(' ')[0]) ?? 0) + ms);
  console.log('by kernel:', [...byKernel.entries()].sort((a, b) => b[1] - a[1]).map(([k, ms]) => `${k} ${ms.toFixed(1)}`).join(', '));
  console.log(`step ${total.toFixed(1)} ms, kernels ${sum.toFixed(1)} ms`);
  reference.dispose();
}
main();
