/**
 * Ctrl-C and SIGTERM for long commands. While training, the first signal asks the loop to stop
 * after the current step (it then writes a checkpoint and the command releases its lock and says
 * where it stopped); a second one exits at once (the last checkpoint stands). Outside training
 * every output is written atomically, so the process says what it was doing and exits.
 */
export interface Interrupt {
  /** The signal received, if any. */
  readonly signal: NodeJS.Signals | null;
  /** Whether the training loop should stop after its step (passed as shouldStop). */
  requested(): boolean;
  /** What is running now, for the message at a signal outside training. */
  phase(description: string, deferToStep: boolean): void;
  /** The exit code of the signal: 130 for SIGINT, 143 for SIGTERM. */
  readonly code: number;
  dispose(): void;
}

export function interruptible(): Interrupt {
  let signal: NodeJS.Signals | null = null;
  let current = { description: 'starting', defer: false };
  const code = () => (signal === 'SIGTERM' ? 143 : 130);
  const onSignal = (s: NodeJS.Signals) => {
    if (signal !== null || !current.defer) {
      signal ??= s;
      process.stderr.write(`\n[vii] interrupted (${s}) during ${current.description}; every file written so far is complete; rerun the same command to resume\n`);
      process.exit(code());
    }
    signal = s;
    process.stderr.write(`\n[vii] ${s}: stopping after this step to write a checkpoint (again to quit at once)\n`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    get signal() {
      return signal;
    },
    get code() {
      return code();
    },
    requested: () => signal !== null,
    phase(description, defer) {
      current = { description, defer };
    },
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
