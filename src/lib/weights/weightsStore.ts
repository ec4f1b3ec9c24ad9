import * as fs from 'fs';
import * as path from 'path';
import { downloadFile, type DownloadResult } from './download';
import { convertTorchCheckpoint, DEFAULT_CONVERTED_NAMES, type ConversionResult } from './convertCheckpoint';
export { weightsDir, WEIGHTS_DIR_ENV } from './weightsDir';
import { weightsDir } from './weightsDir';

export interface KnownWeights {
  url: string;
  file: string;
  /** SHA-256 prefix from torchvision's file name; null where none is published. */
  sha256Prefix: string | null;
  converted: string;
  what: string;
}

/** The official checkpoints `vii weights fetch` knows. */
export const KNOWN_WEIGHTS: Record<'vgg16' | 'inception' | 'lpips-vgg', KnownWeights> = {
  vgg16: {
    url: 'https://download.pytorch.org/models/vgg16-397923af.pth',
    file: 'vgg16-397923af.pth',
    sha256Prefix: '397923af',
    converted: DEFAULT_CONVERTED_NAMES.vgg16,
    what: 'torchvision ImageNet VGG16 (LPIPS backbone, --feature-net vgg16)',
  },
  inception: {
    url: 'https://download.pytorch.org/models/inception_v3_google-0cc3c7bd.pth',
    file: 'inception_v3_google-0cc3c7bd.pth',
    sha256Prefix: '0cc3c7bd',
    converted: DEFAULT_CONVERTED_NAMES.inceptionv3,
    what: 'torchvision ImageNet Inception-v3 (Inception score)',
  },
  'lpips-vgg': {
    url: 'https://github.com/richzhang/PerceptualSimilarity/raw/master/lpips/weights/v0.1/vgg.pth',
    file: 'lpips-vgg-v0.1.pth',
    sha256Prefix: null,
    converted: DEFAULT_CONVERTED_NAMES['lpips-linear'],
    what: 'LPIPS v0.1 linear calibration weights for VGG (Zhang et al. 2018, BSD-2)',
  },
};

export type KnownName = keyof typeof KNOWN_WEIGHTS;

export function isKnownName(name: string): name is KnownName {
  return Object.prototype.hasOwnProperty.call(KNOWN_WEIGHTS, name);
}

/** Download (resuming a partial file, checksum checked) and convert one known checkpoint. */
export async function fetchWeights(name: KnownName, dir = weightsDir(), onLine?: (l: string) => void): Promise<{ download: DownloadResult | null; conversion: ConversionResult }> {
  const k = KNOWN_WEIGHTS[name];
  const file = path.join(dir, k.file);
  fs.mkdirSync(dir, { recursive: true });
  const download = fs.existsSync(file) ? null : await downloadFile(k.url, file, { sha256Prefix: k.sha256Prefix ?? undefined, onLine });
  const conversion = await convertTorchCheckpoint(file, dir, path.join(dir, k.converted));
  return { download, conversion };
}

/** The LPIPS lin weights: converted into the weights folder, else the copy in ../shared/weights. */
export function lpipsLinearFile(dir = weightsDir()): string | null {
  const candidates = [path.join(dir, KNOWN_WEIGHTS['lpips-vgg'].converted), path.resolve('..', 'shared', 'weights', 'lpips', 'vgg.json')];
  return candidates.find((f) => fs.existsSync(f)) ?? null;
}
