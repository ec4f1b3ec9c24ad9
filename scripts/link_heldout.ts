// Links the held-out test split of a data set (as training splits it: same seed) into a folder,
// for `vii complete` on faces no model has seen: tsx scripts/link_heldout.ts OUT [--data DIR] [--seed S]
import * as fs from 'fs';
import * as path from 'path';
import { findDataSource } from '../src/lib/data/dataSource';
import { findImageDir, loadCelebA } from '../src/lib/data/loadCelebA';
import { CELEBA_CROP_FRACTION } from '../src/lib/data/preprocess';

(async () => {
  const [out, ...rest] = process.argv.slice(2);
  if (!out) throw new Error('usage: tsx scripts/link_heldout.ts OUT [--data DIR] [--seed S]');
  const flag = (name: string) => {
    const i = rest.indexOf(`--${name}`);
    return i >= 0 ? rest[i + 1] : undefined;
  };
  const source = findDataSource(flag('data'));
  if (!source) throw new Error('no CelebA folder found (--data, $CELEBA_DIR, data/celeba, ../shared/celeba)');
  // The split depends only on the image list and the seed, not on the preprocessing.
  const data = await loadCelebA({ dir: source.dir, preprocess: { size: 32, cropFraction: CELEBA_CROP_FRACTION }, seed: Number(flag('seed') ?? 0) });
  const imageDir = findImageDir(data.root);
  fs.mkdirSync(out, { recursive: true });
  for (const i of data.splits.test) {
    const target = path.join(out, data.images[i]);
    if (!fs.existsSync(target)) fs.symlinkSync(path.resolve(imageDir, data.images[i]), target);
  }
  console.log(`linked ${data.splits.test.length} held-out test faces of ${data.root} into ${out}`);
})();
