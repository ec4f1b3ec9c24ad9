import * as fs from 'fs';
import * as path from 'path';
import { KNOWN_WEIGHTS, lpipsLinearFile } from '../weights/weightsStore';
import { weightsDir } from '../weights/weightsDir';
import { loadLpipsVgg, type PerceptualDistance } from './lpips';
import { loadInceptionV3, type InceptionNet } from './inceptionNet';

export interface RealMetrics {
  lpips: PerceptualDistance | null;
  inception: InceptionNet | null;
  /** For each real metric that is not available: what to run to get it. */
  missing: string[];
}

/** LPIPS (VGG, v0.1) and the Inception-v3 of the Inception score, where their weights are present. */
export async function loadRealMetrics(dir = weightsDir()): Promise<RealMetrics> {
  const missing: string[] = [];
  const vgg = path.join(dir, KNOWN_WEIGHTS.vgg16.converted);
  const lin = lpipsLinearFile(dir);
  let lpips: PerceptualDistance | null = null;
  if (!fs.existsSync(path.join(vgg, 'model.json'))) missing.push(`LPIPS: no VGG16 at ${vgg} (vii weights fetch vgg16)`);
  else if (!lin) missing.push(`LPIPS: no calibration weights in ${dir} (vii weights fetch lpips-vgg)`);
  else lpips = await loadLpipsVgg(vgg, lin);
  const inceptionDir = path.join(dir, KNOWN_WEIGHTS.inception.converted);
  let inception: InceptionNet | null = null;
  if (!fs.existsSync(path.join(inceptionDir, 'model.json'))) missing.push(`Inception score: no Inception-v3 at ${inceptionDir} (vii weights fetch inception)`);
  else inception = await loadInceptionV3(inceptionDir);
  return { lpips, inception, missing };
}

export function disposeRealMetrics(real: RealMetrics): void {
  real.lpips?.dispose();
  real.inception?.dispose();
}
