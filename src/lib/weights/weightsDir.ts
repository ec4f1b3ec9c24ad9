import * as path from 'path';

export const WEIGHTS_DIR_ENV = 'VII_WEIGHTS_DIR';

/** Where downloads and converted models live: $VII_WEIGHTS_DIR, else data/weights (git-ignored). */
export function weightsDir(): string {
  return path.resolve(process.env[WEIGHTS_DIR_ENV] ?? path.join('data', 'weights'));
}

/** The folder `vii weights fetch vgg16` converts torchvision's VGG16 into. */
export const CONVERTED_VGG16 = 'vgg16-tfjs';
