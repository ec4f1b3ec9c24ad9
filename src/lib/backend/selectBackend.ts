import * as tf from '@tensorflow/tfjs';
import { registerGradientOverrides } from './gradientOverrides';
import * as path from 'path';
import * as fs from 'fs';
import { installNodeWasmThreadShims } from './wasm/wasmThreads';
import { registerWasmKernels } from './wasm/registerWasmKernels';
import { snapshotProcessHandlers } from './wasm/processHandlers';
import { useOwnWebgpuKernels, WEBGPU_KERNEL_NAMES, webgpuKernelsFromEnv } from './webgpu/registerWebgpuKernels';

export { useOwnWebgpuKernels, WEBGPU_KERNEL_NAMES, webgpuKernelsFromEnv };
// The optimizer whose update runs as one fused kernel on the backends that have one (stock Adam elsewhere).
export { FusedAdamOptimizer } from './fusedAdam';

export type BackendName = 'tensorflow-gpu' | 'webgpu' | 'tensorflow' | 'wasm' | 'cpu';
export const BACKEND_ORDER: readonly BackendName[] = ['tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm', 'cpu'];

/** Environment variable that forces a backend (one of BACKEND_ORDER). */
export const BACKEND_ENV = 'VII_BACKEND';
/** Environment variable for the number of wasm threads (default 2, the CPU machines' core count). */
export const WASM_THREADS_ENV = 'VII_WASM_THREADS';

export interface BackendInfo {
  name: BackendName;
  /** The tfjs backend name actually active (tfjs-node registers as "tensorflow"). */
  tfBackend: string;
  threads?: number;
  /** The WebGPU adapter (vendor, architecture, device) on webgpu. */
  adapter?: string;
  /** Kernels this project registers over the backend's own (webgpu). */
  ownKernels?: string[];
  /** Why earlier candidates were passed over. */
  skipped: string[];
}

/**
 * The npm package that provides a native backend, if it is really installed. danfojs-node's
 * dependency on tfjs-node is aliased to plain tfjs in this project, so the name is checked.
 */
function nativePackage(name: '@tensorflow/tfjs-node-gpu' | '@tensorflow/tfjs-node'): string | null {
  let pkgJson: string;
  try {
    pkgJson = require.resolve(`${name}/package.json`, { paths: [process.cwd(), __dirname] });
  } catch {
    return null;
  }
  const pkg = JSON.parse(fs.readFileSync(pkgJson, 'utf8')) as { name?: string };
  return pkg.name === name ? path.dirname(pkgJson) : null;
}

async function tryNative(name: '@tensorflow/tfjs-node-gpu' | '@tensorflow/tfjs-node'): Promise<string | null> {
  const dir = nativePackage(name);
  if (!dir) return `${name} is not installed (see environment.md: npm run setup:gpu)`;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require(dir);
  } catch (e) {
    return `${name} is installed but failed to load: ${(e as Error).message.split('\n')[0]}`;
  }
  if (!(await tf.setBackend('tensorflow'))) return `${name} loaded but the "tensorflow" backend did not initialise`;
  return null;
}

let webgpuReady: Promise<{ adapter: string; cpu: boolean } | string> | null = null;

/**
 * Dawn's WebGPU adapter, if any: its description and whether it is a CPU implementation (Mesa
 * lavapipe, SwiftShader), or why there is none. Probed once; makes navigator.gpu available.
 */
export function probeWebgpu(): Promise<{ adapter: string; cpu: boolean } | string> {
  webgpuReady ??= (async () => {
    let dawn: { create(flags: string[]): { requestAdapter(o?: object): Promise<GpuAdapter | null> }; globals: object };
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      dawn = require('webgpu');
    } catch {
      return 'the optional npm package "webgpu" (Dawn) is not installed';
    }
    Object.assign(globalThis, dawn.globals);
    const gpu = dawn.create([]);
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) return 'Dawn found no WebGPU adapter (no Vulkan/Metal/D3D12 device)';
    const i = adapter.info;
    const cpu = adapter.isFallbackAdapter === true || /software|cpu/i.test(`${i.architecture} ${i.type ?? ''}`) || /llvmpipe|lavapipe|swiftshader/i.test(`${i.device} ${i.description}`);
    // tfjs-backend-webgpu registers itself only if navigator.gpu exists when it loads.
    Object.defineProperty(globalThis, 'navigator', { value: { ...(globalThis as { navigator?: object }).navigator, gpu }, configurable: true, writable: true });
    return { adapter: [i.vendor, i.architecture, i.device || i.description].filter(Boolean).join(' / '), cpu };
  })();
  return webgpuReady;
}

/**
 * WebGPU through Dawn's Node binding (optional dependencies `webgpu` and
 * `@tensorflow/tfjs-backend-webgpu`). A CPU adapter (Mesa lavapipe, SwiftShader) is used only
 * when forced: it is a correctness path, far slower than wasm. Returns why not, or the adapter.
 */
async function initWebgpu(forced: boolean): Promise<{ failure: string | null; adapter?: string; ownKernels?: string[] }> {
  // On Linux a GPU shows up as a device node; without one, skip the probe (Dawn would only find
  // lavapipe, and warns about it on stderr).
  if (!forced && process.platform === 'linux' && !gpuDeviceNode()) return { failure: 'no GPU device node (/dev/nvidia*, /dev/dri/renderD*)' };
  const probe = await probeWebgpu();
  if (typeof probe === 'string') return { failure: probe };
  if (probe.cpu && !forced) return { failure: `the WebGPU adapter is a CPU implementation (${probe.adapter}); it is used only with ${BACKEND_ENV}=webgpu` };
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require('@tensorflow/tfjs-backend-webgpu');
  } catch (e) {
    return { failure: `the optional npm package "@tensorflow/tfjs-backend-webgpu" failed to load: ${(e as Error).message.split('\n')[0]}` };
  }
  if (!(await tf.setBackend('webgpu'))) return { failure: `tfjs's webgpu backend did not initialise on ${probe.adapter}` };
  await tf.ready();
  return { failure: null, adapter: probe.adapter, ownKernels: useOwnWebgpuKernels() };
}

function gpuDeviceNode(): boolean {
  const list = (d: string) => (fs.existsSync(d) ? fs.readdirSync(d) : []);
  return list('/dev').some((f) => /^nvidia\d+$/.test(f)) || list('/dev/dri').some((f) => f.startsWith('renderD'));
}

interface GpuAdapter {
  isFallbackAdapter?: boolean;
  info: { vendor: string; architecture: string; device: string; description: string; type?: string };
}

let wasmReady: Promise<number> | null = null;

/** Initialise wasm with N threads (Node needs shims for that) and this project's kernels. */
async function initWasm(threads: number): Promise<number> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const wasm = require('@tensorflow/tfjs-backend-wasm') as typeof import('@tensorflow/tfjs-backend-wasm');
  registerWasmKernels();
  if (!wasmReady) {
    wasmReady = (async () => {
      let restore: (() => void) | null = null;
      if (threads > 1) {
        tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
        restore = installNodeWasmThreadShims(threads);
      }
      wasm.setThreadsCount(threads);
      const dropAddedHandlers = snapshotProcessHandlers();
      try {
        if (!(await tf.setBackend('wasm'))) throw new Error('tf.setBackend("wasm") returned false');
        await tf.ready();
      } finally {
        restore?.();
        // Emscripten's rethrowing handlers would make any unhandled rejection fatal (a notebook kernel's death).
        dropAddedHandlers();
      }
      return wasm.getThreadsCount();
    })();
  }
  const actual = await wasmReady;
  await tf.setBackend('wasm');
  return actual;
}

function parseForced(): BackendName | null {
  const forced = process.env[BACKEND_ENV]?.trim();
  if (!forced) return null;
  if (!(BACKEND_ORDER as readonly string[]).includes(forced)) {
    throw new Error(`${BACKEND_ENV}=${forced} is not a backend; expected one of ${BACKEND_ORDER.join(', ')}`);
  }
  return forced as BackendName;
}

function threadsFromEnv(): number {
  const raw = process.env[WASM_THREADS_ENV];
  if (raw === undefined || raw === '') return 2;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 8) {
    throw new Error(`${WASM_THREADS_ENV}=${raw} is not a thread count; expected an integer in 1..8`);
  }
  return n;
}

let current: BackendInfo | null = null;

/**
 * Pick the fastest available backend: tfjs-node-gpu, webgpu (a real GPU adapter), tfjs-node, wasm,
 * cpu — or the one forced by
 * VII_BACKEND (an error if it cannot start). Prints the choice once unless `quiet`.
 */
export async function selectBackend(options: { force?: BackendName; quiet?: boolean } = {}): Promise<BackendInfo> {
  registerGradientOverrides();
  const forced = options.force ?? parseForced();
  if (current && (!forced || forced === current.name)) {
    await tf.setBackend(current.tfBackend);
    return current;
  }
  const candidates = forced ? [forced] : BACKEND_ORDER;
  const skipped: string[] = [];
  for (const name of candidates) {
    let failure: string | null = null;
    let threads: number | undefined;
    let adapter: string | undefined;
    let ownKernels: string[] | undefined;
    try {
      if (name === 'tensorflow-gpu') failure = await tryNative('@tensorflow/tfjs-node-gpu');
      else if (name === 'webgpu') ({ failure, adapter, ownKernels } = await initWebgpu(forced === 'webgpu'));
      else if (name === 'tensorflow') failure = await tryNative('@tensorflow/tfjs-node');
      else if (name === 'wasm') threads = await initWasm(threadsFromEnv());
      else if (!(await tf.setBackend('cpu'))) failure = 'cpu backend did not initialise';
    } catch (e) {
      failure = `${name}: ${(e as Error).message}`;
    }
    if (failure) {
      if (forced) throw new Error(`${BACKEND_ENV}=${forced} was requested but cannot start: ${failure}`);
      skipped.push(failure);
      continue;
    }
    current = { name, tfBackend: tf.getBackend(), threads, adapter, ownKernels, skipped };
    if (!options.quiet) console.log(`[vii] backend: ${describeBackend(current)}`);
    return current;
  }
  throw new Error(`no TensorFlow.js backend could start:\n${skipped.join('\n')}`);
}

export function describeBackend(info: BackendInfo): string {
  const threads = info.threads ? `, ${info.threads} threads` : '';
  const adapter = info.adapter ? `, adapter ${info.adapter}` : '';
  const own = info.ownKernels?.length ? `, own kernels: ${info.ownKernels.join(', ')}` : '';
  return `${info.name} (tfjs ${tf.version.tfjs}${threads}${adapter}${own})`;
}
