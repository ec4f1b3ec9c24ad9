// Per-kernel GPU time of the reference training step on webgpu, from WebGPU timestamp queries
// (tfjs-backend-webgpu's tf.time): which WGSL programs the step spends its GPU time in, how many
// dispatches it makes, and how much of the wall time is outside the kernels. Used by
// bench/profileWebgpu.ts and by bench/trainStep.ts (BENCH_PROFILE=1); no entry point of its own,
// so a bundle of trainStep.ts (where every module is require.main) runs only one main.
import * as tf from '@tensorflow/tfjs';
import { describeBackend, type BackendInfo } from '../src/lib/backend/selectBackend';
import { trainStep } from '../src/lib/training/trainer';
import { referenceRun } from './referenceRun';

/**
 * tfjs-backend-webgpu 4.22 times every dispatch while its `activeTimers` list is set (what tf.time
 * does for a synchronous function). The step is async (it awaits its loss terms, then runs Adam),
 * so the list is set around the whole step instead.
 */
interface TimedBackend {
  activeTimers?: { name: string; query: Promise<number> }[];
  supportTimestampQuery: boolean;
}

async function profileStep(step: () => Promise<unknown>): Promise<{ name: string; ms: number }[]> {
  const backend = tf.backend() as unknown as TimedBackend;
  if (!('supportTimestampQuery' in backend)) throw new Error('not tfjs-backend-webgpu (4.22) — nothing to profile');
  const timers: { name: string; query: Promise<number> }[] = [];
  backend.activeTimers = timers;
  try {
    await step();
  } finally {
    backend.activeTimers = undefined;
  }
  const ms = await Promise.all(timers.map((t) => t.query));
  return timers.map((t, i) => ({ name: t.name, ms: ms[i] }));
}

/** Profiles `steps` reference steps on the current (webgpu) backend and prints the table. */
export async function profileWebgpuSteps(size: 32 | 64, batch: number, perceptual: boolean, steps: number, info: BackendInfo): Promise<void> {
  const reference = await referenceRun(size, perceptual, batch);
  const { run, x, y } = reference;
  for (let i = 0; i < 2; i++) await trainStep(run, x, y, 0); // warm-up: pipelines compiled
  const byProgram = new Map<string, { ms: number; calls: number }>();
  let gpuMs = 0;
  let wallMs = 0;
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    await trainStep(run, x, y, 0);
    wallMs += performance.now() - t0;
    const programs = await profileStep(() => trainStep(run, x, y, 0));
    if (!(tf.backend() as unknown as TimedBackend).supportTimestampQuery) throw new Error(`no per-kernel times: the adapter (${info.adapter}) lacks the timestamp-query feature`);
    for (const p of programs) {
      const e = byProgram.get(p.name) ?? { ms: 0, calls: 0 };
      e.ms += p.ms;
      e.calls++;
      byProgram.set(p.name, e);
      gpuMs += p.ms;
    }
  }
  const rows = [...byProgram.entries()].sort((a, b) => b[1].ms - a[1].ms);
  const dispatches = rows.reduce((s, [, e]) => s + e.calls, 0) / steps;
  console.log(`\nprofile: ${describeBackend(info)}; ${size}×${size}, batch ${batch}${perceptual ? ', perceptual term on' : ''}; ${steps} steps`);
  // Wall time from unprofiled steps: profiling submits every dispatch on its own.
  console.log(`per step: wall ${(wallMs / steps).toFixed(1)} ms (unprofiled), GPU ${(gpuMs / steps).toFixed(1)} ms in ${dispatches.toFixed(0)} dispatches\n`);
  console.log('| program | GPU ms / step | dispatches / step | share |\n|---|---|---|---|');
  for (const [name, e] of rows) console.log(`| ${name} | ${(e.ms / steps).toFixed(2)} | ${(e.calls / steps).toFixed(0)} | ${((100 * e.ms) / gpuMs).toFixed(1)} % |`);
  reference.dispose();
}
