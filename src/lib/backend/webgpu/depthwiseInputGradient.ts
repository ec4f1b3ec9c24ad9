import * as tf from '@tensorflow/tfjs';
// Types only: importing tfjs-backend-webgpu before navigator.gpu exists would stop it registering.
import type { WebGPUBackend, WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import { flatDispatch } from './flatDispatch';
import { convShape, type ConvShape } from './convShape';

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

interface DepthwiseInputGradientAttrs {
  inputShape: [number, number, number, number];
  strides: [number, number] | number;
  dilations: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

const WORKGROUP = 64;

/**
 * DepthwiseConv2dNativeBackpropInput (MobileNetV2's depthwise layers in the perceptual loss, whose
 * input gradient reaches the generator): dx[b, ih, iw, c] = Σ dy[b, oh, ow, c] · W[fh, fw, c] over
 * the taps with oh·s + fh − pad = ih. tfjs' kernel gives every value a thread that tries each tap
 * with float division and fract() tests; here a thread computes four channels and visits only the
 * taps that reach its pixel (fh ≡ ih + pad mod s, found by integer arithmetic).
 */
class DepthwiseInputGradientProgram implements WebGPUProgram {
  variableNames = ['dy', 'weights'];
  uniforms = 'pads : vec2<i32>, strides : vec2<i32>, count : i32,';
  workgroupSize: [number, number, number] = [WORKGROUP, 1, 1];
  outputShape: number[];
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  shaderKey = 'viiDepthwiseInputGradient';

  constructor(s: ConvShape) {
    this.outputShape = [s.batch, s.inHeight, s.inWidth, s.inChannels];
    this.dispatchLayout = { x: [0, 1, 2, 3] };
    this.dispatch = flatDispatch([s.batch * s.inHeight * s.inWidth * (s.inChannels / 4)], WORKGROUP);
  }

  getUserCode(): string {
    return `
      fn main(index : i32) {
        if (index < uniforms.count) {
          let channels = uniforms.outShape[3];
          let c = (index % (channels / 4)) * 4;
          let pixel = index / (channels / 4);
          let iw = pixel % uniforms.outShape[2];
          let ih = (pixel / uniforms.outShape[2]) % uniforms.outShape[1];
          let b = pixel / (uniforms.outShape[2] * uniforms.outShape[1]);
          var acc = vec4<f32>(0.0);
          for (var fh = (ih + uniforms.pads[0]) % uniforms.strides[0]; fh < uniforms.weightsShape[0]; fh = fh + uniforms.strides[0]) {
            let oh = (ih + uniforms.pads[0] - fh) / uniforms.strides[0];
            if (oh < 0 || oh >= uniforms.dyShape[1]) { continue; }
            for (var fw = (iw + uniforms.pads[1]) % uniforms.strides[1]; fw < uniforms.weightsShape[1]; fw = fw + uniforms.strides[1]) {
              let ow = (iw + uniforms.pads[1] - fw) / uniforms.strides[1];
              if (ow < 0 || ow >= uniforms.dyShape[2]) { continue; }
              let d = ((b * uniforms.dyShape[1] + oh) * uniforms.dyShape[2] + ow) * channels + c;
              let w = (fh * uniforms.weightsShape[1] + fw) * channels + c;
              acc = acc + vec4<f32>(dy[d], dy[d + 1], dy[d + 2], dy[d + 3]) * vec4<f32>(weights[w], weights[w + 1], weights[w + 2], weights[w + 3]);
            }
          }
          let o = ((b * uniforms.outShape[1] + ih) * uniforms.outShape[2] + iw) * channels + c;
          result[o] = acc.x;
          result[o + 1] = acc.y;
          result[o + 2] = acc.z;
          result[o + 3] = acc.w;
        }
      }
    `;
  }
}

const isOne = (v: [number, number] | number) => (Array.isArray(v) ? v.every((d) => d === 1) : v === 1);

/** The depthwise input gradient on webgpu for one filter per channel, channels in fours, no dilation; `stock` serves the rest. */
export function makeDepthwiseInputGradientKernel(stock: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args as KernelArgs;
    const { dy, filter } = inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
    const a = attrs as unknown as DepthwiseInputGradientAttrs;
    const channels = a.inputShape[3];
    if (filter.shape[3] !== 1 || channels % 4 !== 0 || !isOne(a.dilations) || dy.dtype !== 'float32' || filter.dtype !== 'float32') return stock(args);
    const shape = convShape(tf.backend_util.computeConv2DInfo(a.inputShape, filter.shape as [number, number, number, number], a.strides, a.dilations, a.pad, a.dimRoundingMode, true));
    const uniforms = [
      { type: 'int32', data: [shape.padTop, shape.padLeft] },
      { type: 'int32', data: [shape.strideHeight, shape.strideWidth] },
      { type: 'int32', data: [shape.batch * shape.inHeight * shape.inWidth * (channels / 4)] },
    ];
    return (backend as WebGPUBackend).runWebGPUProgram(new DepthwiseInputGradientProgram(shape), [dy, filter], 'float32', uniforms);
  };
}
