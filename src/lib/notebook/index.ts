/**
 * What the notebooks call: backend set-up, the tiny-run switch, and inline display of grids,
 * plots, tables and live progress through tslab. Everything else comes from src/lib directly.
 */
import * as fs from 'fs';
import * as path from 'path';
import { selectBackend, describeBackend } from '../backend/selectBackend';
import { figureHtml, type Figure } from '../plots/plotly';
import { exportFigure, exportGrid } from '../plots/exportFigure';
import { browserMissing, findBrowser } from '../plots/browser';
import { tableMarkdown, type ResultTable } from '../export/table';
import { explorerData, explorerHtml, explorerScript } from '../explorer/explorerPage';

type TslabDisplay = { png(b: Uint8Array): void; html(s: string): void; markdown(s: string): void; text(s: string): void };
type Tslab = { display: TslabDisplay; newDisplay(): TslabDisplay };

function tslab(): Tslab | null {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('tslab') as Tslab;
  } catch {
    return null;
  }
}

/** Inside a tslab kernel, rich display; elsewhere (plain node) a text fallback. */
function display(): TslabDisplay {
  const t = tslab();
  if (t && process.env.VII_NOTEBOOK_TEXT !== '1') return t.display;
  return { png: (b) => console.log(`[png ${b.length} bytes]`), html: (s) => console.log(`[html ${s.length} chars]`), markdown: (s) => console.log(s), text: (s) => console.log(s) };
}

/** VII_TINY=1 shrinks every notebook to a smoke run (CI executes them this way). */
export const TINY = process.env.VII_TINY === '1';

/** Apply the tiny-run switch to a notebook's config: 1 short epoch on a few hundred 32×32 images. */
export function sized<T extends { size: 32 | 64; epochs: number; limit?: number; stepsPerEpoch?: number | null; evalImages?: number; runsDir?: string; figuresDir?: string; tableDir?: string }>(config: T): T {
  if (!TINY) return config;
  // Smoke runs write under results/tiny/, never over real results.
  const tiny = path.join('results', 'tiny');
  return { ...config, size: 32, epochs: 1, limit: 300, stepsPerEpoch: 2, evalImages: 30, runsDir: path.join(tiny, 'runs'), figuresDir: path.join(tiny, 'figures'), tableDir: path.join(tiny, 'table1') };
}

/** Select the backend and work from the project root (Jupyter starts kernels in notebooks/). */
export async function setup(): Promise<string> {
  if (path.basename(process.cwd()) === 'notebooks' && fs.existsSync(path.join('..', 'package.json'))) process.chdir('..');
  const info = await selectBackend({ quiet: true });
  const browser = await findBrowser();
  const line = `backend: ${describeBackend(info)}${TINY ? ' — VII_TINY=1: tiny smoke-run sizes' : ''}${browser ? '' : `\nnote: ${browserMissing()}`}`;
  display().text(line);
  return line;
}

/**
 * The completion explorer in the notebook (an isolated frame, everything inlined, no network): draw
 * a hole on a held-out face (or `images`: your own), step or play the Gibbs chain, force attributes,
 * draw K samples. `run` is a training run (its folder) or a run / checkpoint folder.
 */
export async function explorer(run: { runDir: string | null } | string, o: { images?: string; limit?: number; height?: number } = {}): Promise<number> {
  const dir = typeof run === 'string' ? run : run.runDir;
  if (!dir) throw new Error('nb.explorer: this run has no folder (runDir); give a run or checkpoint folder');
  const { model, faces } = await explorerData({ checkpoint: dir, images: o.images, limit: o.limit });
  const html = explorerHtml(await explorerScript(), { model, faces });
  const attribute = html.replace(/&/g, '&amp;').replace(/"/g, '&quot;');
  display().html(`<iframe srcdoc="${attribute}" style="width:100%;height:${o.height ?? 900}px;border:0"></iframe>`);
  return html.length;
}

export function showText(text: string): void {
  display().text(text);
}

export function showPng(png: Uint8Array): void {
  display().png(png);
}

let plotlyShown = false;
/** Render a plot inline (plotly.js inlined with the first plot, so exported HTML shows it). */
export function showPlot(fig: Figure, size: [number, number] = [720, 400]): void {
  display().html(figureHtml(fig, { includePlotly: !plotlyShown, width: size[0], height: size[1] }));
  plotlyShown = true;
}

export function showTable(table: ResultTable): void {
  display().markdown(tableMarkdown(table));
}

/** A danfojs DataFrame as an HTML table. */
export function showFrame(frame: { columns: string[]; values: unknown[][] }, maxRows = 20): void {
  const rows = frame.values.slice(-maxRows);
  if (rows.length === 0) return display().text('(empty)');
  const cell = (v: unknown) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toPrecision(5)) : String(v));
  display().html(`<table><thead><tr>${frame.columns.map((c) => `<th>${c}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((v) => `<td>${cell(v)}</td>`).join('')}</tr>`).join('')}</tbody></table>`);
}

/** A single output line that is overwritten in place: pass it as `onLine` to long work. */
export function liveLine(): (line: string) => void {
  const t = tslab();
  if (!t || process.env.VII_NOTEBOOK_TEXT === '1') return (line) => console.log(line);
  const d = t.newDisplay();
  let last = 0;
  return (line) => {
    const now = Date.now();
    if (now - last < 250 && !/ (\d+)\/\1 /.test(line)) return; // at most 4 redraws a second
    last = now;
    d.text(line);
  };
}

export { exportFigure, exportGrid };
