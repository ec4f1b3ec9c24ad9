// Memory soak: the 32×32 reference step for SOAK_STEPS steps (default 1000), printing the tensor
// count, RSS and the wasm heap size every 100 steps:  npm run bench:memory
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/lib/backend/selectBackend';
import { modelConfig, DEFAULT_TRAIN } from '../src/lib/models/config';
import { createTrainingRun, trainStep } from '../src/lib/training/trainer';
async function main() {
  await selectBackend({ force: 'wasm' });
  const size = 32;
  const run = await createTrainingRun({ model: modelConfig('vae-complete', { imageSize: size, channels: [32, 64, 128], perceptual: { net: 'none', weights: {} } }), train: { ...DEFAULT_TRAIN, batchSize: 64 }, data: { kind: 'synthetic', root: '', imageDir: '', preprocess: { size, cropFraction: 1 }, images: [], pixels: new Uint8Array(), attributeNames: [], attributes: new Uint8Array(), splits: { train: [], val: [], test: [] }, partition: 'seeded', skipped: [], fromCache: false } as any, runDir: null });
  const x = tf.randomUniform([64, size, size, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
  const y = tf.zeros([64, 0]) as tf.Tensor2D;
  const heap = () => ((tf.backend() as any).wasm.HEAPU8.buffer.byteLength / 2 ** 20).toFixed(0);
  const steps = Number(process.env.SOAK_STEPS ?? 1000);
  for (let i = 0; i <= steps; i++) {
    trainStep(run, x, y, 0);
    if (i % 100 === 0) console.log(`step ${i}: tensors ${tf.memory().numTensors}, RSS ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MB, wasm heap ${heap()} MB`);
  }
}
main();
