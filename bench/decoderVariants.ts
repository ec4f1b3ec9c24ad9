// Step time of each decoder variant of issue 38, against the paper's transposed-conv decoder timed
// in the same run (the peer here): npm run bench:decoders. 64×64, batch 64, the reference
// architecture on a fixed random batch, perceptual term off (BENCH_PERCEPTUAL=on adds it); the
// variants alternate for ROUNDS rounds and medians are compared (the machines drift).
import { selectBackend, describeBackend } from '../src/lib/backend/selectBackend';
import { trainStep } from '../src/lib/training/trainer';
import type { ModelConfig } from '../src/lib/models/config';
import { referenceRun } from './referenceRun';

const STEPS = Number(process.env.BENCH_STEPS ?? 8);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const PERCEPTUAL = process.env.BENCH_PERCEPTUAL === 'on';
const VARIANTS: { name: string; overrides: Partial<ModelConfig> }[] = [
  { name: 'transposed (the paper\'s)', overrides: {} },
  { name: 'resize-conv', overrides: { upsampling: 'resize' } },
  { name: 'sub-pixel', overrides: { upsampling: 'subpixel' } },
  { name: 'transposed + adversarial', overrides: { adversarial: 0.01 } },
  { name: 'resize-conv + adversarial', overrides: { upsampling: 'resize', adversarial: 0.01 } },
];
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

async function stepMs(overrides: Partial<ModelConfig>): Promise<{ ms: number; params: number }> {
  const r = await referenceRun(64, PERCEPTUAL, 64, overrides);
  const times: number[] = [];
  for (let i = 0; i < STEPS + 2; i++) {
    const t0 = performance.now();
    await trainStep(r.run, r.x, r.y, 0);
    if (i >= 2) times.push(performance.now() - t0);
  }
  const params = r.run.model.encoder.countParams() + r.run.model.decoder.countParams();
  r.dispose();
  return { ms: median(times), params };
}

async function main(): Promise<void> {
  const backend = await selectBackend();
  console.log(`decoder variants, ${describeBackend(backend)}, 64×64 batch 64, perceptual ${PERCEPTUAL ? 'on' : 'off'}, ${STEPS} steps × ${ROUNDS} rounds`);
  const ms: number[][] = VARIANTS.map(() => []);
  const params: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, v] of VARIANTS.entries()) {
      const r = await stepMs(v.overrides);
      ms[i].push(r.ms);
      params[i] = r.params;
      console.log(`round ${round + 1}: ${v.name} ${r.ms.toFixed(0)} ms/step`);
    }
  }
  const base = median(ms[0]);
  console.log('\n| decoder | parameters | vs transposed | ms/step (median) | × transposed |\n|---|---|---|---|---|');
  for (const [i, v] of VARIANTS.entries()) {
    console.log(`| ${v.name} | ${params[i].toLocaleString('en')} | ${((params[i] / params[0] - 1) * 100).toFixed(1)} % | ${median(ms[i]).toFixed(0)} | ${(median(ms[i]) / base).toFixed(2)} |`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
