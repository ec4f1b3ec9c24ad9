import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export const LOCK_FILE = 'train.lock';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether a live pid can be a trainer: pids are reused, so a lock whose pid now belongs to another
 * program (not node) is stale. Where /proc cannot tell, assume it can.
 */
function couldBeTrainer(pid: number): boolean {
  try {
    return /node|tsx|vii/.test(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
  } catch {
    return true;
  }
}

/**
 * One training process per run folder: a second one is refused rather than interleaving its
 * checkpoints with the first's. The lock names its holder; a lock left by a process that no
 * longer runs on this host (killed) is taken over with a warning, as is one of this same process
 * (a notebook cell rerun). Returns the release function.
 */
export function acquireRunLock(runDir: string, warn: (m: string) => void = (m) => console.warn(m)): () => void {
  fs.mkdirSync(runDir, { recursive: true });
  const file = path.join(runDir, LOCK_FILE);
  const me = { pid: process.pid, host: os.hostname(), since: new Date().toISOString() };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      fs.writeFileSync(file, JSON.stringify(me), { flag: 'wx' });
      const release = () => {
        try {
          const holder = JSON.parse(fs.readFileSync(file, 'utf8')) as typeof me;
          if (holder.pid === me.pid && holder.since === me.since) fs.rmSync(file, { force: true });
        } catch {
          // already gone
        }
        process.off('exit', release);
      };
      process.on('exit', release);
      return release;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new Error(`${file}: cannot create the run lock (${(e as Error).message})`);
    }
    let holder: typeof me | null = null;
    try {
      holder = JSON.parse(fs.readFileSync(file, 'utf8')) as typeof me;
    } catch {
      holder = null; // torn or emptied: treat as stale
    }
    const sameHost = holder?.host === me.host;
    if (holder && sameHost && holder.pid !== me.pid && alive(holder.pid) && couldBeTrainer(holder.pid)) {
      throw new Error(`${runDir} is being trained by another process (pid ${holder.pid}, since ${holder.since}); wait for it to finish or use another run folder (if no training runs there, delete ${file})`);
    }
    if (holder && !sameHost) {
      throw new Error(`${runDir} is locked by pid ${holder.pid} on host ${holder.host} (since ${holder.since}); if that run is gone, delete ${file}`);
    }
    if (holder?.pid !== me.pid) warn(`[vii] warning: ${file} was left by ${holder ? `pid ${holder.pid}, which no longer runs ${alive(holder.pid) ? 'a trainer (the pid now belongs to another program)' : ''}`.trim() : 'an unreadable lock'}; taking it over`);
    fs.rmSync(file, { force: true });
  }
  throw new Error(`${file}: could not take the run lock`);
}
