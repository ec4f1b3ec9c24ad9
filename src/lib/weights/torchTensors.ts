import * as tf from '@tensorflow/tfjs';
import { TorchCheckpointError, type TorchTensor } from './torchCheckpoint';

/** A state dict being turned into TF.js weights: every read is checked, and what was never read is reported. */
export class StateDictReader {
  private readonly used = new Set<string>();

  constructor(
    readonly file: string,
    private readonly dict: Map<string, TorchTensor>,
  ) {}

  /** The tensor `name`, which must have `shape` where one is given. */
  take(name: string, shape?: number[]): TorchTensor {
    const t = this.dict.get(name);
    if (!t) throw new TorchCheckpointError(`${this.file}: no tensor "${name}" (is this the right network's checkpoint?)`);
    if (shape && (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i]))) {
      throw new TorchCheckpointError(`${this.file}: "${name}" has shape [${t.shape}], expected [${shape}]`);
    }
    this.used.add(name);
    return t;
  }

  /** Names never read, apart from those `ignore` accepts (e.g. a classifier head the features do not need). */
  unused(ignore: (name: string) => boolean): string[] {
    return [...this.dict.keys()].filter((k) => !this.used.has(k) && !ignore(k));
  }
}

/** torch conv weight [out, in, kh, kw] → TF.js kernel [kh, kw, in, out]. */
export function convKernel(t: TorchTensor): tf.Tensor4D {
  return tf.tidy(() => tf.transpose(tf.tensor4d(t.data, t.shape as [number, number, number, number]), [2, 3, 1, 0]) as tf.Tensor4D);
}

/** torch linear weight [out, in] → TF.js dense kernel [in, out]. */
export function denseKernel(t: TorchTensor): tf.Tensor2D {
  return tf.tidy(() => tf.transpose(tf.tensor2d(t.data, t.shape as [number, number])) as tf.Tensor2D);
}

export function vector(t: TorchTensor): tf.Tensor1D {
  return tf.tensor1d(t.data);
}

/** Gives a built layer its weights and frees the temporaries. */
export function setLayerWeights(layer: tf.layers.Layer, weights: tf.Tensor[]): void {
  try {
    layer.setWeights(weights);
  } finally {
    tf.dispose(weights);
  }
}
