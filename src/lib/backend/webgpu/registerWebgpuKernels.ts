import * as tf from '@tensorflow/tfjs';
import { makeFilterGradientKernel } from './filterGradientKernel';
import { makeInputGradientKernel } from './inputGradientKernel';
import { fusedAdamKernel } from './adamPrograms';
import { FUSED_ADAM_KERNEL } from '../fusedAdamKernel';
import { activationGradKernel } from './activationGradProgram';
import { ACTIVATION_GRAD_KERNEL } from '../activationGradKernel';

/** `VII_WEBGPU_KERNELS=stock` keeps tfjs-backend-webgpu's own kernels (for comparisons). */
export const WEBGPU_KERNELS_ENV = 'VII_WEBGPU_KERNELS';

/** This project's webgpu kernels: kernel name → (tfjs' kernel) → ours. */
const OWN_KERNELS: Record<string, (stock: tf.KernelFunc) => tf.KernelFunc> = {
  Conv2DBackpropFilter: makeFilterGradientKernel,
  Conv2DBackpropInput: makeInputGradientKernel,
};

/** Kernels tfjs does not have, which this project's code asks for by name. */
const NEW_KERNELS: Record<string, tf.KernelFunc> = {
  [FUSED_ADAM_KERNEL]: fusedAdamKernel,
  [ACTIVATION_GRAD_KERNEL]: activationGradKernel,
};

const stockKernels = new Map<string, tf.KernelConfig>();

/**
 * Registers this project's kernels over tfjs-backend-webgpu's and beside them (on = true), or
 * puts tfjs' back and removes the new ones (on = false). Returns the names of the kernels now ours.
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
  for (const [name, kernelFunc] of Object.entries(NEW_KERNELS)) {
    if (tf.getKernel(name, 'webgpu')) tf.unregisterKernel(name, 'webgpu');
    if (on) tf.registerKernel({ kernelName: name, backendName: 'webgpu', kernelFunc });
  }
  return on ? [...Object.keys(OWN_KERNELS), ...Object.keys(NEW_KERNELS)] : [];
}
