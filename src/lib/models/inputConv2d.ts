import * as tf from '@tensorflow/tfjs';

export interface InputConv2dArgs {
  filters: number;
  kernelSize: number;
  strides: number;
  kernelInitializer: ReturnType<typeof tf.initializers.glorotUniform>;
  name: string;
}

/**
 * A conv + bias layer for the network's input, with the weights (names, shapes, initialisers)
 * of tf.layers.conv2d. tf.layers.conv2d runs tfjs-core's fused conv, whose custom gradient also
 * computes the input gradient, a full transposed conv that nothing uses when the input is data
 * (~10 ms of a 64×64 training step on wasm). The plain conv's gradient is pruned there.
 */
export class InputConv2d extends tf.layers.Layer {
  static className = 'InputConv2d';
  private readonly args: InputConv2dArgs;
  private kernel: tf.LayerVariable | null = null;
  private bias: tf.LayerVariable | null = null;

  constructor(args: InputConv2dArgs) {
    super({ name: args.name });
    this.args = args;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const channels = shape[shape.length - 1];
    if (channels == null) throw new Error(`${this.name}: the input's channel count must be known`);
    const { kernelSize: k, filters } = this.args;
    this.kernel = this.addWeight('kernel', [k, k, channels, filters], 'float32', this.args.kernelInitializer);
    this.bias = this.addWeight('bias', [filters], 'float32', tf.initializers.zeros());
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const [n, h, w] = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const s = this.args.strides;
    return [n, h == null ? null : Math.ceil(h / s), w == null ? null : Math.ceil(w / s), this.args.filters];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
    return tf.tidy(() => tf.add(tf.conv2d(x, this.kernel!.read() as tf.Tensor4D, this.args.strides, 'same'), this.bias!.read()));
  }

  override getConfig(): tf.serialization.ConfigDict {
    const { filters, kernelSize, strides } = this.args;
    return { ...super.getConfig(), filters, kernelSize, strides };
  }
}
tf.serialization.registerClass(InputConv2d);
