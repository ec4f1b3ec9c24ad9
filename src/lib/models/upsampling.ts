import * as tf from '@tensorflow/tfjs';

/**
 * How the decoder doubles its resolution (ModelConfig.upsampling):
 * - `transposed`: a 4×4/2 transposed convolution (the paper's, DCGAN's). Its kernel overlaps
 *   unevenly on the output grid, which leaves a stride-2 checkerboard (Odena et al. 2016).
 * - `resize`: nearest-neighbour ×2, then a 3×3 convolution (Odena et al. 2016's resize-convolution):
 *   every output pixel sees the same number of inputs. A 3×3 kernel holds 9/16 of a 4×4's weights,
 *   so the hidden widths are 4/3 wider to keep the parameter budget (within 10 %).
 * - `subpixel`: a 2×2 convolution to 4× the channels, then depth-to-space (Shi et al. 2016). As
 *   many weights as the 4×4/2 transposed convolution (whose four output phases it computes
 *   separately), initialised ICNR-style (Aitken et al. 2017; tieSubpixelPhases): the four phases
 *   start equal, as nearest ×2 of one 2×2 convolution, so training starts without a checkerboard.
 */
export type Upsampling = 'transposed' | 'resize' | 'subpixel';
export const UPSAMPLINGS: readonly Upsampling[] = ['transposed', 'resize', 'subpixel'];

/** Hidden-width factor that keeps a resize-convolution decoder's parameter count near the transposed one's. */
const RESIZE_WIDTH = 4 / 3;

/** The decoder blocks' output widths (the last is RGB), for the configured upsampling. */
export function decoderWidths(encoderChannels: readonly number[], upsampling: Upsampling): number[] {
  const hidden = [...encoderChannels].reverse().slice(1);
  return [...hidden.map((w) => (upsampling === 'resize' ? Math.round(w * RESIZE_WIDTH) : w)), 3];
}

/** [B, H, W, 4C] → [B, 2H, 2W, C]; channel block (dy·2 + dx) becomes output phase (dy, dx). Reshape + transpose, so it has a gradient on every backend. */
export class DepthToSpace2 extends tf.layers.Layer {
  static className = 'DepthToSpace2';

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const [n, h, w, c] = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    return [n, h == null ? null : 2 * h, w == null ? null : 2 * w, c == null ? null : c / 4];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
    const [b, h, w, c4] = x.shape;
    const c = c4 / 4;
    return tf.tidy(() => tf.reshape(tf.transpose(tf.reshape(x, [b, h, w, 2, 2, c]), [0, 1, 3, 2, 4, 5]), [b, 2 * h, 2 * w, c]));
  }
}
tf.serialization.registerClass(DepthToSpace2);

/**
 * ICNR initialisation of a built sub-pixel layer (its kernel [2, 2, Cin, 4C]): the first phase's
 * C output channels (and biases) are copied to the other three.
 */
export function tieSubpixelPhases(layer: tf.layers.Layer): void {
  const [kernel, bias] = layer.getWeights();
  const tied = tf.tidy(() => {
    const c = (kernel.shape[3] as number) / 4;
    const k = tf.slice(kernel, [0, 0, 0, 0], [-1, -1, -1, c]);
    const b = tf.slice(bias, [0], [c]);
    return [tf.concat([k, k, k, k], 3), tf.concat([b, b, b, b])];
  });
  layer.setWeights(tied);
  tf.dispose(tied);
}

/** One decoder block: double the resolution of `h` to `filters` channels. */
export function upsampleBlock(
  h: tf.SymbolicTensor,
  o: { filters: number; activation: 'relu' | 'sigmoid'; init: ReturnType<typeof tf.initializers.glorotUniform>; name: string; upsampling: Upsampling },
): tf.SymbolicTensor {
  const { filters, activation, init, name } = o;
  switch (o.upsampling) {
    case 'transposed':
      return tf.layers.conv2dTranspose({ filters, kernelSize: 4, strides: 2, padding: 'same', activation, kernelInitializer: init, name }).apply(h) as tf.SymbolicTensor;
    case 'resize': {
      const up = tf.layers.upSampling2d({ size: [2, 2], interpolation: 'nearest', name: `${name}_nearest` }).apply(h) as tf.SymbolicTensor;
      return tf.layers.conv2d({ filters, kernelSize: 3, padding: 'same', activation, kernelInitializer: init, name }).apply(up) as tf.SymbolicTensor;
    }
    case 'subpixel': {
      // The activation is elementwise, so it commutes with the depth-to-space permutation.
      const phases = tf.layers.conv2d({ filters: 4 * filters, kernelSize: 2, padding: 'same', activation, kernelInitializer: init, name }).apply(h) as tf.SymbolicTensor;
      return new DepthToSpace2({ name: `${name}_d2s` }).apply(phases) as tf.SymbolicTensor;
    }
  }
}
