// Training-speed benchmark against the PyTorch peer, in one invocation:
//   npm run bench            (64×64 and 32×32, perceptual off and on, memory over 200 steps)
// The reference step is ../shared/bench/torch_vae_step.py's: forward + backward + Adam, median of 10
// steps after 2 warm-up steps, images per second. The default backend runs against PyTorch on the
// CPU (2 threads); when Dawn finds a GPU, a webgpu row runs against PyTorch CUDA on the same GPU
// (batch 64 and 256 at 64×64), once with tfjs-backend-webgpu's kernels alone and once with this
// project's WGSL kernels over them. With the perceptual term both sides add a frozen MobileNetV2.
import * as fs from 'fs';
import * as path from 'path';
import { spawnSync } from 'child_process';
import * as tf from '@tensorflow/tfjs';
import { selectBackend, describeBackend, probeWebgpu, useOwnWebgpuKernels, WEBGPU_KERNEL_NAMES, webgpuKernelsFromEnv, type BackendInfo } from '../src/lib/backend/selectBackend';
import { trainStep } from '../src/lib/training/trainer';
import { referenceRun } from './referenceRun';
import { profileWebgpuSteps } from './webgpuProfile';

const STEPS = Number(process.env.BENCH_STEPS ?? 10);
// Memory soak: 200 steps on a CPU backend, 1,000 on webgpu (cheap there; the GPU target).
const memorySteps = (backend: string) => Number(process.env.BENCH_MEMORY_STEPS ?? (backend === 'webgpu' ? 1000 : 200));
// The shared CPU machines drift by ±15 % within minutes: the peer and this project alternate for
// ROUNDS rounds and the medians are compared.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
// Quick runs: BENCH_SIZES=64 BENCH_PERCEPTUAL=off BENCH_MEMORY_STEPS=0 npm run bench
const SIZES = (process.env.BENCH_SIZES ?? '64,32').split(',').map((v) => {
  if (v !== '64' && v !== '32') throw new Error(`BENCH_SIZES: expected 64 and/or 32, got ${v}`);
  return Number(v) as 32 | 64;
});
const PERCEPTUAL = process.env.BENCH_PERCEPTUAL === 'off' ? [false] : [false, true];
// GPU rows: batch 64 and 256 at 64×64 (the peer's GPU batch sizes), 64 at 32×32.
const GPU_BATCHES = (process.env.BENCH_GPU_BATCHES ?? '64,256').split(',').map(Number);
// The PyTorch peer; VII_TORCH_PEER points at a copy where ../shared does not exist (a packed GPU run).
const PEER = process.env.VII_TORCH_PEER ?? path.resolve(__dirname, '..', '..', 'shared', 'bench', 'torch_vae_step.py');
const PYTHON = process.env.VII_PYTHON ?? '/usr/bin/python3';

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
const rssMb = () => process.memoryUsage().rss / 2 ** 20;
/** GPU memory held by tensors (webgpu reports it; CPU backends do not). */
const gpuMb = () => ((tf.memory() as { numBytesInGPU?: number }).numBytesInGPU ?? NaN) / 2 ** 20;

async function timeSteps(size: 32 | 64, perceptual: boolean, steps: number, batch: number, warmup = 2) {
  const reference = await referenceRun(size, perceptual, batch);
  const { run, x, y } = reference;
  const times: number[] = [];
  let tensorsBefore = 0;
  let rssBefore = 0;
  let gpuBefore = NaN;
  let peak = rssMb();
  for (let i = 0; i < warmup + steps; i++) {
    if (i === warmup) {
      tensorsBefore = tf.memory().numTensors;
      rssBefore = rssMb();
      gpuBefore = gpuMb();
    }
    const t0 = performance.now();
    await trainStep(run, x, y, 0);
    if (i >= warmup) times.push(performance.now() - t0);
    peak = Math.max(peak, rssMb());
  }
  const result = { ms: median(times), imgPerS: (batch / median(times)) * 1000, tensorsBefore, tensorsAfter: tf.memory().numTensors, rssBefore, rssAfter: rssMb(), peak, gpuBefore, gpuAfter: gpuMb() };
  reference.dispose();
  return result;
}

type Peer = { imgPerS: number; line: string } | { skipped: string };

function python(code: string): boolean {
  return spawnSync(PYTHON, ['-c', code], { encoding: 'utf8' }).status === 0;
}

/** The PyTorch step on `device` (cpu: 2 threads, as this project's wasm), with the perceptual term when asked. */
function torchPeer(size: number, batch: number, device: 'cpu' | 'cuda', perceptual: boolean): Peer {
  if (!fs.existsSync(PEER)) return { skipped: `${PEER} not found (set VII_TORCH_PEER)` };
  if (!python('import torch')) return { skipped: 'python3-torch is not installed (apt-get install python3-torch libopenblas0-pthread)' };
  if (perceptual && !python('import torchvision')) return { skipped: 'the perceptual peer needs python3-torchvision' };
  const r = spawnSync(PYTHON, [PEER, String(size), String(batch), String(STEPS), '2', device, perceptual ? '1' : '0'], { encoding: 'utf8', env: { ...process.env, OPENBLAS_NUM_THREADS: '1' } });
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT'));
  if (!line) return { skipped: `peer failed: ${r.stderr.slice(-300)}` };
  return { imgPerS: Number(/img_per_s=([\d.]+)/.exec(line)![1]), line };
}

interface Target {
  backend: BackendInfo;
  peerDevice: 'cpu' | 'cuda';
  batches: (size: number) => number[];
  /**
   * webgpu: tfjs-backend-webgpu's kernels alone (stock), with this project's default set (own), and
   * with every one (all: the input-gradient GEMM too, off by default until a GPU says it wins).
   */
  kernels?: WebgpuKernelSet;
}

type WebgpuKernelSet = 'stock' | 'own' | 'all';
const kernelSet = (k: WebgpuKernelSet): string[] => (k === 'stock' ? [] : k === 'all' ? WEBGPU_KERNEL_NAMES : webgpuKernelsFromEnv());

/** The default backend, and webgpu too when Dawn finds a GPU (a CPU adapter only with BENCH_WEBGPU=1). */
async function targets(): Promise<Target[]> {
  const main = await selectBackend();
  const cuda = python('import torch; assert torch.cuda.is_available()') ? 'cuda' : 'cpu';
  const gpuTargets = (backend: BackendInfo): Target[] =>
    (['stock', 'own', 'all'] as const).map((kernels) => ({ backend: { ...backend, ownKernels: kernelSet(kernels) }, peerDevice: cuda, batches: (size) => (size === 64 ? GPU_BATCHES : [64]), kernels }));
  if (main.name === 'webgpu') return gpuTargets(main);
  const list: Target[] = [{ backend: main, peerDevice: 'cpu', batches: () => [64] }];
  const probe = await probeWebgpu();
  if (typeof probe === 'string') console.log(`webgpu row skipped: ${probe}`);
  else if (probe.cpu && process.env.BENCH_WEBGPU !== '1') console.log(`webgpu row skipped: ${probe.adapter} is a CPU adapter (BENCH_WEBGPU=1 includes it)`);
  else {
    const gpu = await selectBackend({ force: 'webgpu' });
    list.push(...gpuTargets(gpu));
    await selectBackend({ force: main.name });
  }
  return list;
}

async function main(): Promise<void> {
  const rows: string[] = [];
  const list = await targets();
  for (const target of list) {
    await selectBackend({ force: target.backend.name, quiet: true });
    if (target.kernels) useOwnWebgpuKernels(kernelSet(target.kernels));
    const rounds = target.peerDevice === 'cuda' ? 1 : ROUNDS;
    for (const size of SIZES) {
      for (const batch of target.batches(size)) {
        for (const perceptual of PERCEPTUAL) {
          const runs: Awaited<ReturnType<typeof timeSteps>>[] = [];
          const peers: { imgPerS: number; line: string }[] = [];
          let skipped: string | null = null;
          for (let round = 0; round < rounds; round++) {
            if (skipped === null) {
              const peer = torchPeer(size, batch, target.peerDevice, perceptual);
              if ('imgPerS' in peer) peers.push(peer);
              else skipped = peer.skipped;
            }
            runs.push(await timeSteps(size, perceptual, STEPS, batch));
            console.log(`${target.backend.name} ${size}×${size} batch ${batch} perceptual ${perceptual ? 'on' : 'off'} round ${round + 1}: this project ${runs[round].imgPerS.toFixed(1)} img/s, PyTorch ${target.peerDevice} ${peers[round]?.imgPerS.toFixed(1) ?? 'n/a'} img/s`);
          }
          const r = [...runs].sort((a, b) => a.imgPerS - b.imgPerS)[Math.floor(runs.length / 2)];
          const peerImgPerS = peers.length ? median(peers.map((p) => p.imgPerS)) : null;
          const peerCell = peerImgPerS === null ? 'n/a' : `${peerImgPerS.toFixed(1)} (${target.peerDevice})`;
          const ratio = peerImgPerS === null ? 'n/a' : (r.imgPerS / peerImgPerS).toFixed(3);
          rows.push(
            `| ${describeBackend(target.backend)} | ${size}×${size} | ${batch} | ${perceptual ? 'on (MobileNetV2)' : 'off'} | ${r.imgPerS.toFixed(1)} | ${peerCell} | ${ratio} | ${r.tensorsBefore}→${r.tensorsAfter} | ${r.rssBefore.toFixed(0)}→${r.rssAfter.toFixed(0)} (peak ${r.peak.toFixed(0)}) |`,
          );
          console.log(rows[rows.length - 1]);
          for (const p of peers) console.log(`peer: ${p.line}`);
          if (skipped !== null) console.log(`peer skipped: ${skipped}`);
        }
      }
    }
  }
  // BENCH_PROFILE=1: the per-kernel GPU profile of each webgpu configuration too (one packed run does both).
  if (process.env.BENCH_PROFILE === '1') {
    for (const gpu of list.filter((t) => t.backend.name === 'webgpu')) {
      await selectBackend({ force: 'webgpu', quiet: true });
      useOwnWebgpuKernels(kernelSet(gpu.kernels!));
      for (const size of SIZES) for (const batch of gpu.batches(size)) for (const perceptual of PERCEPTUAL) await profileWebgpuSteps(size, batch, perceptual, 3, gpu.backend);
    }
  }
  const soak = memorySteps(list[0].backend.name);
  if (soak > 0) {
    await selectBackend({ force: list[0].backend.name, quiet: true });
    const m = await timeSteps(32, false, soak, 64, 10);
    const gpu = Number.isNaN(m.gpuBefore) ? '' : `, GPU tensors ${m.gpuBefore.toFixed(1)}→${m.gpuAfter.toFixed(1)} MB`;
    console.log(`memory over ${soak} steps (32×32, after 10 warm-up, ${tf.getBackend()}): tensors ${m.tensorsBefore}→${m.tensorsAfter}, RSS ${m.rssBefore.toFixed(0)}→${m.rssAfter.toFixed(0)} MB, peak ${m.peak.toFixed(0)} MB${gpu}`);
  }
  console.log('\n| backend | size | batch | perceptual | img/s | PyTorch img/s | ratio | tensors | RSS MB |\n|---|---|---|---|---|---|---|---|---|');
  console.log(rows.join('\n'));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
