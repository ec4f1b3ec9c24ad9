// The README's screenshot of the completion explorer: `vii explore` on a shipped model and held-out
// faces, a stroke drawn with the mouse beside the centre hole, the chain played, Smiling forced on,
// K = 4 samples drawn, in headless Chromium (webgl where it has it).
//   npx tsx scripts/explorer_screenshot.ts [MODEL] [OUT_DIR]
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { writeExplorer } from '../src/lib/explorer/explorerPage';
import { shippedModelDir } from '../src/lib/weights/shippedModel';
import { withPage } from '../src/lib/plots/browser';
import { writeJsonAtomic } from '../src/lib/io/atomicWrite';

const [model = 'cropped-attr1-both-guided', outDir = 'results/figures/explorer'] = process.argv.slice(2);

async function main(): Promise<void> {
  const page = fs.mkdtempSync(path.join(os.tmpdir(), 'vii-explorer-'));
  await writeExplorer({ checkpoint: shippedModelDir(model), out: page, limit: 8 });
  const shot = path.join(outDir, 'explorer.png');
  fs.mkdirSync(outDir, { recursive: true });
  const info = await withPage(path.join(page, 'index.html'), { width: 1100, height: 960 }, async (p) => {
    await p.waitForSelector('body[data-ready]', { timeout: 120_000 });
    await p.evaluate(() => window.viiExplorer.setFace(2));
    const box = (await (await p.$('#canvas'))!.boundingBox())!;
    await p.mouse.move(box.x + 40, box.y + 200);
    await p.mouse.down();
    await p.mouse.move(box.x + 110, box.y + 225, { steps: 10 });
    await p.mouse.up();
    const smiling = await p.$('#attr-Smiling');
    if (smiling) await smiling.click();
    await p.click('#sampleButton');
    await p.waitForFunction(() => document.getElementById('samplesRow')!.dataset.samples === '4', { timeout: 120_000 });
    const run = await p.evaluate(() => window.viiExplorer.run({ steps: 10, latent: 'mean', seed: 1 }));
    fs.writeFileSync(shot, await p.screenshot({ type: 'png' }));
    return { backend: await p.evaluate(() => document.body.dataset.ready), maskedL1: run.maskedL1, state: await p.evaluate(() => window.viiExplorer.state()) };
  });
  writeJsonAtomic(path.join(outDir, 'explorer.json'), { figure: 'explorer', model, faces: 'first 8 held-out test faces of the model\'s data set', ...info });
  fs.rmSync(page, { recursive: true, force: true });
  console.log(`wrote ${shot} (tfjs ${info.backend}; masked L1 after steps 1 → 10: ${info.maskedL1.map((v: number) => v.toFixed(4)).join(' ')})`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
