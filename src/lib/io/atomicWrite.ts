import * as fs from 'fs';
import * as path from 'path';

/**
 * Write a file so that readers see either the old or the new content, never a torn one:
 * write to a temporary sibling, fsync, then rename over the target.
 */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  try {
    const fd = fs.openSync(tmp, 'w');
    try {
      fs.writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (e) {
    // A full disk or a read-only folder: say which file, leave no temporary behind, keep the old one.
    fs.rmSync(tmp, { force: true });
    throw new Error(`could not write ${file} (${(e as Error).message})${fs.existsSync(file) ? '; its previous version is intact' : ''}`);
  }
}

export function writeJsonAtomic(file: string, value: unknown): void {
  writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n');
}
