import * as tf from '@tensorflow/tfjs';
import { readValues, tensorFromFill } from './tensorMemory';

/**
 * dL/dx of leakyRelu: dy where x > 0, alpha·dy elsewhere (tfjs-core's rule). tfjs-core builds it
 * from Greater, Multiply and Select, three passes on wasm (~8 ns per value with the bool mask);
 * on wasm this is one pass over the heap.
 */
export function leakyReluBackward(dy: tf.Tensor, x: tf.Tensor, alpha: number): tf.Tensor {
  if (tf.getBackend() !== 'wasm' || dy.dtype !== 'float32' || x.dtype !== 'float32') {
    return tf.where(tf.greater(x, 0), dy, tf.mul(dy, alpha));
  }
  const a = Math.fround(alpha);
  return tensorFromFill(dy.shape, (out) => {
    const g = readValues(dy);
    const v = readValues(x);
    for (let i = 0; i < out.length; i++) out[i] = v[i] > 0 ? g[i] : a * g[i];
  });
}

export const leakyReluGradConfig: tf.GradConfig = {
  kernelName: 'LeakyRelu',
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved;
    const { alpha } = attrs as unknown as { alpha: number };
    return { x: () => leakyReluBackward(dy as tf.Tensor, x, alpha) };
  },
};
