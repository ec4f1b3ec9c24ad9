import * as fs from 'fs';
import { sha256File } from '../io/sha256File';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { readTorchCheckpoint, TorchCheckpointError, type TorchTensor } from './torchCheckpoint';
import { StateDictReader } from './torchTensors';
import { isVgg16Classifier, vgg16FromTorch } from './vgg16FromTorch';
import { inceptionV3FromTorch, isInceptionExtra } from './inceptionV3FromTorch';
import { writeFileAtomic, writeJsonAtomic } from '../io/atomicWrite';
import { CONVERTED_VGG16 } from './weightsDir';

/** What a converted model's model.json says about itself (userDefinedMetadata.vii). */
export interface ConvertedModelInfo {
  net: 'vgg16' | 'inceptionv3';
  /** How images in [0, 1] become the network's input. */
  input: 'torchvision-imagenet' | 'minus-one-one';
  /** The checkpoint it came from, and its SHA-256. */
  source: string;
  sha256: string;
}

export type ConvertedKind = ConvertedModelInfo['net'] | 'lpips-linear';

export interface ConversionResult {
  kind: ConvertedKind;
  /** A model folder (model.json + weights.bin) or, for LPIPS lin weights, a JSON file. */
  out: string;
  tensors: number;
}

/** Which network a state dict belongs to, from its keys. */
export function detectCheckpoint(file: string, dict: Map<string, TorchTensor>): ConvertedKind {
  if (dict.has('features.0.weight') && dict.has('features.28.weight')) return 'vgg16';
  if (dict.has('Mixed_7c.branch_pool.conv.weight') && dict.has('fc.weight')) return 'inceptionv3';
  if ([...dict.keys()].some((k) => /^lin\d+\.model\.1\.weight$/.test(k))) return 'lpips-linear';
  const some = [...dict.keys()].slice(0, 5).join(', ');
  throw new TorchCheckpointError(`${file}: not a checkpoint of torchvision VGG16, torchvision Inception-v3 or LPIPS lin layers (keys: ${some}, …)`);
}

export const DEFAULT_CONVERTED_NAMES: Record<ConvertedKind, string> = {
  vgg16: CONVERTED_VGG16,
  inceptionv3: 'inception_v3-tfjs',
  'lpips-linear': 'lpips-vgg.json',
};

/** Writes a TF.js layers model (model.json + weights.bin) so that a reader never sees half a folder. */
async function saveLayersModel(model: tf.LayersModel, dir: string, info: ConvertedModelInfo): Promise<void> {
  const staging = `${dir}.${process.pid}.tmp`;
  fs.rmSync(staging, { recursive: true, force: true });
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      const weights = new Uint8Array(tf.io.CompositeArrayBuffer.join(a.weightData));
      writeFileAtomic(path.join(staging, 'weights.bin'), weights);
      writeJsonAtomic(path.join(staging, 'model.json'), {
        format: 'layers-model',
        generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`,
        convertedBy: 'vii weights convert',
        modelTopology: a.modelTopology,
        weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }],
        userDefinedMetadata: { vii: info },
      });
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: weights.byteLength } };
    }),
  );
  const old = `${dir}.${process.pid}.old`;
  if (fs.existsSync(dir)) fs.renameSync(dir, old);
  fs.renameSync(staging, dir);
  fs.rmSync(old, { recursive: true, force: true });
}

/** The metadata a converted model carries, or null for a model converted some other way. */
export function convertedModelInfo(dir: string): ConvertedModelInfo | null {
  const file = dir.endsWith('.json') ? dir : path.join(dir, 'model.json');
  if (!fs.existsSync(file)) return null;
  const json = JSON.parse(fs.readFileSync(file, 'utf8')) as { userDefinedMetadata?: { vii?: ConvertedModelInfo } };
  return json.userDefinedMetadata?.vii ?? null;
}

/**
 * `vii weights convert FILE.pth`: a torchvision VGG16 or Inception-v3 state dict → a TF.js layers
 * model folder; LPIPS lin weights → the JSON the LPIPS code reads. Every tensor of the checkpoint
 * must be used (apart from heads the metrics do not need), so a wrong checkpoint is refused.
 */
export async function convertTorchCheckpoint(file: string, outDir: string, out?: string): Promise<ConversionResult> {
  const dict = readTorchCheckpoint(file);
  const kind = detectCheckpoint(file, dict);
  const target = out ?? path.join(outDir, DEFAULT_CONVERTED_NAMES[kind]);
  if (kind === 'lpips-linear') {
    const json: Record<string, { shape: number[]; data: number[] }> = {};
    for (const [k, t] of dict) if (/^lin\d+\.model\.1\.weight$/.test(k)) json[k] = { shape: t.shape, data: Array.from(t.data) };
    writeJsonAtomic(target, json);
    return { kind, out: target, tensors: Object.keys(json).length };
  }
  const reader = new StateDictReader(file, dict);
  const model = kind === 'vgg16' ? vgg16FromTorch(reader) : inceptionV3FromTorch(reader);
  try {
    const left = reader.unused(kind === 'vgg16' ? isVgg16Classifier : isInceptionExtra);
    if (left.length) throw new TorchCheckpointError(`${file}: ${left.length} tensors were not used by the ${kind} network (${left.slice(0, 3).join(', ')}…): not a torchvision ${kind} checkpoint`);
    const info: ConvertedModelInfo = { net: kind, input: kind === 'vgg16' ? 'torchvision-imagenet' : 'minus-one-one', source: path.resolve(file), sha256: sha256File(file) };
    await saveLayersModel(model, target, info);
    return { kind, out: target, tensors: dict.size };
  } finally {
    model.dispose();
  }
}
