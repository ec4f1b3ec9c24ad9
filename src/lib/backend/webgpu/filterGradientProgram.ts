// Types only: importing tfjs-backend-webgpu before navigator.gpu exists would stop it registering.
import type { WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import { flatDispatch } from './flatDispatch';
import type { ConvShape } from './convShape';

/**
 * The Conv2D filter gradient as a GEMM: dW[k, n] = Σ_m A[m, k] · dy[m, n], with
 * k = (fh, fw, ci), n = co, m = (b, oh, ow) and A[m, k] = x[b, oh·sh + fh − pt, ow·sw + fw − pl, ci]
 * (zero outside x). tfjs' own kernel gives each of the K·N filter values one thread that loops
 * over all of M (batch × output pixels), so a 48 × 32 first-layer gradient runs 1,536 threads
 * through 262,144 products each (250 of 267 ms of an H200 step at batch 256, ../shared/PLATFORM.md).
 * Here a workgroup of 16 × 16 threads computes a 64 × 64 tile of dW, each thread 4 × 4 values,
 * staging 16 rows of A and dy at a time in workgroup memory; M is split into `splits` chunks
 * (split-K), each written to its own slice of a [splits, K·N] buffer that FilterGradientSumProgram
 * adds up in a fixed order, so the result does not depend on scheduling.
 */
export const TILE = 64;
const THREADS = 16;
const PER_THREAD = TILE / THREADS;
export const ROWS_PER_STAGE = 16;

export interface SplitPlan {
  /** K = filterHeight · filterWidth · inChannels, N = outChannels, M = batch · outHeight · outWidth. */
  k: number;
  n: number;
  m: number;
  splits: number;
  /** Rows of M per split, a multiple of ROWS_PER_STAGE. */
  chunk: number;
}

/** Workgroups to aim for: enough to fill a large GPU (an H200 has 132 SMs) without tiny chunks. */
const TARGET_WORKGROUPS = 1024;
const MIN_ROWS_PER_SPLIT = 256;
/** Partial sums kept at most (floats); beyond it fewer splits. */
const MAX_PARTIALS = 1 << 24;

export function planSplits(s: ConvShape): SplitPlan {
  const k = s.filterHeight * s.filterWidth * s.inChannels;
  const n = s.outChannels;
  const m = s.batch * s.outHeight * s.outWidth;
  const tiles = Math.ceil(k / TILE) * Math.ceil(n / TILE);
  const splits = Math.max(1, Math.min(Math.ceil(TARGET_WORKGROUPS / tiles), Math.floor(m / MIN_ROWS_PER_SPLIT), Math.floor(MAX_PARTIALS / (k * n))));
  const chunk = Math.ceil(Math.ceil(m / splits) / ROWS_PER_STAGE) * ROWS_PER_STAGE;
  return { k, n, m, splits: Math.ceil(m / chunk), chunk };
}

/** The tiled, split-K GEMM; output [splits, K·N] (or the filter's shape when splits = 1). */
export class FilterGradientProgram implements WebGPUProgram {
  variableNames = ['x', 'dy'];
  uniforms = 'pads : vec2<i32>, strides : vec2<i32>, filterWidth : i32, inChannels : i32, K : i32, N : i32, M : i32, chunk : i32,';
  workgroupSize: [number, number, number] = [THREADS, THREADS, 1];
  outputShape: number[];
  dispatchLayout = { x: [] as number[], y: [0], z: [] as number[] };
  dispatch: [number, number, number];
  shaderKey = 'viiFilterGradient';

  constructor(plan: SplitPlan, filterShape: number[]) {
    this.outputShape = plan.splits === 1 ? filterShape : [plan.splits, plan.k * plan.n];
    this.dispatch = [Math.ceil(plan.n / TILE), Math.ceil(plan.k / TILE), plan.splits];
  }

  getUserCode(): string {
    const loads = (TILE * ROWS_PER_STAGE) / (THREADS * THREADS);
    return `
      var<workgroup> tileA : array<array<f32, ${TILE}>, ${ROWS_PER_STAGE}>;
      var<workgroup> tileB : array<array<f32, ${TILE}>, ${ROWS_PER_STAGE}>;

      // A[m, k]: the input pixel filter tap k sees for output pixel m (0 in the padding).
      fn readA(m : i32, k : i32) -> f32 {
        if (k >= uniforms.K) { return 0.0; }
        let ci = k % uniforms.inChannels;
        let tap = k / uniforms.inChannels;
        let fw = tap % uniforms.filterWidth;
        let fh = tap / uniforms.filterWidth;
        let ow = m % uniforms.dyShape[2];
        let rest = m / uniforms.dyShape[2];
        let oh = rest % uniforms.dyShape[1];
        let b = rest / uniforms.dyShape[1];
        let ih = oh * uniforms.strides[0] + fh - uniforms.pads[0];
        let iw = ow * uniforms.strides[1] + fw - uniforms.pads[1];
        if (ih < 0 || ih >= uniforms.xShape[1] || iw < 0 || iw >= uniforms.xShape[2]) { return 0.0; }
        return x[((b * uniforms.xShape[1] + ih) * uniforms.xShape[2] + iw) * uniforms.inChannels + ci];
      }

      fn main() {
        let tx = i32(localId.x);
        let ty = i32(localId.y);
        let flat = ty * ${THREADS} + tx;
        let nBase = i32(workgroupId.x) * ${TILE};
        let kBase = i32(workgroupId.y) * ${TILE};
        let split = i32(workgroupId.z);
        let mStart = split * uniforms.chunk;
        let mEnd = min(uniforms.M, mStart + uniforms.chunk);

        var acc : array<array<f32, ${PER_THREAD}>, ${PER_THREAD}>;
        // The loop bound must be uniform (workgroupBarrier); rows past mEnd load zeros.
        for (var stage = 0; stage < uniforms.chunk / ${ROWS_PER_STAGE}; stage = stage + 1) {
          let m0 = mStart + stage * ${ROWS_PER_STAGE};
          for (var i = 0; i < ${loads}; i = i + 1) {
            let e = flat + i * ${THREADS * THREADS};
            let row = e / ${TILE};
            let col = e % ${TILE};
            let m = m0 + row;
            var a = 0.0;
            var d = 0.0;
            if (m < mEnd) {
              a = readA(m, kBase + col);
              if (nBase + col < uniforms.N) { d = dy[m * uniforms.N + nBase + col]; }
            }
            tileA[row][col] = a;
            tileB[row][col] = d;
          }
          workgroupBarrier();
          for (var r = 0; r < ${ROWS_PER_STAGE}; r = r + 1) {
            var bs : array<f32, ${PER_THREAD}>;
            for (var j = 0; j < ${PER_THREAD}; j = j + 1) { bs[j] = tileB[r][tx + j * ${THREADS}]; }
            for (var i = 0; i < ${PER_THREAD}; i = i + 1) {
              let a = tileA[r][ty + i * ${THREADS}];
              for (var j = 0; j < ${PER_THREAD}; j = j + 1) { acc[i][j] = acc[i][j] + a * bs[j]; }
            }
          }
          workgroupBarrier();
        }
        for (var i = 0; i < ${PER_THREAD}; i = i + 1) {
          let k = kBase + ty + i * ${THREADS};
          for (var j = 0; j < ${PER_THREAD}; j = j + 1) {
            let n = nBase + tx + j * ${THREADS};
            if (k < uniforms.K && n < uniforms.N) {
              result[(split * uniforms.K + k) * uniforms.N + n] = acc[i][j];
            }
          }
        }
      }
    `;
  }
}

/** Σ over the splits of FilterGradientProgram's partial sums, in split order. */
export class FilterGradientSumProgram implements WebGPUProgram {
  variableNames = ['partials'];
  uniforms = 'splits : i32,';
  workgroupSize: [number, number, number] = [64, 1, 1];
  outputShape: number[];
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  size = true;
  shaderKey = 'viiFilterGradientSum';

  constructor(filterShape: number[]) {
    this.outputShape = filterShape;
    this.dispatchLayout = { x: filterShape.map((_, i) => i) };
    this.dispatch = flatDispatch(filterShape, this.workgroupSize[0]);
  }

  getUserCode(): string {
    return `
      fn main(index : i32) {
        if (index < uniforms.size) {
          var total = 0.0;
          for (var s = 0; s < uniforms.splits; s = s + 1) { total = total + partials[s * uniforms.size + index]; }
          setOutputAtIndex(index, total);
        }
      }
    `;
  }
}
