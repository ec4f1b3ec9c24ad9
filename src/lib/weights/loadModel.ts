import * as tf from '@tensorflow/tfjs';
import { loadCheckpoint, type CheckpointMeta } from '../models/checkpoint';
import { setModelWeights } from '../models/checkpoint';
import { buildVae, type Vae } from '../models/vae';

/** A trained model from a run folder or checkpoint folder, ready for completion or generation. */
export function loadTrainedModel(dir: string): { model: Vae; meta: CheckpointMeta; checkpoint: string } {
  const ckpt = loadCheckpoint(dir, { optimizer: false });
  const model = buildVae(ckpt.meta.model, ckpt.meta.train.seed);
  try {
    setModelWeights(model, ckpt.weights, ckpt.dir);
  } finally {
    tf.dispose(Object.values(ckpt.weights));
  }
  return { model, meta: ckpt.meta, checkpoint: ckpt.dir };
}
