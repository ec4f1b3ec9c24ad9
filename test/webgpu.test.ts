import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'path';
import { spawnSync } from 'child_process';

const root = path.resolve(__dirname, '..');

/** A Vulkan implementation Dawn accepts (a GPU, or Mesa ≥ 25 lavapipe from bookworm-backports). */
function webgpuSkip(): string | false {
  const probe = spawnSync(process.execPath, ['-e', "const {create,globals}=require('webgpu');Object.assign(globalThis,globals);create([]).requestAdapter().then(a=>{console.log(a?'adapter':'none');process.exit(0)},()=>{console.log('none');process.exit(0)})"], { cwd: root, encoding: 'utf8', env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp' }, timeout: 60_000 });
  if (probe.stdout.includes('adapter')) return false;
  return `no WebGPU adapter (${(probe.stderr || probe.stdout).trim().split('\n')[0] || 'Dawn found none'}): install mesa-vulkan-drivers libvulkan1 from bookworm-backports (see environment.md); webgpu test skipped`;
}

const script = `
const tf = require('@tensorflow/tfjs');
const { selectBackend } = require('./src/lib/backend/selectBackend');
(async () => {
  const info = await selectBackend();
  const x = tf.tensor2d([[1, 2], [3, 4]]);
  const g = tf.grad((v) => tf.sum(tf.square(tf.matMul(v, v))))(x);
  console.log(JSON.stringify({ name: info.name, tf: tf.getBackend(), adapter: info.adapter, grad: Array.from(await g.data()) }));
})();`;

test('VII_BACKEND=webgpu selects WebGPU (a CPU adapter only when forced), prints the adapter, and computes gradients', { skip: webgpuSkip() }, () => {
  const run = (env: Record<string, string>) => spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: root, encoding: 'utf8', env: { ...process.env, XDG_RUNTIME_DIR: '/tmp', ...env }, timeout: 120_000 });
  const forced = run({ VII_BACKEND: 'webgpu' });
  assert.equal(forced.status, 0, forced.stderr);
  assert.match(forced.stdout, /\[vii\] backend: webgpu \(tfjs [\d.]+, adapter [^)]+\)/);
  const r = JSON.parse(forced.stdout.trim().split('\n').at(-1)!);
  assert.equal(r.tf, 'webgpu');
  const cpu = run({ VII_BACKEND: 'cpu' });
  const c = JSON.parse(cpu.stdout.trim().split('\n').at(-1)!);
  r.grad.forEach((v: number, i: number) => assert.ok(Math.abs(v - c.grad[i]) <= 1e-5 * Math.abs(c.grad[i]), `grad ${i}: webgpu ${v} vs cpu ${c.grad[i]}`));
  // Not forced: a CPU adapter (lavapipe) is passed over for wasm.
  const auto = run({ VII_BACKEND: '' });
  assert.equal(JSON.parse(auto.stdout.trim().split('\n').at(-1)!).name === 'webgpu', false, 'a CPU WebGPU adapter is never chosen unless forced');
});

/** Runs a helper script as its own process (one backend each) and returns its last stdout line as JSON. */
function runHelper(script: string, env: Record<string, string>, args: string[] = []): Record<string, unknown> {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'test', 'helpers', script), ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, XDG_RUNTIME_DIR: '/tmp', ...env }, timeout: 600_000 });
  assert.equal(r.status, 0, `${script} (${JSON.stringify(env)}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!);
}

test('every kernel of the models, the perceptual loss and the metrics, and the project\'s own WGSL kernels: webgpu = cpu, forward and gradients (≤ 1e-5)', { skip: webgpuSkip() }, () => {
  const { results, ownKernels } = runHelper('webgpuKernels.ts', { VII_WEBGPU_KERNELS: 'all' }) as { results: Record<string, number>; ownKernels: string[] };
  assert.deepEqual(ownKernels, ['Conv2DBackpropFilter', 'Conv2DBackpropInput', 'DepthwiseConv2dNativeBackpropInput', 'ViiFusedAdam', 'ViiActivationGrad'], 'the project\'s WGSL kernels are registered over and beside tfjs\'');
  assert.ok(Object.keys(results).length >= 36, `${Object.keys(results).length} kernel cases`);
  for (const [name, err] of Object.entries(results)) assert.ok(err <= 1e-5, `${name}: relative error ${err}`);
});

test('the fused Adam on webgpu (three WGSL dispatches a variable) = tf.train.adam on cpu: values, moments, state names; no tensors left behind', { skip: webgpuSkip() }, () => {
  const r = runHelper('webgpuAdam.ts', {}) as { fusedSteps: { kernel: number }; valueError: number; stateError: number; names: string[][]; extraTensors: number };
  assert.equal(r.fusedSteps.kernel, 3, 'the WGSL update ran every step');
  assert.ok(r.valueError <= 1e-6, `values: relative error ${r.valueError}`);
  assert.ok(r.stateError <= 1e-6, `moments: relative error ${r.stateError}`);
  assert.deepEqual(r.names[0], r.names[1]);
  assert.equal(r.extraTensors, 0);
});

test('the whole library on webgpu with dataSync throwing: training, resume, Gibbs completion, metrics and grids equal the cpu backend', { skip: webgpuSkip() }, () => {
  const { tempDir } = require('./helpers/fixtures') as typeof import('./helpers/fixtures');
  const gpu = runHelper('backendPipeline.ts', { VII_BACKEND: 'webgpu' }, [tempDir()]);
  const cpu = runHelper('backendPipeline.ts', { VII_BACKEND: 'cpu' }, [tempDir()]);
  assert.equal(gpu.backend, 'webgpu');
  assert.equal(cpu.backend, 'cpu');
  assert.equal(gpu.resumedAt, 3);
  assert.equal((gpu.losses as number[]).length, 6);
  const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-4 * Math.max(1e-6, Math.abs(b)), `${what}: webgpu ${a} vs cpu ${b}`);
  (gpu.losses as number[]).forEach((l, i) => close(l, (cpu.losses as number[])[i], `loss at step ${i}`));
  for (const k of ['completionMean', 'ssim', 'maskedL1', 'pd', 'accuracy']) close(gpu[k] as number, cpu[k] as number, k);
  assert.equal(gpu.pngBytes, cpu.pngBytes);
});

test('filter-gradient split plan: chunks of whole 16-row stages cover M exactly once; the kernel cases exercise 1, 2 and 4 splits', () => {
  const { planSplits, ROWS_PER_STAGE } = require('../src/lib/backend/webgpu/filterGradientProgram') as typeof import('../src/lib/backend/webgpu/filterGradientProgram');
  const shape = (batch: number, out: [number, number], filter: [number, number, number, number]) => ({
    batch, inHeight: 0, inWidth: 0, inChannels: filter[2], outHeight: out[0], outWidth: out[1], outChannels: filter[3],
    filterHeight: filter[0], filterWidth: filter[1], strideHeight: 1, strideWidth: 1, padTop: 0, padLeft: 0,
  });
  const cases = [
    shape(4, [16, 16], [3, 3, 20, 70]), // the kernel test's 4-split case
    shape(5, [12, 10], [4, 4, 5, 9]), // its ragged case
    shape(2, [9, 9], [3, 3, 3, 4]), // a single split
    shape(256, [32, 32], [4, 4, 3, 32]), // the 64×64 VAE's first layer at batch 256
    shape(256, [4, 4], [4, 4, 256, 512]), // a deep layer: few rows, many tiles
  ];
  const plans = cases.map(planSplits);
  for (const p of plans) {
    assert.equal(p.chunk % ROWS_PER_STAGE, 0);
    assert.ok(p.splits * p.chunk >= p.m && (p.splits - 1) * p.chunk < p.m, `splits ${p.splits} × chunk ${p.chunk} vs M ${p.m}`);
    assert.ok(p.splits * p.k * p.n <= 1 << 24, 'partial sums stay bounded');
  }
  assert.deepEqual(plans.slice(0, 3).map((p) => p.splits), [4, 2, 1]);
  assert.ok(plans[1].m % plans[1].chunk !== 0, 'the ragged case has a short last split');
  assert.ok(plans[3].splits >= 256, `first layer at batch 256: ${plans[3].splits} splits`);
});

test('VII_WEBGPU_KERNELS: the default set leaves out the input-gradient GEMM (slower on lavapipe, unmeasured on a GPU); stock, all, a list; unknown names refused', () => {
  const { webgpuKernelsFromEnv, WEBGPU_KERNEL_NAMES } = require('../src/lib/backend/webgpu/registerWebgpuKernels') as typeof import('../src/lib/backend/webgpu/registerWebgpuKernels');
  assert.deepEqual(webgpuKernelsFromEnv(''), ['Conv2DBackpropFilter', 'DepthwiseConv2dNativeBackpropInput', 'ViiFusedAdam', 'ViiActivationGrad']);
  assert.deepEqual(webgpuKernelsFromEnv('stock'), []);
  assert.deepEqual(webgpuKernelsFromEnv('all'), WEBGPU_KERNEL_NAMES);
  assert.deepEqual(webgpuKernelsFromEnv('ViiFusedAdam, Conv2DBackpropInput'), ['ViiFusedAdam', 'Conv2DBackpropInput']);
  assert.throws(() => webgpuKernelsFromEnv('Conv2DBackpropFiltre'), /VII_WEBGPU_KERNELS=Conv2DBackpropFiltre: unknown kernel Conv2DBackpropFiltre; expected stock, all or some of Conv2DBackpropFilter/);
});
