// Training-speed benchmark against the PyTorch peer, in one invocation:
//   npm run bench            (64×64 and 32×32, perceptual off and on, memory over 200 steps)
// The reference step is ../shared/bench/torch_vae_step.py's: batch 64, forward + backward + Adam,
// median of 10 steps after 2 warm-up steps, images per second.
import * as fs from 'fs';
import * as path from 'path';
import { spawnSync } from 'child_process';
import * as tf from '@tensorflow/tfjs';
import { selectBackend, describeBackend } from '../src/lib/backend/selectBackend';
import { trainStep } from '../src/lib/training/trainer';
import { BATCH, referenceRun } from './referenceRun';

const STEPS = Number(process.env.BENCH_STEPS ?? 10);
const MEMORY_STEPS = Number(process.env.BENCH_MEMORY_STEPS ?? 200);
// The shared CPU machines drift by ±15 % within minutes: the peer and this project alternate for
// ROUNDS rounds and the medians are compared.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
// Quick runs: BENCH_SIZES=64 BENCH_PERCEPTUAL=off BENCH_MEMORY_STEPS=0 npm run bench
const SIZES = (process.env.BENCH_SIZES ?? '64,32').split(',').map((v) => {
  if (v !== '64' && v !== '32') throw new Error(`BENCH_SIZES: expected 64 and/or 32, got ${v}`);
  return Number(v) as 32 | 64;
});
const PERCEPTUAL = process.env.BENCH_PERCEPTUAL === 'off' ? [false] : [false, true];
const PEER = path.resolve(__dirname, '..', '..', 'shared', 'bench', 'torch_vae_step.py');

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
const rssMb = () => process.memoryUsage().rss / 2 ** 20;

async function timeSteps(size: 32 | 64, perceptual: boolean, steps: number, warmup = 2) {
  const reference = await referenceRun(size, perceptual);
  const { run, x, y } = reference;
  const times: number[] = [];
  let tensorsBefore = 0;
  let rssBefore = 0;
  let peak = rssMb();
  for (let i = 0; i < warmup + steps; i++) {
    if (i === warmup) {
      tensorsBefore = tf.memory().numTensors;
      rssBefore = rssMb();
    }
    const t0 = performance.now();
    await trainStep(run, x, y, 0);
    if (i >= warmup) times.push(performance.now() - t0);
    peak = Math.max(peak, rssMb());
  }
  const result = { ms: median(times), imgPerS: (BATCH / median(times)) * 1000, tensorsBefore, tensorsAfter: tf.memory().numTensors, rssBefore, rssAfter: rssMb(), peak };
  reference.dispose();
  return result;
}

function torchPeer(size: number): { imgPerS: number; line: string } | { skipped: string } {
  if (!fs.existsSync(PEER)) return { skipped: `${PEER} not found` };
  const check = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { encoding: 'utf8' });
  if (check.status !== 0) return { skipped: 'python3-torch is not installed (apt-get install python3-torch libopenblas0-pthread)' };
  const r = spawnSync('/usr/bin/python3', [PEER, String(size), String(BATCH), String(STEPS), '2'], { encoding: 'utf8', env: { ...process.env, OPENBLAS_NUM_THREADS: '1' } });
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT'));
  if (!line) return { skipped: `peer failed: ${r.stderr.slice(-300)}` };
  return { imgPerS: Number(/img_per_s=([\d.]+)/.exec(line)![1]), line };
}

async function main(): Promise<void> {
  const backend = await selectBackend();
  const rows: string[] = [];
  for (const size of SIZES) {
    const peers: { imgPerS: number; line: string }[] = [];
    let skipped: string | null = null;
    for (const perceptual of PERCEPTUAL) {
      const runs: Awaited<ReturnType<typeof timeSteps>>[] = [];
      for (let round = 0; round < (perceptual ? 1 : ROUNDS); round++) {
        if (!perceptual && skipped === null) {
          const peer = torchPeer(size);
          if ('imgPerS' in peer) peers.push(peer);
          else skipped = peer.skipped;
        }
        runs.push(await timeSteps(size, perceptual, STEPS));
        if (!perceptual) console.log(`${size}×${size} round ${round + 1}: this project ${runs[round].imgPerS.toFixed(1)} img/s, PyTorch ${peers[round]?.imgPerS.toFixed(1) ?? 'n/a'} img/s`);
      }
      const r = [...runs].sort((a, b) => a.imgPerS - b.imgPerS)[Math.floor(runs.length / 2)];
      const peerImgPerS = peers.length ? median(peers.map((p) => p.imgPerS)) : null;
      const peerCell = peerImgPerS === null ? 'n/a' : peerImgPerS.toFixed(1);
      const ratio = perceptual ? '(peer has no perceptual term)' : peerImgPerS === null ? 'n/a' : (r.imgPerS / peerImgPerS).toFixed(2);
      rows.push(
        `| ${describeBackend(backend)} | ${size}×${size} | ${perceptual ? 'on (MobileNetV2)' : 'off'} | ${r.imgPerS.toFixed(1)} | ${peerCell} | ${ratio} | ${r.tensorsBefore}→${r.tensorsAfter} | ${r.rssBefore.toFixed(0)}→${r.rssAfter.toFixed(0)} (peak ${r.peak.toFixed(0)}) |`,
      );
      console.log(rows[rows.length - 1]);
    }
    for (const p of peers) console.log(`peer: ${p.line}`);
    if (skipped !== null) console.log(`peer skipped: ${skipped}`);
  }
  if (MEMORY_STEPS > 0) {
    const m = await timeSteps(32, false, MEMORY_STEPS, 10);
    console.log(`memory over ${MEMORY_STEPS} steps (32×32, after 10 warm-up): tensors ${m.tensorsBefore}→${m.tensorsAfter}, RSS ${m.rssBefore.toFixed(0)}→${m.rssAfter.toFixed(0)} MB, peak ${m.peak.toFixed(0)} MB`);
  }
  console.log('\n| backend | size | perceptual | img/s | PyTorch img/s | ratio | tensors | RSS MB |\n|---|---|---|---|---|---|---|---|');
  console.log(rows.join('\n'));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
