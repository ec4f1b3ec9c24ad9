// Times a first (decode) and second (cache) load of the whole data set: the target is < 2 s for the second.
import { loadFaces } from '../src/lib/data/dataSource';

async function main(): Promise<void> {
  const size = Number(process.env.VII_SIZE ?? 64);
  for (const pass of ['first', 'second']) {
    const t0 = performance.now();
    const ds = await loadFaces({ preprocess: { size, cropFraction: 148 / 178 } });
    const ms = performance.now() - t0;
    console.log(`${pass} load: ${ds.images.length} ${ds.kind} images at ${size}x${size} from ${ds.root} in ${(ms / 1000).toFixed(2)} s (cache ${ds.fromCache ? 'hit' : 'miss'})`);
  }
}
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
