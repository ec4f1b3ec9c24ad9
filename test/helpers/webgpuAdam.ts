/**
 * The fused Adam on webgpu (FUSED_ADAM_KERNEL, three WGSL dispatches a variable) against
 * tf.train.adam on the cpu backend: three steps on seeded variables. Prints one JSON line: which
 * update ran, the largest relative error of the values and of the moments, the state names of
 * both, and the tensors left behind beyond the stock optimizer's on webgpu.
 */
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../src/lib/backend/selectBackend';
import { FusedAdamOptimizer } from '../../src/lib/backend/fusedAdam';
import { threeAdamSteps } from './adamSteps';
import { relativeError } from './compare';

async function main(): Promise<void> {
  await selectBackend({ force: 'webgpu', quiet: true });
  tf.env().set('WEBGPU_CPU_FORWARD', false);
  let before = tf.memory().numTensors;
  await threeAdamSteps(() => tf.train.adam(0.01), 'stock-webgpu-');
  const stockLeft = tf.memory().numTensors - before;
  before = tf.memory().numTensors;
  const fused = await threeAdamSteps(() => new FusedAdamOptimizer(0.01), 'fused-webgpu-');
  const fusedLeft = tf.memory().numTensors - before;
  await selectBackend({ force: 'cpu', quiet: true });
  const stock = await threeAdamSteps(() => tf.train.adam(0.01), 'stock-cpu-');
  const worst = (a: number[][], b: number[][]) => Math.max(...a.map((v, i) => relativeError(Float32Array.from(v), Float32Array.from(b[i]))));
  console.log(JSON.stringify({
    fusedSteps: fused.fusedSteps,
    valueError: worst(fused.values, stock.values),
    stateError: worst(fused.state, stock.state),
    names: [fused.names, stock.names],
    extraTensors: fusedLeft - stockLeft,
  }));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
