import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { figurePage, type Figure } from './plotly';
import { writeFileAtomic, writeJsonAtomic } from '../io/atomicWrite';
import sharp from 'sharp';
import { renderPage } from './browser';
export { findBrowser, browserMissing } from './browser';

export const FIGURE_DIR = path.join('results', 'figures');

/**
 * Write a plot as `<name>.png` (raster, for slides) and `<name>.pdf` (vector, for the paper), and
 * the config that produced it as `<name>.json`, rendered by headless Chromium (plots/browser.ts:
 * the system's, or the one npm's @sparticuz/chromium ships). Stable names: the same name
 * overwrites (atomically) the previous version.
 */
export async function exportFigure(fig: Figure, name: string, config: unknown, dir = FIGURE_DIR, size: [number, number] = [720, 400]): Promise<string[]> {
  fs.mkdirSync(dir, { recursive: true });
  const base = path.join(dir, name);
  const files = ['png', 'pdf', 'json'].map((e) => `${base}.${e}`);
  // The same figure already exported: leave it (a PDF rendered again differs only in its timestamp).
  const record = JSON.stringify({ figure: name, config, plot: fig });
  if (files.every((f) => fs.existsSync(f)) && sameJson(files[2], record)) return files;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vii-fig-'));
  try {
    const html = path.join(tmp, 'figure.html');
    fs.writeFileSync(html, figurePage(fig, size[0], size[1]));
    await renderPage(html, { png: path.join(tmp, 'figure.png'), pdf: path.join(tmp, 'figure.pdf'), width: size[0], height: size[1], readySelector: '.main-svg' });
    writeFileAtomic(`${base}.png`, fs.readFileSync(path.join(tmp, 'figure.png')));
    writeFileAtomic(`${base}.pdf`, fs.readFileSync(path.join(tmp, 'figure.pdf')));
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  writeJsonAtomic(`${base}.json`, { figure: name, config, plot: fig });
  return files;
}

function sameJson(file: string, json: string): boolean {
  try {
    return JSON.stringify(JSON.parse(fs.readFileSync(file, 'utf8'))) === JSON.stringify(JSON.parse(json));
  } catch {
    return false;
  }
}

/** Write an image grid as `<name>.png` with its config as `<name>.json`. */
export function exportGrid(png: Buffer, name: string, config: unknown, dir = FIGURE_DIR): string[] {
  fs.mkdirSync(dir, { recursive: true });
  const base = path.join(dir, name);
  writeFileAtomic(`${base}.png`, png);
  writeJsonAtomic(`${base}.json`, { figure: name, config });
  return [`${base}.png`, `${base}.json`];
}

/** A PDF beside an image grid's PNG (`<name>.pdf`, the page the size of the image), for a paper's appendix. */
export async function gridPdf(pngFile: string): Promise<string> {
  const { width = 256, height = 256 } = await sharp(pngFile).metadata();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vii-grid-'));
  const pdf = pngFile.replace(/\.png$/, '.pdf');
  try {
    const html = path.join(tmp, 'grid.html');
    const data = fs.readFileSync(pngFile).toString('base64');
    fs.writeFileSync(html, `<!doctype html><html><body style="margin:0"><img src="data:image/png;base64,${data}" width="${width}" height="${height}" style="display:block;image-rendering:pixelated"></body></html>`);
    await renderPage(html, { pdf: path.join(tmp, 'grid.pdf'), width, height });
    writeFileAtomic(pdf, fs.readFileSync(path.join(tmp, 'grid.pdf')));
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return pdf;
}
