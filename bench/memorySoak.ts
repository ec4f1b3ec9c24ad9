// Memory soak: the 32×32 reference step for SOAK_STEPS steps (default 1000), printing the tensor
// count, RSS and the wasm heap size every 100 steps:  npm run bench:memory
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/lib/backend/selectBackend';
import { trainStep } from '../src/lib/training/trainer';
import { referenceRun } from './referenceRun';
async function main() {
  await selectBackend({ force: 'wasm' });
  const { run, x, y } = await referenceRun(32, false);
  const heap = () => ((tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.buffer.byteLength / 2 ** 20).toFixed(0);
  const steps = Number(process.env.SOAK_STEPS ?? 1000);
  for (let i = 0; i <= steps; i++) {
    await trainStep(run, x, y, 0);
    if (i % 100 === 0) console.log(`step ${i}: tensors ${tf.memory().numTensors}, RSS ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MB, wasm heap ${heap()} MB`);
  }
}
main();
