import * as tf from '@tensorflow/tfjs';
import { FusedAdamOptimizer } from '../../src/lib/backend/fusedAdam';
import { createRng } from '../../src/lib/rng';

// sizes with and without a scalar tail after the 4-wide steps
const SHAPES = [[4, 4, 3, 8], [8], [37, 5], [1], [3]];

/** Three steps of an optimizer on variables with seeded gradients; the final values and state. */
export async function threeAdamSteps(makeOptimizer: () => tf.Optimizer, prefix: string) {
  const rng = createRng(5);
  const vars = SHAPES.map((s, i) => tf.variable(tf.tensor(Float32Array.from({ length: tf.util.sizeFromShape(s) }, () => rng.normal()), s), true, `${prefix}${i}`));
  const optimizer = makeOptimizer();
  for (let step = 0; step < 3; step++) {
    const grads = Object.fromEntries(vars.map((v) => [v.name, tf.tensor(Float32Array.from({ length: v.size }, () => rng.normal() * (step + 1)), v.shape)]));
    optimizer.applyGradients(grads);
    tf.dispose(Object.values(grads));
  }
  const values = await Promise.all(vars.map(async (v) => Array.from(await v.data())));
  const fusedSteps = optimizer instanceof FusedAdamOptimizer ? { ...optimizer.fusedSteps } : null;
  const state = await optimizer.getWeights();
  const out = { fusedSteps, values, names: state.map((w) => w.name.replace(prefix, '')), state: await Promise.all(state.map(async (w) => Array.from(await w.tensor.data()))) };
  tf.dispose(state.map((w) => w.tensor));
  optimizer.dispose();
  tf.dispose(vars);
  return out;
}
