import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { figurePage, type Figure } from './plotly';
import { writeFileAtomic, writeJsonAtomic } from '../io/atomicWrite';

export const FIGURE_DIR = path.join('results', 'figures');
const BROWSERS = ['chromium', 'chromium-browser', 'google-chrome'];
const HEADLESS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--hide-scrollbars'];

export function findBrowser(): string | null {
  for (const b of [process.env.VII_CHROMIUM, ...BROWSERS].filter(Boolean) as string[]) {
    if (spawnSync(b, ['--version'], { encoding: 'utf8' }).status === 0) return b;
  }
  return null;
}

/** Run headless Chromium on an HTML file; throws with its stderr on failure. */
export function runBrowser(args: string[], htmlFile: string): string {
  const browser = findBrowser();
  if (!browser) throw new Error('no Chromium found (apt-get install chromium, or set VII_CHROMIUM)');
  const r = spawnSync(browser, [...HEADLESS, '--virtual-time-budget=10000', ...args, `file://${path.resolve(htmlFile)}`], { encoding: 'utf8', maxBuffer: 256 << 20, timeout: 120_000 });
  if (r.status !== 0) throw new Error(`${browser} failed on ${htmlFile}: ${r.stderr.slice(-500)}`);
  return r.stdout;
}

/**
 * Write a plot as `<name>.png` (raster, for slides) and `<name>.pdf` (vector, for the paper), and
 * the config that produced it as `<name>.json`. Stable names: the same
 * name overwrites (atomically) the previous version.
 */
export function exportFigure(fig: Figure, name: string, config: unknown, dir = FIGURE_DIR, size: [number, number] = [720, 400]): string[] {
  fs.mkdirSync(dir, { recursive: true });
  const base = path.join(dir, name);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vii-fig-'));
  try {
    const html = path.join(tmp, 'figure.html');
    fs.writeFileSync(html, figurePage(fig, size[0], size[1]));
    runBrowser([`--screenshot=${path.join(tmp, 'figure.png')}`, `--window-size=${size[0]},${size[1]}`], html);
    runBrowser([`--print-to-pdf=${path.join(tmp, 'figure.pdf')}`, '--no-pdf-header-footer'], html);
    writeFileAtomic(`${base}.png`, fs.readFileSync(path.join(tmp, 'figure.png')));
    writeFileAtomic(`${base}.pdf`, fs.readFileSync(path.join(tmp, 'figure.pdf')));
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  writeJsonAtomic(`${base}.json`, { figure: name, config, plot: fig });
  return ['png', 'pdf', 'json'].map((e) => `${base}.${e}`);
}

/** Write an image grid as `<name>.png` with its config as `<name>.json`. */
export function exportGrid(png: Buffer, name: string, config: unknown, dir = FIGURE_DIR): string[] {
  fs.mkdirSync(dir, { recursive: true });
  const base = path.join(dir, name);
  writeFileAtomic(`${base}.png`, png);
  writeJsonAtomic(`${base}.json`, { figure: name, config });
  return [`${base}.png`, `${base}.json`];
}
