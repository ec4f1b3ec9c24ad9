import * as tf from '@tensorflow/tfjs';
import { simdKernels } from './wasm/simd/simdKernels';
import { heapOffset, readValues, tensorsFromFill } from './wasm/tensorMemory';
import { FUSED_ADAM_KERNEL, type FusedAdamAttrs } from './fusedAdamKernel';

/** tfjs-core 4.22's AdamOptimizer state (TypeScript-private there, plain fields at run time). */
interface AdamState {
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: { originalName: string; variable: tf.Variable }[];
  accumulatedSecondMoment: { originalName: string; variable: tf.Variable }[];
  incrementIterations(): void;
}

const ACC_BETA1 = 'adam/accBeta1';
const ACC_BETA2 = 'adam/accBeta2';

/**
 * tf.train.adam whose per-variable update is fused instead of ~13 tfjs kernels: on wasm one SIMD
 * pass (simd/adam.wat: the same float32 operations in the same order; 20 ms → ~3 ms a step for the
 * reference VAE's 3M parameters), on webgpu three WGSL dispatches (FUSED_ADAM_KERNEL). Same
 * state, names and order, so getWeights/setWeights and checkpoints are tf.AdamOptimizer's;
 * elsewhere the stock update.
 */
export class FusedAdamOptimizer extends tf.AdamOptimizer {
  /** Steps done by a fused update, by which (the others went to the stock update). */
  fusedSteps = { simd: 0, kernel: 0 };

  constructor(learningRate: number, beta1 = 0.9, beta2 = 0.999, epsilon?: number) {
    super(learningRate, beta1, beta2, epsilon);
  }

  /**
   * getWeights() plus the running products β1^t and β2^t. tf.AdamOptimizer.setWeights recomputes
   * them as pow(β, t + 1), which in float32 differs from the running product at most steps
   * (from t = 18 on for the defaults), so a resumed run would drift from an uninterrupted one.
   */
  async getExactState(): Promise<{ name: string; tensor: tf.Tensor }[]> {
    const state = this as unknown as AdamState;
    return [...(await this.getWeights()), { name: ACC_BETA1, tensor: state.accBeta1.clone() }, { name: ACC_BETA2, tensor: state.accBeta2.clone() }];
  }

  /** Restore getExactState()'s output (or a plain getWeights() list: then β^t comes from pow). */
  async setExactState(weights: { name: string; tensor: tf.Tensor }[]): Promise<void> {
    const acc = new Map(weights.filter((w) => w.name === ACC_BETA1 || w.name === ACC_BETA2).map((w) => [w.name, w.tensor]));
    await this.setWeights(weights.filter((w) => !acc.has(w.name)));
    const state = this as unknown as AdamState;
    if (acc.has(ACC_BETA1)) state.accBeta1.assign(acc.get(ACC_BETA1)!);
    if (acc.has(ACC_BETA2)) state.accBeta2.assign(acc.get(ACC_BETA2)!);
  }

  override applyGradients(variableGradients: Parameters<tf.AdamOptimizer['applyGradients']>[0]): void {
    const list: { name: string; tensor: tf.Tensor | null }[] = Array.isArray(variableGradients)
      ? variableGradients
      : Object.entries(variableGradients).map(([name, tensor]) => ({ name, tensor }));
    const float32 = list.every(({ name, tensor }) => tensor == null || (tensor.dtype === 'float32' && tf.engine().registeredVariables[name]?.dtype === 'float32'));
    const simd = simdKernels();
    const kernel = !simd && tf.getKernel(FUSED_ADAM_KERNEL, tf.getBackend()) !== undefined;
    if (!float32 || (!simd && !kernel)) {
      super.applyGradients(variableGradients);
      return;
    }
    const state = this as unknown as AdamState;
    tf.tidy(() => {
      const update = simd ? this.simdUpdate(simd) : this.kernelUpdate();
      list.forEach(({ name, tensor: gradient }, i) => {
        const value = tf.engine().registeredVariables[name];
        state.accumulatedFirstMoment[i] ??= { originalName: `${name}/m`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
        state.accumulatedSecondMoment[i] ??= { originalName: `${name}/v`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
        if (gradient == null) return;
        const m = state.accumulatedFirstMoment[i].variable;
        const v = state.accumulatedSecondMoment[i].variable;
        // New tensors rather than in-place writes: other tensors may share a variable's values.
        const [mOut, vOut, wOut] = update(gradient, m, v, value);
        m.assign(mOut);
        v.assign(vOut);
        value.assign(wOut);
      });
      state.accBeta1.assign(tf.mul(state.accBeta1, this.beta1));
      state.accBeta2.assign(tf.mul(state.accBeta2, this.beta2));
    });
    state.incrementIterations();
    this.fusedSteps[simd ? 'simd' : 'kernel']++;
  }

  private simdUpdate(kernels: NonNullable<ReturnType<typeof simdKernels>>): AdamUpdate {
    const state = this as unknown as AdamState;
    // float32, as tf.AdamOptimizer's sub(1, accBeta); read once a step (wasm memory, no GPU sync)
    const c1 = readValues(tf.sub(1, state.accBeta1))[0];
    const c2 = readValues(tf.sub(1, state.accBeta2))[0];
    return (gradient, m, v, value) => {
      const out = tensorsFromFill([m.shape, v.shape, value.shape], () => {}); // the kernel writes them
      kernels.adam(heapOffset(gradient), heapOffset(m), heapOffset(v), heapOffset(value), heapOffset(out[0]), heapOffset(out[1]), heapOffset(out[2]), value.size, this.beta1, 1 - this.beta1, this.beta2, 1 - this.beta2, c1, c2, this.epsilon, -this.learningRate);
      return out as [tf.Tensor, tf.Tensor, tf.Tensor];
    };
  }

  private kernelUpdate(): AdamUpdate {
    const state = this as unknown as AdamState;
    const attrs: FusedAdamAttrs = { beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon, learningRate: this.learningRate };
    return (gradient, firstMoment, secondMoment, value) =>
      tf.engine().runKernel(FUSED_ADAM_KERNEL, { gradient, firstMoment, secondMoment, value, accBeta1: state.accBeta1, accBeta2: state.accBeta2 }, attrs as unknown as tf.NamedAttrMap) as [tf.Tensor, tf.Tensor, tf.Tensor];
  }
}

/** One variable's update: (g, m, v, w) → (m', v', w'), new tensors. */
type AdamUpdate = (gradient: tf.Tensor, m: tf.Tensor, v: tf.Tensor, value: tf.Tensor) => [tf.Tensor, tf.Tensor, tf.Tensor];
