import * as tf from '@tensorflow/tfjs';
import { TorchCheckpointError } from './torchCheckpoint';
import { convKernel, denseKernel, setLayerWeights, StateDictReader, vector } from './torchTensors';

type T = tf.SymbolicTensor;

/**
 * torchvision's Inception-v3 (eval mode, without the auxiliary classifier) as a TF.js layers
 * model: 299×299 RGB in [−1, 1] (what the ImageNet checkpoint sees after its transform_input),
 * 1000 logits out. Layer names follow the torch module paths ('.' → '_').
 */
export function inceptionV3FromTorch(sd: StateDictReader): tf.LayersModel {
  const fc = sd.take('fc.weight');
  if (fc.shape[0] === 1008) {
    throw new TorchCheckpointError(`${sd.file}: a 1008-class Inception (the FID network pt_inception-2015-12-05) differs from torchvision's in its pooling; convert torchvision's inception_v3_google-0cc3c7bd.pth instead (vii weights fetch inception)`);
  }
  const name = (p: string) => p.replace(/\./g, '_');

  /** torchvision's BasicConv2d: conv (no bias) → batch norm (eps 0.001) → ReLU. */
  const conv = (x: T, p: string, kernel: [number, number], padding: 'same' | 'valid' = 'same', strides = 1): T => {
    const w = sd.take(`${p}.conv.weight`);
    const channels = x.shape[3];
    if (w.shape[1] !== channels || w.shape[2] !== kernel[0] || w.shape[3] !== kernel[1]) {
      throw new TorchCheckpointError(`${sd.file}: "${p}.conv.weight" has shape [${w.shape}], expected [*, ${channels}, ${kernel}]`);
    }
    const filters = w.shape[0];
    const convLayer = tf.layers.conv2d({ filters, kernelSize: kernel, strides, padding, useBias: false, name: `${name(p)}_conv` });
    let y = convLayer.apply(x) as T;
    setLayerWeights(convLayer, [convKernel(w)]);
    const bn = tf.layers.batchNormalization({ epsilon: 0.001, name: `${name(p)}_bn` });
    y = bn.apply(y) as T;
    const stat = (s: string) => vector(sd.take(`${p}.bn.${s}`, [filters]));
    setLayerWeights(bn, [stat('weight'), stat('bias'), stat('running_mean'), stat('running_var')]);
    return tf.layers.reLU({ name: `${name(p)}_relu` }).apply(y) as T;
  };
  const concat = (xs: T[], p: string): T => tf.layers.concatenate({ axis: -1, name: p }).apply(xs) as T;
  const maxPool = (x: T, p: string): T => tf.layers.maxPooling2d({ poolSize: 3, strides: 2, name: p }).apply(x) as T;
  /** F.avg_pool2d(x, 3, stride 1, padding 1): zero padding counted in the mean (count_include_pad). */
  const avgPool = (x: T, p: string): T => {
    const padded = tf.layers.zeroPadding2d({ padding: 1, name: `${p}_pad` }).apply(x) as T;
    return tf.layers.averagePooling2d({ poolSize: 3, strides: 1, padding: 'valid', name: p }).apply(padded) as T;
  };

  const blockA = (x: T, p: string): T =>
    concat([
      conv(x, `${p}.branch1x1`, [1, 1]),
      conv(conv(x, `${p}.branch5x5_1`, [1, 1]), `${p}.branch5x5_2`, [5, 5]),
      conv(conv(conv(x, `${p}.branch3x3dbl_1`, [1, 1]), `${p}.branch3x3dbl_2`, [3, 3]), `${p}.branch3x3dbl_3`, [3, 3]),
      conv(avgPool(x, `${name(p)}_avgpool`), `${p}.branch_pool`, [1, 1]),
    ], name(p));
  const blockB = (x: T, p: string): T =>
    concat([
      conv(x, `${p}.branch3x3`, [3, 3], 'valid', 2),
      conv(conv(conv(x, `${p}.branch3x3dbl_1`, [1, 1]), `${p}.branch3x3dbl_2`, [3, 3]), `${p}.branch3x3dbl_3`, [3, 3], 'valid', 2),
      maxPool(x, `${name(p)}_maxpool`),
    ], name(p));
  const blockC = (x: T, p: string): T => {
    let b7 = conv(x, `${p}.branch7x7_1`, [1, 1]);
    b7 = conv(conv(b7, `${p}.branch7x7_2`, [1, 7]), `${p}.branch7x7_3`, [7, 1]);
    let d = conv(x, `${p}.branch7x7dbl_1`, [1, 1]);
    d = conv(conv(d, `${p}.branch7x7dbl_2`, [7, 1]), `${p}.branch7x7dbl_3`, [1, 7]);
    d = conv(conv(d, `${p}.branch7x7dbl_4`, [7, 1]), `${p}.branch7x7dbl_5`, [1, 7]);
    return concat([conv(x, `${p}.branch1x1`, [1, 1]), b7, d, conv(avgPool(x, `${name(p)}_avgpool`), `${p}.branch_pool`, [1, 1])], name(p));
  };
  const blockD = (x: T, p: string): T => {
    const b3 = conv(conv(x, `${p}.branch3x3_1`, [1, 1]), `${p}.branch3x3_2`, [3, 3], 'valid', 2);
    let b7 = conv(conv(x, `${p}.branch7x7x3_1`, [1, 1]), `${p}.branch7x7x3_2`, [1, 7]);
    b7 = conv(conv(b7, `${p}.branch7x7x3_3`, [7, 1]), `${p}.branch7x7x3_4`, [3, 3], 'valid', 2);
    return concat([b3, b7, maxPool(x, `${name(p)}_maxpool`)], name(p));
  };
  const blockE = (x: T, p: string): T => {
    const b3 = conv(x, `${p}.branch3x3_1`, [1, 1]);
    const b3s = concat([conv(b3, `${p}.branch3x3_2a`, [1, 3]), conv(b3, `${p}.branch3x3_2b`, [3, 1])], `${name(p)}_3x3`);
    const d = conv(conv(x, `${p}.branch3x3dbl_1`, [1, 1]), `${p}.branch3x3dbl_2`, [3, 3]);
    const ds = concat([conv(d, `${p}.branch3x3dbl_3a`, [1, 3]), conv(d, `${p}.branch3x3dbl_3b`, [3, 1])], `${name(p)}_3x3dbl`);
    return concat([conv(x, `${p}.branch1x1`, [1, 1]), b3s, ds, conv(avgPool(x, `${name(p)}_avgpool`), `${p}.branch_pool`, [1, 1])], name(p));
  };

  const input = tf.input({ shape: [299, 299, 3], name: 'input' });
  let x = conv(input, 'Conv2d_1a_3x3', [3, 3], 'valid', 2);
  x = conv(x, 'Conv2d_2a_3x3', [3, 3], 'valid');
  x = conv(x, 'Conv2d_2b_3x3', [3, 3]);
  x = maxPool(x, 'maxpool1');
  x = conv(x, 'Conv2d_3b_1x1', [1, 1]);
  x = conv(x, 'Conv2d_4a_3x3', [3, 3], 'valid');
  x = maxPool(x, 'maxpool2');
  for (const m of ['Mixed_5b', 'Mixed_5c', 'Mixed_5d']) x = blockA(x, m);
  x = blockB(x, 'Mixed_6a');
  for (const m of ['Mixed_6b', 'Mixed_6c', 'Mixed_6d', 'Mixed_6e']) x = blockC(x, m);
  x = blockD(x, 'Mixed_7a');
  for (const m of ['Mixed_7b', 'Mixed_7c']) x = blockE(x, m);
  const pooled = tf.layers.globalAveragePooling2d({ name: 'avgpool' }).apply(x) as T;
  const dense = tf.layers.dense({ units: fc.shape[0], name: 'fc' });
  const logits = dense.apply(pooled) as T;
  setLayerWeights(dense, [denseKernel(fc), vector(sd.take('fc.bias', [fc.shape[0]]))]);
  return tf.model({ inputs: input, outputs: logits, name: 'inception_v3' });
}

/** Not part of the eval-mode network: the auxiliary classifier and batch-norm step counters. */
export const isInceptionExtra = (name: string): boolean => name.startsWith('AuxLogits.') || name.endsWith('num_batches_tracked');
