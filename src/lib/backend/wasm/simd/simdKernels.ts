import * as tf from '@tensorflow/tfjs';
import { SIMD_KERNELS } from './simdKernels.generated';

/** The exports of the hand-written SIMD kernels (see the .wat files beside this one). */
export interface SimdKernels {
  transpose(src: number, dst: number, rows: number, cols: number): void;
  columnSums(x: number, rows: number, cols: number, block: number, partial: number, out: number): void;
  copyRuns(src: number, dst: number, len: number, n1: number, s1: number, d1: number, n2: number, s2: number, d2: number, n3: number, s3: number, d3: number): void;
  relu6Grad(dy: number, x: number, out: number, n: number): void;
  adam(g: number, m: number, v: number, w: number, mOut: number, vOut: number, wOut: number, n: number, beta1: number, oneMinusBeta1: number, beta2: number, oneMinusBeta2: number, c1: number, c2: number, eps: number, negLr: number): void;
}

let cached: { memory: WebAssembly.Memory; kernels: SimdKernels } | null = null;

/**
 * The SIMD kernels, instantiated on the wasm backend's own (shared) memory so they read and
 * write tensors in place; null where that is not available (another backend, or a wasm build
 * without shared memory), and callers fall back to tfjs ops.
 */
export function simdKernels(): SimdKernels | null {
  if (tf.getBackend() !== 'wasm') return null;
  const module = (tf.backend() as unknown as { wasm?: { wasmMemory?: WebAssembly.Memory } }).wasm;
  const memory = module?.wasmMemory;
  if (!memory || !(memory.buffer instanceof SharedArrayBuffer)) return null;
  if (cached?.memory === memory) return cached.kernels;
  const exports: Record<string, unknown> = {};
  for (const base64 of Object.values(SIMD_KERNELS)) {
    const instance = new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(base64, 'base64')), { env: { memory } });
    Object.assign(exports, instance.exports);
  }
  cached = { memory, kernels: exports as unknown as SimdKernels };
  return cached.kernels;
}
