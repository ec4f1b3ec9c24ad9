/**
 * The wasm backend's Emscripten glue installs `process.on('unhandledRejection', r => { throw r })`
 * and an `uncaughtException` handler that rethrows. In a long-lived host (a Jupyter kernel) that
 * turns one forgotten `await` into the death of the process and of everything it holds; the host's
 * own handlers (tslab shows the error in the cell) must decide instead. Returns a function that
 * removes whatever handlers of these two events were added since the snapshot.
 */
export function snapshotProcessHandlers(): () => number {
  const events = ['unhandledRejection', 'uncaughtException'] as const;
  const before = new Map(events.map((e) => [e, new Set<unknown>(process.listeners(e as 'unhandledRejection'))]));
  return () => {
    let removed = 0;
    for (const e of events) {
      for (const listener of process.listeners(e as 'unhandledRejection')) {
        if (before.get(e)!.has(listener)) continue;
        process.removeListener(e as 'unhandledRejection', listener);
        removed++;
      }
    }
    return removed;
  };
}
