import * as tf from '@tensorflow/tfjs';
import { convKernel, setLayerWeights, StateDictReader, vector } from './torchTensors';

/** Output channels of the 13 convolutions of VGG16, by block. */
export const VGG16_BLOCKS = [[64, 64], [128, 128], [256, 256, 256], [512, 512, 512], [512, 512, 512]];

/**
 * torchvision's VGG16 `features` (13 convolutions with ReLU, 5 max pools) as a TF.js layers
 * model of any input size, its layers named as Keras' VGG16 (block1_conv1 … block5_pool) so
 * relu1_2 … relu5_3 are block1_conv2 … block5_conv3. The classifier head is not converted.
 * Input: torchvision-normalised RGB, NHWC.
 */
export function vgg16FromTorch(sd: StateDictReader): tf.LayersModel {
  const input = tf.input({ shape: [null, null, 3], name: 'input' });
  let x = input;
  let index = 0;
  let channels = 3;
  VGG16_BLOCKS.forEach((convs, b) => {
    convs.forEach((filters, c) => {
      const layer = tf.layers.conv2d({ filters, kernelSize: 3, padding: 'same', activation: 'relu', name: `block${b + 1}_conv${c + 1}` });
      x = layer.apply(x) as tf.SymbolicTensor;
      const w = sd.take(`features.${index}.weight`, [filters, channels, 3, 3]);
      setLayerWeights(layer, [convKernel(w), vector(sd.take(`features.${index}.bias`, [filters]))]);
      index += 2; // conv, ReLU
      channels = filters;
    });
    x = tf.layers.maxPooling2d({ poolSize: 2, strides: 2, name: `block${b + 1}_pool` }).apply(x) as tf.SymbolicTensor;
    index += 1;
  });
  return tf.model({ inputs: input, outputs: x, name: 'vgg16_features' });
}

export const isVgg16Classifier = (name: string): boolean => name.startsWith('classifier.');
