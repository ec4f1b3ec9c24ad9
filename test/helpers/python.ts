import { spawnSync } from 'child_process';

/** Debian's python3 (with python3-skimage / python3-opencv), or a skip message. */
export const PYTHON = '/usr/bin/python3';
export function pythonSkip(module: string, debianPackage: string): string | false {
  const r = spawnSync(PYTHON, ['-c', `import ${module}`], { encoding: 'utf8' });
  return r.status === 0 ? false : `${PYTHON} cannot import ${module} (apt-get install ${debianPackage}): test skipped`;
}

export function runPython(args: string[]): string {
  const r = spawnSync(PYTHON, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${PYTHON} ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}
