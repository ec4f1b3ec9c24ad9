import { SingleBar, Presets } from 'cli-progress';

/**
 * Progress for long work: a bar on a terminal, one line per ~10 % elsewhere (CI logs, and the
 * notebook, where `onLine` can redraw a live display instead).
 */
export class ProgressBar {
  private bar: SingleBar | null = null;
  private lastPrinted = -1;

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly onLine: ((line: string) => void) | null = null,
  ) {
    if (!onLine && process.stderr.isTTY) {
      this.bar = new SingleBar({ format: `${label} [{bar}] {value}/{total} {eta_formatted} {status}`, stream: process.stderr }, Presets.shades_classic);
      this.bar.start(total, 0, { status: '' });
    }
  }

  update(done: number, status = ''): void {
    if (this.bar) return this.bar.update(done, { status });
    const line = `${this.label} ${done}/${this.total} ${status}`.trimEnd();
    if (this.onLine) return this.onLine(line);
    const decile = Math.floor((10 * done) / Math.max(1, this.total));
    if (decile !== this.lastPrinted || done === this.total) {
      this.lastPrinted = decile;
      console.error(line);
    }
  }

  stop(): void {
    this.bar?.stop();
    this.bar = null;
  }
}
