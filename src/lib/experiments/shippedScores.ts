import { loadTrainedModel } from '../weights/loadModel';
import { loadMobileNetV2 } from '../weights/featureNet';
import { MOBILENET_LAYERS } from '../models/config';
import { unlearnedPerceptualDistance } from '../metrics/lpips';
import { parseMaskSpec } from '../masks';
import { evaluateRow, modelCompleter } from './evaluate';
import { runData } from './fineTune';

export const SHIPPED_EVALUATION = 'the first 200 test faces of the model\'s own split (CelebA, ../shared/celeba), centre:0.5 hole, its completion method (10 Gibbs steps, sampled z), seed 0';

/** What a shipped model's card states: its scores on held-out faces (needs the CelebA folder it was trained from). */
export async function shippedModelScores(dir: string, dataDir?: string): Promise<Record<string, number>> {
  const { model, meta } = loadTrainedModel(dir);
  const perceptual = unlearnedPerceptualDistance(await loadMobileNetV2([...MOBILENET_LAYERS]));
  try {
    const data = await runData(meta, dataDir);
    const row = await evaluateRow(meta.model.name, modelCompleter(model, data.attributeNames), {
      data, split: 'test', mask: parseMaskSpec('centre:0.5'), seed: 0, limit: 200, batchSize: 100, perceptual, classifier: null, diversitySamples: 0, diversityImages: 0, onLine: () => {},
    });
    return { 'masked L1': row.maskedL1.mean, 'hole sharpness': row.sharpness.mean, 'checkerboard (1 = real)': row.checkerboard.mean, SSIM: row.ssim.mean, 'PSNR (dB)': row.psnr.mean, [perceptual.name]: row.perceptual.mean };
  } finally {
    model.dispose();
    perceptual.dispose();
  }
}
