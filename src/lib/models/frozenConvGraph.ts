import * as tf from '@tensorflow/tfjs';

/** A Keras functional-model layer as stored in a TF.js model.json. */
export interface KerasLayer {
  name: string;
  class_name: string;
  config: Record<string, unknown>;
  inbound_nodes: [string, number, number, unknown][][];
}

interface GraphNode {
  inputs: string[];
  run: (inputs: tf.Tensor4D[]) => tf.Tensor4D;
}

const pair = (v: unknown): [number, number] => (Array.isArray(v) ? [v[0], v[1]] : [Number(v), Number(v)]);

/**
 * Inference-only interpreter for frozen conv nets (InputLayer, ZeroPadding2D, Conv2D,
 * DepthwiseConv2D, BatchNormalization, ReLU, Add), as used for a perceptual loss. Batch norms are
 * folded into the preceding convolution, and plain (unfused) tf ops are used, so backpropagating
 * to the input computes only input gradients: tfjs-layers' fused convs also compute the filter
 * gradients of frozen weights, and its batch-norm layers cost a kernel each.
 * Returns a differentiable function from the input to the named layers' activations.
 */
export function compileFrozenConvGraph(layers: KerasLayer[], weights: tf.NamedTensorMap, outputs: string[]): { run: (x: tf.Tensor4D) => tf.Tensor4D[]; dispose: () => void } {
  const byName = new Map(layers.map((l) => [l.name, l]));
  const consumers = new Map<string, number>();
  for (const l of layers) for (const [src] of l.inbound_nodes[0] ?? []) consumers.set(src, (consumers.get(src) ?? 0) + 1);
  const owned: tf.Tensor[] = [];
  const keep = <T extends tf.Tensor>(t: T): T => {
    owned.push(t);
    return tf.keep(t);
  };
  const weight = (name: string): tf.Tensor => {
    const w = weights[name];
    if (!w) throw new Error(`frozen graph: weight ${name} missing`);
    return w;
  };

  // Needed layers: everything upstream of the requested outputs.
  const needed = new Set<string>();
  const visit = (name: string): void => {
    if (needed.has(name)) return;
    const l = byName.get(name);
    if (!l) throw new Error(`frozen graph: no layer "${name}"`);
    needed.add(name);
    for (const [src] of l.inbound_nodes[0] ?? []) visit(src);
  };
  outputs.forEach(visit);

  // Per-output-channel affine of each batch norm that directly follows a conv used only by it.
  const folded = new Map<string, { scale: tf.Tensor1D; shift: tf.Tensor1D }>();
  const bnAffine = (bn: KerasLayer) =>
    tf.tidy(() => {
      const eps = Number(bn.config.epsilon ?? 1e-3);
      const gamma = bn.config.scale === false ? tf.scalar(1) : weight(`${bn.name}/gamma`);
      const beta = bn.config.center === false ? tf.scalar(0) : weight(`${bn.name}/beta`);
      const scale = tf.mul(gamma, tf.rsqrt(tf.add(weight(`${bn.name}/moving_variance`), eps))) as tf.Tensor1D;
      const shift = tf.sub(beta, tf.mul(weight(`${bn.name}/moving_mean`), scale)) as tf.Tensor1D;
      return { scale: keep(scale), shift: keep(shift) };
    });
  for (const l of layers) {
    if (l.class_name !== 'BatchNormalization' || !needed.has(l.name)) continue;
    const src = byName.get(l.inbound_nodes[0][0][0])!;
    if ((src.class_name === 'Conv2D' || src.class_name === 'DepthwiseConv2D') && consumers.get(src.name) === 1 && !outputs.includes(src.name)) {
      folded.set(src.name, bnAffine(l));
    }
  }

  const nodes = new Map<string, GraphNode>();
  for (const l of layers) {
    if (!needed.has(l.name)) continue;
    const inputs = (l.inbound_nodes[0] ?? []).map(([src]) => src);
    const c = l.config;
    let run: GraphNode['run'];
    switch (l.class_name) {
      case 'InputLayer':
        run = ([x]) => x;
        break;
      case 'ZeroPadding2D': {
        const [[t, b], [le, r]] = c.padding as [[number, number], [number, number]];
        run = ([x]) => tf.pad(x, [[0, 0], [t, b], [le, r], [0, 0]]);
        break;
      }
      case 'Conv2D':
      case 'DepthwiseConv2D': {
        const depthwise = l.class_name === 'DepthwiseConv2D';
        if (depthwise && Number(c.depth_multiplier ?? 1) !== 1) throw new Error(`frozen graph: ${l.name} has depth_multiplier ${c.depth_multiplier}`);
        if (c.activation !== 'linear') throw new Error(`frozen graph: ${l.name} has activation ${c.activation}`);
        const f = folded.get(l.name);
        const kernel = keep(
          tf.tidy(() => {
            const k = weight(`${l.name}/${depthwise ? 'depthwise_kernel' : 'kernel'}`) as tf.Tensor4D;
            // Output channels are the last axis of a conv kernel, the third of a depthwise one.
            return f ? (depthwise ? tf.mul(k, tf.reshape(f.scale, [1, 1, -1, 1])) : tf.mul(k, f.scale)) : k.clone();
          }) as tf.Tensor4D,
        );
        const rawBias = c.use_bias ? weight(`${l.name}/bias`) : null;
        let bias: tf.Tensor | null = null;
        if (f) bias = keep(tf.tidy(() => (rawBias ? tf.add(tf.mul(rawBias, f.scale), f.shift) : f.shift.clone())));
        else if (rawBias) bias = keep(rawBias.clone());
        const strides = pair(c.strides);
        const padding = c.padding as 'same' | 'valid';
        const dilations = pair(c.dilation_rate ?? 1);
        run = ([x]) => {
          const y = depthwise ? tf.depthwiseConv2d(x, kernel, strides, padding, 'NHWC', dilations) : tf.conv2d(x, kernel, strides, padding, 'NHWC', dilations);
          return bias ? tf.add(y, bias) : y;
        };
        break;
      }
      case 'BatchNormalization': {
        if (folded.has(inputs[0])) {
          run = ([x]) => x;
        } else {
          const { scale, shift } = bnAffine(l);
          run = ([x]) => tf.add(tf.mul(x, scale), shift);
        }
        break;
      }
      case 'ReLU': {
        const max = c.max_value == null ? null : Number(c.max_value);
        if (Number(c.negative_slope ?? 0) !== 0 || Number(c.threshold ?? 0) !== 0) throw new Error(`frozen graph: ${l.name} is a leaky/thresholded ReLU`);
        run = ([x]) => (max === 6 ? tf.relu6(x) : max === null ? tf.relu(x) : tf.clipByValue(x, 0, max));
        break;
      }
      case 'Add':
        run = (xs) => tf.addN(xs) as tf.Tensor4D;
        break;
      default:
        throw new Error(`frozen graph: layer ${l.name} of type ${l.class_name} is not supported`);
    }
    nodes.set(l.name, { inputs, run });
  }
  tf.dispose([...folded.values()].flatMap((v) => [v.scale, v.shift]));
  const order = layers.filter((l) => needed.has(l.name)).map((l) => l.name);
  const inputName = order.find((n) => byName.get(n)!.class_name === 'InputLayer');
  if (!inputName) throw new Error('frozen graph: no InputLayer');

  return {
    run(x) {
      const values = new Map<string, tf.Tensor4D>([[inputName, x]]);
      for (const name of order) {
        if (name === inputName) continue;
        const node = nodes.get(name)!;
        values.set(name, node.run(node.inputs.map((i) => values.get(i)!)));
      }
      return outputs.map((o) => values.get(o)!);
    },
    dispose() {
      tf.dispose(owned);
    },
  };
}
