import * as fs from 'fs';
import * as tf from '@tensorflow/tfjs';
import { loadLayersModelFromDir, type FeatureNet } from '../weights/featureNet';

/**
 * The LPIPS computation of Zhang et al. 2018: scaling layer on inputs in [−1, 1], features of
 * each layer unit-normalised along channels, squared difference, weighted by the 1×1 linear
 * calibration weights (or summed over channels for the "unlearned" variant), spatial mean,
 * summed over layers.
 */
export interface PerceptualDistance {
  /** The metric's name in tables; only the real thing is called "LPIPS". */
  name: string;
  description: string;
  /** One distance per image pair; a, b in [0, 1]. */
  distance(a: tf.Tensor4D, b: tf.Tensor4D): tf.Tensor1D;
  dispose(): void;
}

const SHIFT = [-0.03, -0.088, -0.188];
const SCALE = [0.458, 0.448, 0.45];

/** LPIPS' ScalingLayer: from [0, 1] to [−1, 1], then (x − shift) / scale per channel. */
export function lpipsScaling(x01: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => tf.div(tf.sub(tf.sub(tf.mul(x01, 2), 1), tf.tensor1d(SHIFT)), tf.tensor1d(SCALE)) as tf.Tensor4D);
}

function unitNormalise(f: tf.Tensor4D): tf.Tensor4D {
  return tf.div(f, tf.add(tf.sqrt(tf.sum(tf.square(f), 3, true)), 1e-10)) as tf.Tensor4D;
}

/**
 * The reference computation over any backbone (`features` takes images in [0, 1] and applies the
 * backbone's own input scaling); `linear` null = unlearned (equal) channel weights.
 */
export function lpipsDistance(features: (x01: tf.Tensor4D) => tf.Tensor4D[], linear: tf.Tensor1D[] | null, a: tf.Tensor4D, b: tf.Tensor4D): tf.Tensor1D {
  return tf.tidy(() => {
    const fa = features(a);
    const fb = features(b);
    if (linear && linear.length !== fa.length) throw new Error(`LPIPS: ${linear.length} linear layers for ${fa.length} feature layers`);
    const perLayer = fa.map((f, l) => {
      const d = tf.square(tf.sub(unitNormalise(f), unitNormalise(fb[l])));
      if (linear && linear[l].shape[0] !== d.shape[3]) throw new Error(`LPIPS: linear layer ${l} has ${linear[l].shape[0]} weights for ${d.shape[3]} channels`);
      const weighted = tf.sum(linear ? tf.mul(d, linear[l]) : d, 3);
      return tf.mean(weighted, [1, 2]);
    });
    return tf.addN(perLayer) as tf.Tensor1D;
  });
}

/** The linear calibration weights (../shared/weights/lpips/vgg.json format: lin0..lin4, shape [1, C, 1, 1]). */
export function loadLpipsLinearWeights(file: string): tf.Tensor1D[] {
  if (!fs.existsSync(file)) throw new Error(`${file}: LPIPS weights not found`);
  const json = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, { shape: number[]; data: number[] }>;
  const keys = Object.keys(json).filter((k) => /^lin\d+\.model\.1\.weight$/.test(k)).sort();
  if (keys.length === 0) throw new Error(`${file}: no lin*.model.1.weight entries`);
  return keys.map((k) => {
    const { shape, data } = json[k];
    if (shape.length !== 4 || shape[1] !== data.length) throw new Error(`${file}: ${k} has shape ${shape} but ${data.length} values`);
    return tf.tensor1d(data);
  });
}

export const LPIPS_VGG_LAYERS = ['block1_conv2', 'block2_conv2', 'block3_conv3', 'block4_conv3', 'block5_conv3'];

/**
 * Real LPIPS (v0.1, VGG): needs the torchvision ImageNet VGG16 convolutional features converted
 * to a TF.js layers model (input: LPIPS-scaled RGB; layer names as Keras' VGG16, ReLU inside
 * the conv layers) at `vggPath`, and the calibration weights at `weightsFile`.
 */
export async function loadLpipsVgg(vggPath: string, weightsFile: string): Promise<PerceptualDistance> {
  const model = await loadLayersModelFromDir(vggPath);
  const cut = tf.model({ inputs: model.inputs, outputs: LPIPS_VGG_LAYERS.map((l) => model.getLayer(l).output as tf.SymbolicTensor) });
  const linear = loadLpipsLinearWeights(weightsFile);
  return {
    name: 'LPIPS (VGG, v0.1)',
    description: `LPIPS v0.1 with VGG16 from ${vggPath} and calibration weights ${weightsFile}`,
    distance: (a, b) => lpipsDistance((x) => cut.predict(lpipsScaling(x)) as tf.Tensor4D[], linear, a, b),
    dispose: () => {
      model.dispose();
      tf.dispose(linear);
    },
  };
}

/**
 * The offline substitute: the LPIPS computation with equal channel weights ("unlearned", as the
 * LPIPS paper's baseline) on the offline feature network. It is not LPIPS and is never named so.
 */
export function unlearnedPerceptualDistance(net: FeatureNet): PerceptualDistance {
  return {
    name: `PD-${net.id} (unlearned)`,
    description: `perceptual distance: the LPIPS computation with equal channel weights (not calibrated) on ${net.description}, layers ${net.layers.join(', ')}`,
    distance: (a, b) => lpipsDistance((x) => net.features(x), null, a, b),
    dispose: () => net.dispose(),
  };
}
