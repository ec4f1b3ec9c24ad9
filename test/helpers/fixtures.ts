import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/** A fresh temporary folder, removed when the process exits. */
export function tempDir(prefix = 'vii-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** ../shared/celeba when this checkout has it (CI does); otherwise null and a skip message. */
export const SHARED_CELEBA = path.resolve(__dirname, '..', '..', '..', 'shared', 'celeba');
export const sharedCelebaSkip: string | false = fs.existsSync(path.join(SHARED_CELEBA, 'list_attr_celeba.txt'))
  ? false
  : `../shared/celeba not found at ${SHARED_CELEBA}: real-data test skipped`;
