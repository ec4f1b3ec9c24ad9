import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/lib/backend/selectBackend';
import { modelConfig, DEFAULT_TRAIN } from '../src/lib/models/config';
import { createTrainingRun, trainStep } from '../src/lib/training/trainer';
async function main() {
  await selectBackend({ force: 'wasm' });
  const k = tf.getKernel('Conv2DBackpropInput', 'wasm')!;
  tf.unregisterKernel('Conv2DBackpropInput', 'wasm');
  let trace = false;
  tf.registerKernel({ ...k, kernelFunc: (args) => { const f = (args.inputs as any).filter as tf.Tensor; if (trace && f.shape.join() === '4,4,3,32') console.log('call', new Error().stack!.split('\n').slice(2, 14).join('\n')); return k.kernelFunc(args); } });
  const size = 64;
  const run = await createTrainingRun({ model: modelConfig('vae-complete', { imageSize: size, channels: [32, 64, 128, 256], perceptual: { net: 'none', weights: {} } }), train: { ...DEFAULT_TRAIN, batchSize: 64 }, data: { kind: 'synthetic', root: '', imageDir: '', preprocess: { size, cropFraction: 1 }, images: [], pixels: new Uint8Array(), attributeNames: [], attributes: new Uint8Array(), splits: { train: [], val: [], test: [] }, partition: 'seeded', skipped: [], fromCache: false } as any, runDir: null });
  const x = tf.randomUniform([64, size, size, 3]) as tf.Tensor4D;
  trainStep(run, x, tf.zeros([64, 0]) as tf.Tensor2D, 0);
  trace = true;
  trainStep(run, x, tf.zeros([64, 0]) as tf.Tensor2D, 0);
}
main();
