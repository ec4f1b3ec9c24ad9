import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { compileFrozenConvGraph, type KerasLayer } from '../models/frozenConvGraph';
import { convertedModelInfo } from './convertCheckpoint';
import { CONVERTED_VGG16, weightsDir } from './weightsDir';

/**
 * A frozen pretrained CNN whose activations η_l give the perceptual loss (and the LPIPS-style
 * distances of the metrics). Input: images in [0, 1], NHWC RGB; it applies its own normalisation.
 */
export interface FeatureNet {
  /** Names the network in every result (e.g. "MobileNetV2 (ImageNet-initialised, nsfwjs@4.4.0)"). */
  description: string;
  id: 'mobilenetv2' | 'vgg16' | 'inceptionv3';
  layers: string[];
  /** Activations of `layers`, in order. Differentiable; the caller disposes them. */
  features(x01: tf.Tensor4D): tf.Tensor4D[];
  dispose(): void;
}

type ModelJson = { modelTopology: { model_config?: unknown } & Record<string, unknown>; weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[] };

type LayerConfig = { name: string; class_name: string; config: { batch_input_shape?: (number | null)[] } };
type Topology = { model_config?: { config: KerasGraph } } & Partial<{ config: KerasGraph }>;
type KerasGraph = { layers: LayerConfig[]; output_layers: unknown[] };

/**
 * Build a TF.js layers model from its JSON and weight bytes. `cutAt` drops the layers after it
 * (e.g. a classifier head whose Flatten needs a fixed size), so the input can be size-agnostic.
 */
async function loadFromParts(json: ModelJson, shards: Uint8Array[], options: { anySize: boolean; cutAt?: string }): Promise<tf.LayersModel> {
  const topology = JSON.parse(JSON.stringify(json.modelTopology)) as Topology & Record<string, unknown>;
  delete topology.training_config;
  const graph = (topology.model_config?.config ?? topology.config) as KerasGraph;
  if (options.cutAt) {
    const at = graph.layers.findIndex((l) => l.name === options.cutAt);
    if (at < 0) throw new Error(`model has no layer "${options.cutAt}" to cut at`);
    graph.layers = graph.layers.slice(0, at + 1);
    graph.output_layers = [[options.cutAt, 0, 0]];
  }
  if (options.anySize) {
    for (const layer of graph.layers) {
      const shape = layer.config.batch_input_shape;
      if (layer.class_name === 'InputLayer' && shape) layer.config.batch_input_shape = [null, null, null, shape[shape.length - 1]];
    }
  }
  const model = await tf.models.modelFromJSON({ modelTopology: topology } as unknown as tf.io.ModelJSON);
  const weights = tf.io.decodeWeights(concatBytes(shards), json.weightsManifest.flatMap((g) => g.weights));
  // Not strict: the weights of a cut-off head are simply not used.
  model.loadWeights(weights, false);
  tf.dispose(Object.values(weights));
  return model;
}

/** A TF.js layers model saved on disk (model.json + binary shards), e.g. a user's VGG16. */
export async function loadLayersModelFromDir(dirOrJson: string, anySize = true): Promise<tf.LayersModel> {
  const file = dirOrJson.endsWith('.json') ? dirOrJson : path.join(dirOrJson, 'model.json');
  if (!fs.existsSync(file)) throw new Error(`${file}: no TF.js model.json here (convert a Keras model with tensorflowjs_converter --output_format tfjs_layers_model)`);
  const json = JSON.parse(fs.readFileSync(file, 'utf8')) as ModelJson;
  if (!json.modelTopology || !json.weightsManifest) throw new Error(`${file}: not a TF.js layers model (modelTopology / weightsManifest missing)`);
  const shards = json.weightsManifest.flatMap((g) =>
    g.paths.map((p) => {
      const shard = path.join(path.dirname(file), p);
      if (!fs.existsSync(shard)) throw new Error(`${file}: weight shard ${shard} is missing`);
      return new Uint8Array(fs.readFileSync(shard));
    }),
  );
  return loadFromParts(json, shards, { anySize });
}

/** nsfwjs ships its models as CommonJS modules: topology + base64 weight shards. */
export const NSFWJS_MODELS_ENV = 'VII_NSFWJS_MODELS';

/** nsfwjs' dist/models folder, or $VII_NSFWJS_MODELS (a packed GPU run carries a copy: no node_modules there). */
function nsfwjsModelsDir(): string {
  const override = process.env[NSFWJS_MODELS_ENV];
  if (override) return override;
  // nsfwjs' exports map hides package.json; find its root from the main entry.
  let root = path.dirname(require.resolve('nsfwjs'));
  while (!fs.existsSync(path.join(root, 'dist', 'models')) && path.dirname(root) !== root) root = path.dirname(root);
  return path.join(root, 'dist', 'models');
}

function readNsfwjsModel(name: 'mobilenet_v2' | 'inception_v3'): { json: ModelJson; shards: Uint8Array[] } {
  const dir = path.join(nsfwjsModelsDir(), name);
  if (!fs.existsSync(dir)) throw new Error(`nsfwjs model folder ${dir} not found (is nsfwjs@4.4.0 installed?)`);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const json = require(path.join(dir, 'model.min.js')) as ModelJson;
  const shards = json.weightsManifest.flatMap((g) =>
    g.paths.map((p) => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const b64 = require(path.join(dir, `${p}.min.js`)) as string;
      return new Uint8Array(Buffer.from(b64, 'base64'));
    }),
  );
  return { json, shards };
}

/** One buffer from shard bytes (fs Buffers are views into a shared pool, so not CompositeArrayBuffer.join of their .buffer). */
function concatBytes(parts: Uint8Array[]): ArrayBuffer {
  const out = new Uint8Array(parts.reduce((s, b) => s + b.length, 0));
  let offset = 0;
  for (const b of parts) {
    out.set(b, offset);
    offset += b.length;
  }
  return out.buffer;
}

function frozenFeatureNet(
  model: tf.LayersModel,
  id: FeatureNet['id'],
  description: string,
  layers: string[],
  normalise: (x01: tf.Tensor4D) => tf.Tensor4D,
  onDispose?: () => void,
): FeatureNet {
  for (const l of layers) {
    try {
      model.getLayer(l);
    } catch {
      throw new Error(`${description}: no layer "${l}"`);
    }
  }
  const cut = tf.model({ inputs: model.inputs, outputs: layers.map((l) => model.getLayer(l).output as tf.SymbolicTensor) });
  cut.trainable = false;
  return {
    id,
    description,
    layers,
    features(x01) {
      const out = cut.apply(normalise(x01), { training: false }) as tf.Tensor4D | tf.Tensor4D[];
      return Array.isArray(out) ? out : [out];
    },
    dispose() {
      model.dispose();
      onDispose?.();
    },
  };
}

export const MOBILENETV2_DESCRIPTION = 'MobileNetV2 (ImageNet-initialised, nsfwjs@4.4.0)';

/**
 * The offline default: MobileNetV2 from nsfwjs@4.4.0 (ImageNet-initialised, then fine-tuned by
 * nsfwjs on 5 classes; uint8-quantised weights), run by the frozen-graph interpreter at any input
 * size. Inputs scaled to [-1, 1] as Keras MobileNetV2 expects.
 */
export async function loadMobileNetV2(layers: string[]): Promise<FeatureNet> {
  const { json, shards } = readNsfwjsModel('mobilenet_v2');
  const graph = (json.modelTopology as unknown as { model_config: { config: { layers: KerasLayer[] } } }).model_config.config;
  const weights = tf.io.decodeWeights(concatBytes(shards), json.weightsManifest.flatMap((g) => g.weights));
  let compiled: ReturnType<typeof compileFrozenConvGraph>;
  try {
    compiled = compileFrozenConvGraph(graph.layers, weights, layers);
  } finally {
    tf.dispose(Object.values(weights));
  }
  return {
    id: 'mobilenetv2',
    description: MOBILENETV2_DESCRIPTION,
    layers,
    features: (x01) => compiled.run(tf.sub(tf.mul(x01, 2), 1)),
    dispose: () => compiled.dispose(),
  };
}

/**
 * VGG16 from a user's path: converted from torchvision by `vii weights convert` (RGB, ImageNet
 * mean/std, as torchvision's checkpoint was trained), or a Keras VGG16 converted with
 * tensorflowjs_converter (caffe preprocessing: BGR, ImageNet means subtracted, 0..255).
 */
export async function loadVgg16(modelPath: string, layers: string[]): Promise<FeatureNet> {
  const model = await loadLayersModelFromDir(modelPath);
  const torchvision = convertedModelInfo(modelPath)?.input === 'torchvision-imagenet';
  const mean = torchvision ? tf.tensor1d([0.485, 0.456, 0.406]) : tf.tensor1d([103.939, 116.779, 123.68]);
  const std = tf.tensor1d([0.229, 0.224, 0.225]);
  const normalise = torchvision
    ? (x: tf.Tensor4D) => tf.div(tf.sub(x, mean), std) as tf.Tensor4D
    : (x: tf.Tensor4D) => tf.sub(tf.mul(tf.reverse(x, -1), 255), mean) as tf.Tensor4D;
  const origin = torchvision ? 'torchvision' : 'Keras';
  return frozenFeatureNet(model, 'vgg16', `VGG16 (ImageNet, ${origin}, ${modelPath})`, layers, normalise, () => tf.dispose([mean, std]));
}

/**
 * nsfwjs' InceptionV3 (Keras, ImageNet-initialised, fine-tuned by nsfwjs on 5 classes, uint8
 * weights) up to `cutAt`, at any input size; it takes images in [0, 1] as nsfwjs feeds it.
 */
export async function loadNsfwjsInceptionV3(cutAt: string): Promise<tf.LayersModel> {
  const { json, shards } = readNsfwjsModel('inception_v3');
  return loadFromParts(json, shards, { anySize: true, cutAt });
}

/** nsfwjs' InceptionV3 with several layers' outputs (up to the last of them), at any input size; images in [0, 1]. */
export async function loadNsfwjsInceptionV3Layers(layers: string[]): Promise<tf.LayersModel> {
  const model = await loadNsfwjsInceptionV3(layers[layers.length - 1]);
  return tf.model({ inputs: model.inputs, outputs: layers.map((l) => model.getLayer(l).output as tf.SymbolicTensor) });
}

/** The same MobileNetV2 through tfjs-layers (the reference the frozen-graph interpreter is tested against). */
export async function loadMobileNetV2Layers(layers: string[]): Promise<tf.LayersModel> {
  const { json, shards } = readNsfwjsModel('mobilenet_v2');
  const model = await loadFromParts(json, shards, { anySize: true, cutAt: 'out_relu' });
  return tf.model({ inputs: model.inputs, outputs: layers.map((l) => model.getLayer(l).output as tf.SymbolicTensor) });
}

export async function loadFeatureNet(spec: { net: 'mobilenetv2' | 'vgg16'; path?: string }, layers: string[]): Promise<FeatureNet> {
  if (spec.net === 'vgg16') {
    // Without a path: the VGG16 that `vii weights fetch vgg16` converted.
    const dir = spec.path ?? path.join(weightsDir(), CONVERTED_VGG16);
    if (!spec.path && !fs.existsSync(path.join(dir, 'model.json'))) throw new Error(`the vgg16 feature net needs torchvision's VGG16: run "vii weights fetch vgg16" (converts it into ${dir}) or give --feature-net-path DIR`);
    return loadVgg16(dir, layers);
  }
  return loadMobileNetV2(layers);
}
