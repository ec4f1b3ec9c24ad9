import * as tf from '@tensorflow/tfjs';
import { loadLayersModelFromDir } from '../weights/featureNet';
import { convertedModelInfo } from '../weights/convertCheckpoint';

/** The real Inception score's classifier: ImageNet Inception-v3, p(y|x) over 1000 classes. */
export interface InceptionNet {
  description: string;
  /** Softmax over the ImageNet classes for images in [0, 1] of any size (resized to 299×299). */
  probabilities(x01: tf.Tensor4D): tf.Tensor2D;
  /** The 2,048-d global-average-pool features before the classifier (FID's features). */
  poolFeatures(x01: tf.Tensor4D): tf.Tensor2D;
  dispose(): void;
}

/**
 * Inception-v3 converted from torchvision's checkpoint by `vii weights convert`. Images are
 * resized bilinearly with half-pixel centres (torch's interpolate, align_corners=False) and
 * scaled to [−1, 1], which is what the checkpoint sees after its transform_input.
 */
export async function loadInceptionV3(dir: string): Promise<InceptionNet> {
  const info = convertedModelInfo(dir);
  if (info?.net !== 'inceptionv3') throw new Error(`${dir}: not an Inception-v3 converted by "vii weights convert" (run: vii weights fetch inception)`);
  const model = await loadLayersModelFromDir(dir, false);
  const pool = tf.model({ inputs: model.inputs, outputs: model.getLayer('avgpool').output as tf.SymbolicTensor });
  const input = (x01: tf.Tensor4D) => {
    const resized = x01.shape[1] === 299 && x01.shape[2] === 299 ? x01 : tf.image.resizeBilinear(x01, [299, 299], false, true);
    return tf.sub(tf.mul(resized, 2), 1);
  };
  return {
    description: `Inception-v3 (torchvision ImageNet checkpoint ${info.source}, sha256 ${info.sha256.slice(0, 12)}…)`,
    probabilities: (x01) => tf.tidy(() => tf.softmax(model.predict(input(x01)) as tf.Tensor2D)),
    poolFeatures: (x01) => tf.tidy(() => pool.predict(input(x01)) as tf.Tensor2D),
    dispose: () => model.dispose(),
  };
}
