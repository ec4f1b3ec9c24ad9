import * as tf from '@tensorflow/tfjs';
import { loadNsfwjsInceptionV3 } from '../weights/featureNet';
import { frechetDistance } from './frechet';
import type { InceptionNet } from './inceptionNet';

/** A network whose pooled features a Fréchet distance compares (FID, or a named substitute). */
export interface FrechetNet {
  /** The column's name: "FID" only for the real Inception-v3 pool features. */
  name: string;
  description: string;
  dim: number;
  /** [N, dim] features of images in [0, 1]; the caller disposes. */
  features(x01: tf.Tensor4D): tf.Tensor2D;
  dispose(): void;
}

/**
 * Input side for the substitute: 139×139 (InceptionV3's mixed10 is then 3×3; Keras' minimum is
 * 75). 299 would cost 4.6× more per image on 2 CPU cores for 64×64 sources.
 */
export const NSFWJS_INCEPTION_SIZE = 139;

/**
 * The offline substitute for FID: the same Fréchet computation on nsfwjs' InceptionV3 features
 * (mixed10, spatial mean: 2,048-d). Not the network the perceptual loss or PD use (MobileNetV2),
 * and not FID's network (TF's 2015 Inception, 299×299): its numbers are comparable only with each other.
 */
export async function nsfwjsInceptionFrechetNet(size = NSFWJS_INCEPTION_SIZE): Promise<FrechetNet> {
  const model = await loadNsfwjsInceptionV3('mixed10');
  return {
    name: 'FD-InceptionV3 (nsfwjs)',
    description: `Fréchet distance on InceptionV3 features (nsfwjs@4.4.0: ImageNet-initialised, fine-tuned on 5 classes; mixed10 spatial mean, 2,048-d; images resized bilinearly to ${size}×${size}) (substitute, not FID)`,
    dim: 2048,
    features: (x01) =>
      tf.tidy(() => {
        const resized = tf.image.resizeBilinear(x01, [size, size], false, true);
        return tf.mean(model.predict(resized) as tf.Tensor4D, [1, 2]) as tf.Tensor2D;
      }),
    dispose: () => model.dispose(),
  };
}

/** The real FID's features: Inception-v3's 2,048-d pool (torchvision's checkpoint, see the caption). */
export function inceptionPoolFrechetNet(inception: InceptionNet): FrechetNet {
  return {
    name: 'FID',
    description: `FID: Fréchet distance on the 2,048-d pool features of ${inception.description}, images resized to 299×299 (torchvision's weights, not TF's 2015 FID Inception: values are not comparable with published FIDs)`,
    dim: 2048,
    features: (x01) => inception.poolFeatures(x01),
    dispose: () => {},
  };
}

/** Features of a stream of batches, kept as one flat array (the Fréchet computation's input). */
export class FeatureSet {
  private readonly parts: Float32Array[] = [];
  constructor(readonly net: FrechetNet) {}
  async add(x01: tf.Tensor4D): Promise<void> {
    const f = this.net.features(x01);
    this.parts.push((await f.data()) as Float32Array);
    f.dispose();
  }
  get count(): number {
    return this.parts.reduce((s, p) => s + p.length, 0) / this.net.dim;
  }
  values(): Float32Array {
    const out = new Float32Array(this.parts.reduce((s, p) => s + p.length, 0));
    let offset = 0;
    for (const p of this.parts) {
      out.set(p, offset);
      offset += p.length;
    }
    return out;
  }
  distanceTo(other: FeatureSet): number {
    return frechetDistance(this.values(), other.values(), this.net.dim);
  }
}
