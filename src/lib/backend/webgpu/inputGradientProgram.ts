// Types only: importing tfjs-backend-webgpu before navigator.gpu exists would stop it registering.
import type { WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import type { ConvShape } from './convShape';

/**
 * Conv2DBackpropInput (a conv's input gradient, and every conv2dTranspose of the decoder) as a
 * tiled GEMM per stride phase. dx[b, ih, iw, ci] = Σ dy[b, oh, ow, co] · W[fh, fw, ci, co] over
 * the taps with oh·s + fh − pad = ih. With stride s only the taps fh ≡ ih + pad (mod s) reach a
 * given ih, so the input pixels fall into s_h · s_w phases (ih mod s_h, iw mod s_w), and within a
 * phase every pixel meets the same ⌈FH/s⌉ × ⌈FW/s⌉ taps: a dense GEMM with
 * M = batch × ⌈IH/s⌉ × ⌈IW/s⌉ pixels, N = ci, K = taps × co, and no product with a skipped tap.
 * tfjs' own kernel (its default, WEBGPU_USE_NAIVE_CONV2D_TRANSPOSE) gives each output value one
 * thread that walks every tap and tests it (20 dispatches, 22 % of a 64×64 perceptual step on
 * lavapipe: results/logs/webgpu/). Phases write disjoint pixels, so no reduction pass is needed.
 *
 * A workgroup of 256 threads computes a TM × TN tile of one phase, staging 16 values of K at a
 * time in workgroup memory; the tile is narrow when N is (the decoder's last layer has ci = 3).
 */
export const K_STAGE = 16;

export interface InputGradientTile {
  /** Tile of pixels (M) × channels (N); threads along N and M (their product 256); values per thread. */
  tm: number;
  tn: number;
  threadsN: number;
  threadsM: number;
}

/** The tile for N channels: the narrowest of three that holds them (workgroup memory stays ≤ 8 KiB a tile). */
export function inputGradientTile(n: number): InputGradientTile {
  if (n <= 4) return { tm: 128, tn: 4, threadsN: 4, threadsM: 64 };
  if (n <= 16) return { tm: 128, tn: 16, threadsN: 8, threadsM: 32 };
  return { tm: 64, tn: 64, threadsN: 16, threadsM: 16 };
}

export interface InputGradientPlan {
  tile: InputGradientTile;
  /** Taps of one phase along h and w, and the GEMM's sizes (M: pixels of the largest phase). */
  taps: [number, number];
  phaseRows: [number, number];
  m: number;
  n: number;
  k: number;
}

export function planInputGradient(s: ConvShape): InputGradientPlan {
  const taps: [number, number] = [Math.ceil(s.filterHeight / s.strideHeight), Math.ceil(s.filterWidth / s.strideWidth)];
  const phaseRows: [number, number] = [Math.ceil(s.inHeight / s.strideHeight), Math.ceil(s.inWidth / s.strideWidth)];
  return { tile: inputGradientTile(s.inChannels), taps, phaseRows, m: s.batch * phaseRows[0] * phaseRows[1], n: s.inChannels, k: taps[0] * taps[1] * s.outChannels };
}

export class InputGradientProgram implements WebGPUProgram {
  variableNames = ['dy', 'weights'];
  uniforms = 'pads : vec2<i32>, strides : vec2<i32>, taps : vec2<i32>, phaseRows : vec2<i32>, K : i32, N : i32, M : i32,';
  workgroupSize: [number, number, number] = [256, 1, 1];
  outputShape: number[];
  dispatchLayout = { x: [] as number[], y: [0], z: [] as number[] };
  dispatch: [number, number, number];
  shaderKey: string;
  private readonly tile: InputGradientTile;

  constructor(plan: InputGradientPlan, shape: ConvShape) {
    this.tile = plan.tile;
    this.outputShape = [shape.batch, shape.inHeight, shape.inWidth, shape.inChannels];
    this.dispatch = [Math.ceil(plan.n / plan.tile.tn), Math.ceil(plan.m / plan.tile.tm), shape.strideHeight * shape.strideWidth];
    this.shaderKey = `viiInputGradient_${plan.tile.tn}`;
  }

  getUserCode(): string {
    const { tm, tn, threadsN, threadsM } = this.tile;
    const perM = tm / threadsM;
    const perN = tn / threadsN;
    const loadsA = (K_STAGE * tm) / 256;
    const loadsB = Math.max(1, (K_STAGE * tn) / 256);
    return `
      var<workgroup> tileA : array<array<f32, ${tm}>, ${K_STAGE}>;
      var<workgroup> tileB : array<array<f32, ${tn}>, ${K_STAGE}>;

      fn main() {
        let flat = i32(localId.x);
        let tx = flat % ${threadsN};
        let ty = flat / ${threadsN};
        let nBase = i32(workgroupId.x) * ${tn};
        let mBase = i32(workgroupId.y) * ${tm};
        // This workgroup's phase: input rows ih ≡ ph (mod s_h), columns iw ≡ pw (mod s_w); the taps
        // that reach them start at fh = (ph + pad_t) mod s_h, and oh = baseH + j − t for row j, tap t.
        let phase = i32(workgroupId.z);
        let ph = phase / uniforms.strides[1];
        let pw = phase % uniforms.strides[1];
        let firstH = (ph + uniforms.pads[0]) % uniforms.strides[0];
        let firstW = (pw + uniforms.pads[1]) % uniforms.strides[1];
        let baseH = (ph + uniforms.pads[0]) / uniforms.strides[0];
        let baseW = (pw + uniforms.pads[1]) / uniforms.strides[1];
        let outChannels = uniforms.dyShape[3];
        let perImage = uniforms.phaseRows[0] * uniforms.phaseRows[1];

        // Each thread loads the same column kk of every stage and the same rows of the tile, so the
        // index arithmetic of its rows is done once, and of its column once a stage.
        let kk = flat % ${K_STAGE};
        let row = flat / ${K_STAGE};
        var rowImage : array<i32, ${loadsA}>;
        var rowH : array<i32, ${loadsA}>;
        var rowW : array<i32, ${loadsA}>;
        for (var i = 0; i < ${loadsA}; i = i + 1) {
          let m = mBase + row + i * ${256 / K_STAGE};
          let rest = m % perImage;
          rowImage[i] = (m / perImage) * uniforms.dyShape[1];
          // Past M: an out-of-range row, so every tap reads 0.
          rowH[i] = select(-uniforms.weightsShape[0] - 1, baseH + rest / uniforms.phaseRows[1], m < uniforms.M);
          rowW[i] = baseW + rest % uniforms.phaseRows[1];
        }

        var acc : array<array<f32, ${perN}>, ${perM}>;
        // Uniform bound (workgroupBarrier): K is the same for every workgroup.
        for (var k0 = 0; k0 < uniforms.K; k0 = k0 + ${K_STAGE}) {
          let k = k0 + kk;
          let co = k % outChannels;
          let tap = k / outChannels;
          let t = tap / uniforms.taps[1];
          let tt = tap % uniforms.taps[1];
          let fh = firstH + t * uniforms.strides[0];
          let fw = firstW + tt * uniforms.strides[1];
          let tapOk = k < uniforms.K && fh < uniforms.weightsShape[0] && fw < uniforms.weightsShape[1];
          // A[m, k] = dy at the pixel tap k reaches from input pixel m (0 past an edge or a tap).
          for (var i = 0; i < ${loadsA}; i = i + 1) {
            let oh = rowH[i] - t;
            let ow = rowW[i] - tt;
            var a = 0.0;
            if (tapOk && oh >= 0 && oh < uniforms.dyShape[1] && ow >= 0 && ow < uniforms.dyShape[2]) {
              a = dy[((rowImage[i] + oh) * uniforms.dyShape[2] + ow) * outChannels + co];
            }
            tileA[kk][row + i * ${256 / K_STAGE}] = a;
          }
          // B[k, n] = weights[fh, fw, n, co] (0 for a tap past the filter).
          for (var i = 0; i < ${loadsB}; i = i + 1) {
            let nn = row + i * ${256 / K_STAGE};
            if (nn < ${tn}) {
              let n = nBase + nn;
              var w = 0.0;
              if (tapOk && n < uniforms.N) { w = weights[((fh * uniforms.weightsShape[1] + fw) * uniforms.N + n) * outChannels + co]; }
              tileB[kk][nn] = w;
            }
          }
          workgroupBarrier();
          for (var r = 0; r < ${K_STAGE}; r = r + 1) {
            var bs : array<f32, ${perN}>;
            for (var j = 0; j < ${perN}; j = j + 1) { bs[j] = tileB[r][tx + j * ${threadsN}]; }
            for (var i = 0; i < ${perM}; i = i + 1) {
              let a = tileA[r][ty + i * ${threadsM}];
              for (var j = 0; j < ${perN}; j = j + 1) { acc[i][j] = acc[i][j] + a * bs[j]; }
            }
          }
          workgroupBarrier();
        }
        for (var i = 0; i < ${perM}; i = i + 1) {
          let m = mBase + ty + i * ${threadsM};
          let b = m / perImage;
          let rest = m % perImage;
          let ih = ph + (rest / uniforms.phaseRows[1]) * uniforms.strides[0];
          let iw = pw + (rest % uniforms.phaseRows[1]) * uniforms.strides[1];
          if (m < uniforms.M && ih < uniforms.outShape[1] && iw < uniforms.outShape[2]) {
            for (var j = 0; j < ${perN}; j = j + 1) {
              let n = nBase + tx + j * ${threadsN};
              if (n < uniforms.N) {
                result[((b * uniforms.outShape[1] + ih) * uniforms.outShape[2] + iw) * uniforms.N + n] = acc[i][j];
              }
            }
          }
        }
      }
    `;
  }
}
