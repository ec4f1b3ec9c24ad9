import * as fs from 'fs';
import * as path from 'path';
import { ATTRIBUTE_FILE, loadCelebA, type LoadOptions } from './loadCelebA';
import { SYNTHETIC_MARKER, writeSyntheticFaces } from './syntheticFaces';
import type { FaceDataset } from './faceDataset';

export const CELEBA_DIR_ENV = 'CELEBA_DIR';
export const SYNTHETIC_DIR = path.join('data', 'synthetic-faces');
export const SYNTHETIC_DEFAULT_COUNT = 3000;

export interface DataSource {
  dir: string;
  kind: FaceDataset['kind'];
  /** How the folder was chosen, for logs and result captions. */
  origin: 'config' | 'env' | 'data/celeba' | '../shared/celeba' | 'synthetic';
}

function isCelebaLayout(dir: string): boolean {
  return fs.existsSync(path.join(dir, ATTRIBUTE_FILE));
}

function isSynthetic(dir: string): boolean {
  return fs.existsSync(path.join(dir, SYNTHETIC_MARKER));
}

/**
 * The data folder: the configured one, else $CELEBA_DIR, else data/celeba, else ../shared/celeba;
 * `null` when none exists (the caller may then generate the synthetic faces). `root` is the
 * project root the defaults are relative to. An explicitly named folder must exist.
 */
export function findDataSource(configured?: string, root = process.cwd()): DataSource | null {
  const asSource = (dir: string, origin: DataSource['origin']): DataSource => ({
    dir: path.resolve(root, dir),
    kind: isSynthetic(path.resolve(root, dir)) ? 'synthetic' : 'celeba',
    origin,
  });
  const named = (dir: string, origin: 'config' | 'env', what: string): DataSource => {
    if (!fs.existsSync(path.resolve(root, dir))) throw new Error(`${path.resolve(root, dir)} (${what}) does not exist; expected a folder in the CelebA layout`);
    return asSource(dir, origin);
  };
  if (configured) return named(configured, 'config', 'the configured data folder');
  const fromEnv = process.env[CELEBA_DIR_ENV];
  if (fromEnv) return named(fromEnv, 'env', `$${CELEBA_DIR_ENV}`);
  for (const [dir, origin] of [[path.join('data', 'celeba'), 'data/celeba'], [path.join('..', 'shared', 'celeba'), '../shared/celeba']] as const) {
    if (isCelebaLayout(path.resolve(root, dir))) return asSource(dir, origin);
  }
  return null;
}

/**
 * The data set to use: the real faces when a folder is found, otherwise the project's own
 * procedurally drawn faces (generated once into data/synthetic-faces). Results on those are
 * not CelebA results; the returned `kind` says so and every caption repeats it.
 */
export async function resolveDataSource(
  options: { dir?: string; root?: string; syntheticCount?: number; seed?: number; log?: (m: string) => void } = {},
): Promise<DataSource> {
  const root = options.root ?? process.cwd();
  const found = findDataSource(options.dir, root);
  if (found) return found;
  const dir = path.resolve(root, SYNTHETIC_DIR);
  const count = options.syntheticCount ?? SYNTHETIC_DEFAULT_COUNT;
  const marker = path.join(dir, SYNTHETIC_MARKER);
  if (!fs.existsSync(marker) || fs.readFileSync(marker, 'utf8').trim() !== `${count} ${options.seed ?? 0}`) {
    (options.log ?? console.warn)(
      `[vii] no CelebA folder (config, $${CELEBA_DIR_ENV}, data/celeba, ../shared/celeba): generating ${count} synthetic faces in ${dir}. Results on them are NOT CelebA results.`,
    );
    fs.rmSync(dir, { recursive: true, force: true });
    await writeSyntheticFaces({ dir, count, seed: options.seed ?? 0 });
  }
  return { dir, kind: 'synthetic', origin: 'synthetic' };
}

/** Resolve the data source and load it (cached after the first time). */
export async function loadFaces(
  options: Omit<LoadOptions, 'dir' | 'kind'> & { dir?: string; root?: string; syntheticCount?: number },
): Promise<FaceDataset & { origin: DataSource['origin'] }> {
  const source = await resolveDataSource(options);
  const ds = await loadCelebA({ ...options, dir: source.dir, kind: source.kind });
  return { ...ds, origin: source.origin };
}
