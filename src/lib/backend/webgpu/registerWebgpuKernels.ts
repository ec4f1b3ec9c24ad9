import * as tf from '@tensorflow/tfjs';
import { makeFilterGradientKernel } from './filterGradientKernel';

/** `VII_WEBGPU_KERNELS=stock` keeps tfjs-backend-webgpu's own kernels (for comparisons). */
export const WEBGPU_KERNELS_ENV = 'VII_WEBGPU_KERNELS';

/** This project's webgpu kernels: kernel name → (tfjs' kernel) → ours. */
const OWN_KERNELS: Record<string, (stock: tf.KernelFunc) => tf.KernelFunc> = {
  Conv2DBackpropFilter: makeFilterGradientKernel,
};

const stockKernels = new Map<string, tf.KernelConfig>();

/**
 * Registers this project's kernels over tfjs-backend-webgpu's (on = true) or puts tfjs' back
 * (on = false). Returns the names of the kernels now overridden.
 */
export function useOwnWebgpuKernels(on = process.env[WEBGPU_KERNELS_ENV] !== 'stock'): string[] {
  for (const [name, make] of Object.entries(OWN_KERNELS)) {
    const current = tf.getKernel(name, 'webgpu');
    if (!current) throw new Error(`tfjs-backend-webgpu has no ${name} kernel to replace (is it loaded?)`);
    if (!stockKernels.has(name)) stockKernels.set(name, current);
    const stock = stockKernels.get(name)!;
    tf.unregisterKernel(name, 'webgpu');
    tf.registerKernel(on ? { ...stock, kernelFunc: make(stock.kernelFunc) } : stock);
  }
  return on ? Object.keys(OWN_KERNELS) : [];
}
