import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/**
 * tfjs-backend-wasm 4.22 refuses threads under Node (WASM_HAS_MULTITHREAD_SUPPORT is false there),
 * hands Emscripten its pthread worker and main script as `blob:` URLs (Node's Worker only takes
 * file paths), and caps XNNPACK's pool at os.cpus().length / 2. This installs, for the duration of
 * the backend's initialisation only, shims that write those scripts to disk and report the cores
 * so the requested thread count is honoured. Everything is restored by the returned function.
 */
export function installNodeWasmThreadShims(threads: number): () => void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vii-wasm-'));
  const scriptTexts = new WeakMap<Blob, string>();
  const OriginalBlob = globalThis.Blob;
  class RecordingBlob extends OriginalBlob {
    constructor(parts?: BlobPart[], options?: BlobPropertyBag) {
      super(parts, options);
      if (parts && parts.every((p) => typeof p === 'string')) scriptTexts.set(this, parts.join(''));
    }
  }
  const originalCreateObjectURL = URL.createObjectURL;
  const writtenScripts = new Map<string, string>();
  const scriptFile = (text: string, name: string): string => {
    let file = writtenScripts.get(text);
    if (!file) {
      file = path.join(dir, name);
      fs.writeFileSync(file, text);
      writtenScripts.set(text, file);
    }
    return file;
  };
  // The main script is the Emscripten factory's source; outside the bundle it needs the
  // bundle-level names it closes over.
  const mainPrelude =
    "var commonjsGlobal=globalThis;var require$$0=require('fs'),require$$1=require('path')," +
    "require$$3=require('perf_hooks'),require$$4=require('os');\n";

  globalThis.Blob = RecordingBlob as typeof Blob;
  URL.createObjectURL = (obj: Blob | MediaSource): string => {
    const text = obj instanceof OriginalBlob ? scriptTexts.get(obj) : undefined;
    return text === undefined ? originalCreateObjectURL(obj as Blob) : scriptFile(text, `worker-${writtenScripts.size}.js`);
  };

  const workerDescriptor = Object.getOwnPropertyDescriptor(globalThis, 'Worker');
  interface RefCounted {
    ref(): void;
    unref(): void;
  }
  const workers: RefCounted[] = [];
  let initialised = false;
  let PatchedWorker: unknown;
  Object.defineProperty(globalThis, 'Worker', {
    configurable: true,
    get: () => PatchedWorker,
    set: (Base: new (...args: never[]) => { postMessage(m: unknown, ...rest: unknown[]): void }) => {
      PatchedWorker = class extends Base {
        constructor(...args: never[]) {
          super(...args);
          workers.push(this as unknown as RefCounted);
        }

        // XNNPACK's pool threads run forever and Emscripten refs their workers, which would keep
        // every finished script (and test run) alive. After init the main thread only talks to them
        // synchronously (Atomics), so they need no hold on the event loop.
        ref(): void {
          if (!initialised) (Base.prototype as unknown as RefCounted).ref.call(this);
        }

        override postMessage(message: unknown, ...rest: unknown[]): void {
          const m = message as { cmd?: string; urlOrBlob?: unknown } | null;
          if (m && m.cmd === 'load' && m.urlOrBlob instanceof OriginalBlob) {
            const text = scriptTexts.get(m.urlOrBlob);
            if (text === undefined) throw new Error('wasm threads: unknown main script blob');
            message = { ...m, urlOrBlob: scriptFile(mainPrelude + text, 'main.js') };
          }
          super.postMessage(message, ...rest);
        }
      };
    },
  });

  // Emscripten reads the core count through the very `os` module object, so patch it in place.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const osModule = require('os') as typeof os;
  const originalCpus = osModule.cpus;
  const reportedCores = Math.max(originalCpus().length, threads) * 2;
  osModule.cpus = () => {
    const cpus = originalCpus();
    return Array.from({ length: reportedCores }, (_, i) => cpus[i % cpus.length]);
  };

  return () => {
    initialised = true;
    workers.forEach((w) => w.unref());
    globalThis.Blob = OriginalBlob;
    URL.createObjectURL = originalCreateObjectURL;
    osModule.cpus = originalCpus;
    // The pool may still create workers after init, so the patched class stays installed.
    Object.defineProperty(globalThis, 'Worker', {
      configurable: true,
      writable: true,
      value: PatchedWorker ?? workerDescriptor?.value,
    });
  };
}
