import type * as tf from '@tensorflow/tfjs';
// Types only: importing tfjs-backend-webgpu before navigator.gpu exists would stop it registering.
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import type { ActivationGradAttrs } from '../activationGradKernel';
import { ElementwiseProgram } from './elementwiseProgram';

/** dx = dy · slope(x) in one dispatch (relu6: 0 < x ≤ 6; leakyRelu: 1 or α). */
class ActivationGradProgram extends ElementwiseProgram {
  variableNames = ['dy', 'x'];
  uniforms = 'alpha : f32,';
  shaderKey: string;

  constructor(shape: number[], private readonly activation: ActivationGradAttrs['activation']) {
    super(shape);
    this.shaderKey = `viiActivationGrad_${activation}`;
  }

  getUserCode(): string {
    const slope = this.activation === 'relu6' ? 'select(0.0, 1.0, v > 0.0 && v <= 6.0)' : 'select(uniforms.alpha, 1.0, v > 0.0)';
    return `
      fn main(index : i32) {
        if (index < uniforms.size) {
          let v = x[index];
          setOutputAtIndex(index, dy[index] * ${slope});
        }
      }
    `;
  }
}

export const activationGradKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, x } = inputs as Record<string, tf.TensorInfo>;
  const a = attrs as unknown as ActivationGradAttrs;
  return (backend as unknown as WebGPUBackend).runWebGPUProgram(new ActivationGradProgram(x.shape, a.activation), [dy, x], 'float32', [{ type: 'float32', data: [a.alpha] }]);
};
