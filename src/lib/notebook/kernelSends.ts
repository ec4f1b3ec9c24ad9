/**
 * tslab 1.0.22 sends every Jupyter message with zeromq's `send()` and does not await it; zeromq 6
 * allows one pending send per socket and rejects the next one ("Socket is busy writing", EBUSY).
 * After a cell shows a few large images the kernel's "idle" status (or a display, or the cell's
 * reply) is then dropped, and the front end waits for that cell forever while the kernel sits idle
 * (measured in a live kernel: a cell showing five 0.5 MB PNGs stopped answering on its 63rd run;
 * notebook 03's grids cell on its 20th). Queueing each socket's sends in order removes the race
 * without changing what is sent.
 */
const PATCHED = Symbol.for('vii.zeromqSendsQueued');

type Send = (this: object, message: unknown) => Promise<void>;
interface SocketClass { prototype: { send?: Send } & { [PATCHED]?: boolean } }

/** Wraps one zeromq module's `Socket.prototype.send` so that a send waits for the socket's last one. */
export function queueSocketSends(zeromq: { Socket?: SocketClass }): boolean {
  const proto = zeromq.Socket?.prototype;
  const send = proto?.send;
  if (!proto || typeof send !== 'function') return false;
  if (proto[PATCHED]) return true;
  const tails = new WeakMap<object, Promise<void>>();
  const queuedSend = function (this: object, message: unknown): Promise<void> {
    const before = tails.get(this);
    const sent = before ? before.then(() => send.call(this, message)) : send.call(this, message);
    const tail = sent.then(
      () => undefined,
      () => undefined,
    );
    tails.set(this, tail);
    void tail.then(() => {
      if (tails.get(this) === tail) tails.delete(this);
    });
    return sent;
  };
  // The native method is read-only but configurable: redefine it with the same attributes.
  const own = Object.getOwnPropertyDescriptor(proto, 'send');
  if (own && !own.configurable) return false;
  Object.defineProperty(proto, 'send', { value: queuedSend, writable: own?.writable ?? true, enumerable: own?.enumerable ?? false, configurable: true });
  Object.defineProperty(proto, PATCHED, { value: true });
  return true;
}

let queued: number | null = null;

/**
 * Queues the sends of every zeromq the process has loaded (inside a tslab kernel: the kernel's own,
 * wherever tslab is installed). Returns how many modules were patched; 0 outside a kernel.
 */
export function queueKernelSends(): number {
  if (queued !== null) return queued; // a kernel has loaded its zeromq before any cell runs
  let n = 0;
  for (const [file, mod] of Object.entries(require.cache)) {
    if (!/[\\/]zeromq[\\/]lib[\\/]index\.js$/.test(file) || !mod) continue;
    try {
      if (queueSocketSends(mod.exports as { Socket?: SocketClass })) n++;
    } catch (e) {
      console.error(`vii: could not queue the kernel's zeromq sends (${(e as Error).message}); a cell showing many large images may hang`);
    }
  }
  return (queued = n);
}
