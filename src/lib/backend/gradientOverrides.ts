import * as tf from '@tensorflow/tfjs';
import { batchNormGradConfig } from './batchNormGradient';
import { leakyReluGradConfig, relu6GradConfig } from './wasm/activationGradients';

/** Gradients this project replaces in tfjs-core (all backends); each is checked against tfjs-core's in tests. */
export const GRADIENT_OVERRIDES: tf.GradConfig[] = [batchNormGradConfig, leakyReluGradConfig, relu6GradConfig];

let registered = false;

export function registerGradientOverrides(): void {
  if (registered) return;
  const warn = console.warn;
  console.warn = () => {}; // tfjs warns that a gradient is overwritten, which is the point
  try {
    for (const config of GRADIENT_OVERRIDES) tf.registerGradient(config);
  } finally {
    console.warn = warn;
  }
  registered = true;
}
