import * as tf from '@tensorflow/tfjs';
import { makeFilterGradientKernel } from './filterGradientKernel';
import { makeInputGradientKernel } from './inputGradientKernel';
import { makeDepthwiseInputGradientKernel } from './depthwiseInputGradient';
import { fusedAdamKernel } from './adamPrograms';
import { FUSED_ADAM_KERNEL } from '../fusedAdamKernel';
import { activationGradKernel } from './activationGradProgram';
import { ACTIVATION_GRAD_KERNEL } from '../activationGradKernel';

/**
 * `VII_WEBGPU_KERNELS`: which of this project's kernels run — unset: the default set; `stock`:
 * none (tfjs-backend-webgpu alone, for comparisons); `all`: every one; or a comma list of names.
 */
export const WEBGPU_KERNELS_ENV = 'VII_WEBGPU_KERNELS';

/** This project's webgpu kernels: kernel name → (tfjs' kernel) → ours. */
const OWN_KERNELS: Record<string, (stock: tf.KernelFunc) => tf.KernelFunc> = {
  Conv2DBackpropFilter: makeFilterGradientKernel,
  Conv2DBackpropInput: makeInputGradientKernel,
  DepthwiseConv2dNativeBackpropInput: makeDepthwiseInputGradientKernel,
};

/** Kernels tfjs does not have, which this project's code asks for by name. */
const NEW_KERNELS: Record<string, tf.KernelFunc> = {
  [FUSED_ADAM_KERNEL]: fusedAdamKernel,
  [ACTIVATION_GRAD_KERNEL]: activationGradKernel,
};

export const WEBGPU_KERNEL_NAMES = [...Object.keys(OWN_KERNELS), ...Object.keys(NEW_KERNELS)];

/**
 * The default set: all but the input-gradient GEMM, which was slower than tfjs' kernel on every
 * shape of the step on lavapipe (1.1–3.8×, results/logs/webgpu/input-gradient-lavapipe.log) and has not run on a GPU yet;
 * the GPU script measures it (`all`) against this set.
 */
export const DEFAULT_WEBGPU_KERNELS = WEBGPU_KERNEL_NAMES.filter((n) => n !== 'Conv2DBackpropInput');

/** The kernels `VII_WEBGPU_KERNELS` names; an unknown name is refused. */
export function webgpuKernelsFromEnv(value = process.env[WEBGPU_KERNELS_ENV]): string[] {
  if (value === undefined || value === '') return DEFAULT_WEBGPU_KERNELS;
  if (value === 'stock') return [];
  if (value === 'all') return WEBGPU_KERNEL_NAMES;
  const names = value.split(',').map((n) => n.trim());
  for (const n of names) if (!WEBGPU_KERNEL_NAMES.includes(n)) throw new Error(`${WEBGPU_KERNELS_ENV}=${value}: unknown kernel ${n}; expected stock, all or some of ${WEBGPU_KERNEL_NAMES.join(', ')}`);
  return names;
}

const stockKernels = new Map<string, tf.KernelConfig>();

/**
 * Registers this project's kernels over tfjs-backend-webgpu's and beside them: `true` the default
 * set (or what VII_WEBGPU_KERNELS names), `false` none (tfjs' put back, the new ones removed), or
 * a list of names. Returns the names of the kernels now ours.
 */
export function useOwnWebgpuKernels(selection: boolean | string[] = true): string[] {
  const chosen = selection === true ? webgpuKernelsFromEnv() : selection === false ? [] : selection;
  for (const [name, make] of Object.entries(OWN_KERNELS)) {
    const current = tf.getKernel(name, 'webgpu');
    if (!current) throw new Error(`tfjs-backend-webgpu has no ${name} kernel to replace (is it loaded?)`);
    if (!stockKernels.has(name)) stockKernels.set(name, current);
    const stock = stockKernels.get(name)!;
    tf.unregisterKernel(name, 'webgpu');
    tf.registerKernel(chosen.includes(name) ? { ...stock, kernelFunc: make(stock.kernelFunc) } : stock);
  }
  for (const [name, kernelFunc] of Object.entries(NEW_KERNELS)) {
    if (tf.getKernel(name, 'webgpu')) tf.unregisterKernel(name, 'webgpu');
    if (chosen.includes(name)) tf.registerKernel({ kernelName: name, backendName: 'webgpu', kernelFunc });
  }
  return WEBGPU_KERNEL_NAMES.filter((n) => chosen.includes(n));
}
