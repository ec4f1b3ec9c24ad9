import * as tf from '@tensorflow/tfjs';

/**
 * Reads tensors without blocking the backend (webgpu has no synchronous read in Node), then
 * frees them. The one way the library reads values; dataSync is left to tests.
 */
export async function readAndDispose(tensors: tf.Tensor[]): Promise<Float32Array[]> {
  try {
    return (await Promise.all(tensors.map((t) => t.data()))) as Float32Array[];
  } finally {
    tf.dispose(tensors);
  }
}
