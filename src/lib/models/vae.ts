import * as tf from '@tensorflow/tfjs';
import { decoderAttributes, encoderAttributes, type ModelConfig } from './config';
import { InputConv2d } from './inputConv2d';
import { tfSeed } from '../rng';
import { decoderWidths, tieSubpixelPhases, upsampleBlock } from './upsampling';

/**
 * The one model family of the paper. A DCGAN-style conv encoder (4×4/2 convs, leaky ReLU) to
 * μ, log σ² and a mirrored decoder (4×4/2 transposed convs by default; ModelConfig.upsampling) with a sigmoid output. The configuration adds
 * the mask channel to the encoder (masked training), y to the encoder and/or decoder, and the
 * observed image x' (with its mask, resized to every decoder stage) to the decoder of the
 * one-shot model.
 */
export interface Vae {
  config: ModelConfig;
  encoder: tf.LayersModel;
  decoder: tf.LayersModel;
  /** q(z | x', [m], [y]) → μ, log σ². */
  encode(x: tf.Tensor4D, mask: tf.Tensor4D | null, y: tf.Tensor2D | null): { mu: tf.Tensor2D; logVar: tf.Tensor2D };
  /** p(x | z, [y], [x', m]) → mean image in [0, 1]. */
  decode(z: tf.Tensor2D, y: tf.Tensor2D | null, observed: { x: tf.Tensor4D; mask: tf.Tensor4D } | null): tf.Tensor4D;
  trainableWeights(): tf.Variable[];
  dispose(): void;
}

export function encoderInputChannels(c: ModelConfig): number {
  return c.trainInput === 'masked' ? 4 : 3;
}

/** Build the encoder and decoder; weights are initialised from `seed`. */
export function buildVae(config: ModelConfig, seed: number): Vae {
  const S = config.imageSize;
  const A = config.attributes.length;
  let seedCounter = seed * 1000;
  const init = () => tf.initializers.glorotUniform({ seed: seedCounter++ });

  // Encoder
  const xIn = tf.input({ shape: [S, S, encoderInputChannels(config)], name: 'enc_x' });
  let h: tf.SymbolicTensor = xIn;
  config.channels.forEach((ch, i) => {
    const args = { filters: ch, kernelSize: 4, strides: 2, kernelInitializer: init(), name: `enc_conv${i}` };
    // The first conv sees data, whose gradient is never needed (see InputConv2d).
    const conv = i === 0 ? new InputConv2d(args) : tf.layers.conv2d({ ...args, padding: 'same' });
    h = conv.apply(h) as tf.SymbolicTensor;
    h = tf.layers.leakyReLU({ alpha: 0.2 }).apply(h) as tf.SymbolicTensor;
  });
  h = tf.layers.flatten().apply(h) as tf.SymbolicTensor;
  const encInputs = [xIn];
  if (encoderAttributes(config)) {
    const yIn = tf.input({ shape: [A], name: 'enc_y' });
    encInputs.push(yIn);
    h = tf.layers.concatenate().apply([h, yIn]) as tf.SymbolicTensor;
  }
  const mu = tf.layers.dense({ units: config.latentDim, kernelInitializer: init(), name: 'enc_mu' }).apply(h) as tf.SymbolicTensor;
  const logVar = tf.layers.dense({ units: config.latentDim, kernelInitializer: tf.initializers.zeros(), name: 'enc_logvar' }).apply(h) as tf.SymbolicTensor;
  const encoder = tf.model({ inputs: encInputs, outputs: [mu, logVar], name: 'encoder' });

  // Decoder
  const base = S / 2 ** config.channels.length;
  const widths = [...config.channels].reverse();
  const zIn = tf.input({ shape: [config.latentDim], name: 'dec_z' });
  const decInputs = [zIn];
  let d: tf.SymbolicTensor = zIn;
  let yDec: tf.SymbolicTensor | null = null;
  if (decoderAttributes(config)) {
    yDec = tf.input({ shape: [A], name: 'dec_y' });
    decInputs.push(yDec);
    d = tf.layers.concatenate().apply([d, yDec]) as tf.SymbolicTensor;
  }
  d = tf.layers.dense({ units: base * base * widths[0], activation: 'relu', kernelInitializer: init(), name: 'dec_fc' }).apply(d) as tf.SymbolicTensor;
  d = tf.layers.reshape({ targetShape: [base, base, widths[0]] }).apply(d) as tf.SymbolicTensor;
  let obsIn: tf.SymbolicTensor | null = null;
  if (config.decoderSeesObserved) {
    obsIn = tf.input({ shape: [S, S, 4], name: 'dec_observed' });
    decInputs.push(obsIn);
  }
  const upsampling = config.upsampling ?? 'transposed';
  const outWidths = decoderWidths(config.channels, upsampling);
  outWidths.forEach((ch, i) => {
    const last = i === outWidths.length - 1;
    // y modulates every decoder block (FiLM): concatenated once with z it was ignored, because the
    // encoder's z already carried the attributes; a per-channel scale and shift at every
    // resolution is a path the decoder cannot route around.
    if (yDec) d = film(d, yDec, i === 0 ? widths[0] : outWidths[i - 1], `dec_film${i}`);
    if (obsIn) {
      // x' and m at this stage's resolution, so the decoder can copy and blend what is observed.
      const factor = S / (base * 2 ** i);
      const obs = factor > 1 ? (tf.layers.averagePooling2d({ poolSize: [factor, factor], strides: [factor, factor] }).apply(obsIn) as tf.SymbolicTensor) : obsIn;
      d = tf.layers.concatenate().apply([d, obs]) as tf.SymbolicTensor;
    }
    d = upsampleBlock(d, { filters: ch, activation: last ? 'sigmoid' : 'relu', init: init(), name: `dec_deconv${i}`, upsampling });
  });
  const decoder = tf.model({ inputs: decInputs, outputs: d, name: 'decoder' });
  if (upsampling === 'subpixel') outWidths.forEach((_, i) => tieSubpixelPhases(decoder.getLayer(`dec_deconv${i}`)));

  return {
    config,
    encoder,
    decoder,
    encode(x, mask, y) {
      const inputs: tf.Tensor[] = [config.trainInput === 'masked' ? tf.concat([x, requireTensor(mask, 'mask')], 3) : x];
      if (encoderAttributes(config)) inputs.push(requireTensor(y, 'attributes y'));
      const [m, lv] = encoder.apply(inputs) as tf.Tensor2D[];
      return { mu: m, logVar: lv };
    },
    decode(z, y, observed) {
      const inputs: tf.Tensor[] = [z];
      if (decoderAttributes(config)) inputs.push(requireTensor(y, 'attributes y'));
      if (config.decoderSeesObserved) {
        const o = requireTensor(observed, 'the observed image x\' and mask');
        inputs.push(tf.concat([o.x, o.mask], 3));
      }
      return decoder.apply(inputs) as tf.Tensor4D;
    },
    trainableWeights() {
      return [...encoder.trainableWeights, ...decoder.trainableWeights].map((w) => w.read() as tf.Variable);
    },
    dispose() {
      encoder.dispose();
      decoder.dispose();
    },
  };
}

/**
 * Feature-wise linear modulation (Perez et al. 2018): h ⊙ (1 + γ(y)) + β(y), γ and β dense in y,
 * per channel, broadcast over space. Zero-initialised, so an untrained block is the identity.
 */
function film(h: tf.SymbolicTensor, y: tf.SymbolicTensor, channels: number, name: string): tf.SymbolicTensor {
  const perChannel = (suffix: string, bias: 'ones' | 'zeros') => {
    const v = tf.layers.dense({ units: channels, kernelInitializer: 'zeros', biasInitializer: bias, name: `${name}_${suffix}` }).apply(y) as tf.SymbolicTensor;
    return tf.layers.reshape({ targetShape: [1, 1, channels] }).apply(v) as tf.SymbolicTensor;
  };
  const scaled = tf.layers.multiply().apply([h, perChannel('scale', 'ones')]) as tf.SymbolicTensor;
  return tf.layers.add().apply([scaled, perChannel('shift', 'zeros')]) as tf.SymbolicTensor;
}

function requireTensor<T>(t: T | null, what: string): T {
  if (t === null) throw new Error(`this model needs ${what}`);
  return t;
}

/** z = μ + σ ε with ε from a seeded normal (reparameterisation trick). */
export function reparameterise(mu: tf.Tensor2D, logVar: tf.Tensor2D, seed: number): tf.Tensor2D {
  return tf.tidy(() => tf.add(mu, tf.mul(tf.exp(tf.mul(logVar, 0.5)), tf.randomNormal(mu.shape, 0, 1, 'float32', tfSeed(seed)))) as tf.Tensor2D);
}
