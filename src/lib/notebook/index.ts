/**
 * The notebooks' one entry point, imported with its types (`import * as vii from 'vii/notebook'`;
 * node_modules/vii is this library, an npm workspace): backend set-up, experiment specs opened
 * a cell at a time, and inline display of grids, plots and tables through tslab.
 *
 * Kernel hygiene: a stage loads its models and disposes them before it returns, so no cell holds
 * tensors and a rerun leaves the kernel as it was; runs are trained and released (no lock stays);
 * an unhandled rejection is reported, never fatal.
 */
import * as fs from 'fs';
import * as path from 'path';
import { selectBackend, describeBackend } from '../backend/selectBackend';
import { figureHtml, type Figure } from '../plots/plotly';
import { gridPdf } from '../plots/exportFigure';
import { browserMissing, findBrowser } from '../plots/browser';
import { tableMarkdown, type ResultTable } from '../export/table';
import { explorerData, explorerHtml, explorerScript } from '../explorer/explorerPage';
import { Experiment, type OpenOptions } from '../experiments/experiment';
import * as tf from '@tensorflow/tfjs';
import { gatherBatch, type FaceDataset } from '../data/faceDataset';
import { makeMaskBatch, parseMaskSpec } from '../masks';
import { gridPng } from '../plots/imageGrid';
import type { calibrationSummary } from '../metrics/calibration';
import { queueKernelSends } from './kernelSends';

export { Experiment, TINY_OVERRIDES, type ExperimentRun } from '../experiments/experiment';
export { SpecError, type ExperimentSpec } from '../spec/experimentSpec';
export { controlTable } from '../experiments/attributeControl';
export type { Figure } from '../plots/plotly';
export type { ResultTable } from '../export/table';

type TslabDisplay = { png(b: Uint8Array): void; html(s: string): void; markdown(s: string): void; text(s: string): void };
type Tslab = { display: TslabDisplay; newDisplay(): TslabDisplay };

function tslab(): Tslab | null {
  let t: Tslab;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    t = require('tslab') as Tslab;
  } catch {
    return null;
  }
  queueKernelSends(); // before the first display: tslab's unawaited sends can drop a cell's idle status
  return t;
}

/** Inside a tslab kernel, rich display; elsewhere (plain node) a text fallback. */
function display(): TslabDisplay {
  const t = tslab();
  if (t && process.env.VII_NOTEBOOK_TEXT !== '1') return t.display;
  return { png: (b) => console.log(`[png ${b.length} bytes]`), html: (s) => console.log(`[html ${s.length} chars]`), markdown: (s) => console.log(s), text: (s) => console.log(s) };
}

/** VII_TINY=1 shrinks every experiment a notebook opens to a smoke run under results/tiny/ (CI executes them this way). */
export const TINY = process.env.VII_TINY === '1';

const REPORTER = Symbol.for('vii.unhandledRejectionReporter');

/**
 * A forgotten `await` on a failing promise: say so where the user looks (the running cell's
 * output, or the kernel log) and keep the kernel. Installed once per process, however often
 * the module is reloaded or setup() rerun.
 */
function reportUnhandledRejections(): void {
  const g = globalThis as { [REPORTER]?: boolean };
  if (g[REPORTER]) return;
  g[REPORTER] = true;
  process.on('unhandledRejection', (reason) => {
    const r = reason as Error;
    console.error(`unhandled rejection (a promise without await?): ${r?.name ?? 'Error'}: ${r?.message ?? String(reason)}`);
  });
}

/** Jupyter starts kernels in notebooks/; specs, models and results are named from the project root. */
function toProjectRoot(): void {
  if (path.basename(process.cwd()) === 'notebooks' && fs.existsSync(path.join('..', 'package.json'))) process.chdir('..');
}

/** Select the backend and work from the project root (Jupyter starts kernels in notebooks/). */
export async function setup(): Promise<string> {
  toProjectRoot();
  reportUnhandledRejections();
  const info = await selectBackend({ quiet: true });
  const browser = await findBrowser();
  const line = `backend: ${describeBackend(info)}${TINY ? ' — VII_TINY=1: smoke-run sizes under results/tiny/' : ''}${browser ? '' : `\nnote: ${browserMissing()}`}`;
  display().text(line);
  return line;
}

/**
 * Opens an experiment spec (configs/*.json) with `vii run`'s dotted overrides; a bad key or value
 * is refused here, in the config cell, in one line naming it. Models already trained (a run
 * folder, or a shipped model with exactly the entry's settings) are used as they are; the table
 * shown says which and what is left to train.
 */
export function open(file: string, overrides: string[] = [], options: Omit<OpenOptions, 'log'> = {}): Experiment {
  toProjectRoot();
  const exp = Experiment.open(file, overrides, { useShipped: true, ...options, log: (m) => display().text(m) });
  showTable(exp.status());
  return exp;
}

export function showText(text: string): void {
  display().text(text);
}

export function showPng(png: Uint8Array): void {
  display().png(png);
}

/** Files a stage wrote: PNGs inline, the rest listed by path. */
export function showFiles(files: readonly string[]): void {
  for (const f of files) if (f.endsWith('.png') && fs.existsSync(f)) display().png(fs.readFileSync(f));
  const others = files.filter((f) => !f.endsWith('.png'));
  if (others.length) display().text(others.join('\n'));
}

/**
 * Render a plot inline. Each plot carries plotly.js (the basic bundle, ~1 MB minified): a rerun
 * cell replaces its own output, so no plot may depend on another cell's copy of the library.
 */
export function showPlot(fig: Figure, size: [number, number] = [720, 400]): void {
  display().html(figureHtml(fig, { includePlotly: true, width: size[0], height: size[1] }));
}

/** Text from files (model rows, attribute names) is shown as text: Markdown's HTML is escaped. */
function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function showTable(table: ResultTable): void {
  display().markdown(escapeHtml(tableMarkdown(table)));
}

/** A Markdown file a stage wrote (a table, a summary). */
export function showMarkdownFile(file: string | null): void {
  if (!file || !fs.existsSync(file)) return display().text(`(no ${file ?? 'table'} yet)`);
  display().markdown(escapeHtml(fs.readFileSync(file, 'utf8')));
}

/** A danfojs DataFrame as a table (cells as text). */
export function showFrame(frame: { columns: string[]; values: unknown[][] }, maxRows = 20): void {
  const rows = frame.values.slice(-maxRows);
  if (rows.length === 0) return display().text('(empty)');
  const cell = (v: unknown) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toPrecision(5)) : String(v));
  showTable({ caption: '', columns: frame.columns.slice(1), rows: rows.map((r) => ({ name: cell(r[0]), cells: r.slice(1).map(cell) })) });
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

/**
 * The appendix export of an experiment: every figure it wrote (PNG + JSON, plots also PDF), a
 * PDF made for each image grid, and its tables. Files are named by the experiment, whose name
 * carries the settings hash when overridden, and by the runs (settings hashes): another
 * setting never replaces them. Returns the list.
 */
export async function exportAppendix(exp: Experiment): Promise<string[]> {
  const dir = exp.paths.figures;
  const files: string[] = [];
  if (fs.existsSync(dir)) {
    const canPdf = (await findBrowser()) !== null;
    for (const f of fs.readdirSync(dir).sort()) {
      const file = path.join(dir, f);
      if (f.endsWith('.png') && canPdf && !fs.existsSync(file.replace(/\.png$/, '.pdf'))) files.push((await gridPdf(file)) as string);
      files.push(file);
    }
  }
  for (const ext of ['md', 'csv', 'tex', 'json']) if (fs.existsSync(`${exp.paths.table}.${ext}`)) files.push(`${exp.paths.table}.${ext}`);
  const list = [...new Set(files)].sort();
  display().text(list.length ? `${list.length} files for the appendix:\n${list.join('\n')}` : `${exp.spec.name}: nothing exported yet (run a stage first)`);
  return list;
}

/** A grid of faces of the data set (PNG). */
export async function faceGrid(data: FaceDataset, indices: number[], columns = 8): Promise<Buffer> {
  const batch = gatherBatch(data, indices);
  try {
    return await gridPng(batch.x, { columns, scale: data.preprocess.size < 64 ? 2 : 1 });
  } finally {
    tf.dispose([batch.x, batch.y]);
  }
}

/** Masks of each family (m = 1 observed, white), four of each, one row per family. */
export async function maskGrid(families: string[], size: number): Promise<Buffer> {
  const masks = families.map((f) => makeMaskBatch(parseMaskSpec(f), 4, size));
  const all = tf.concat(masks) as tf.Tensor4D;
  try {
    return await gridPng(all, { columns: 4, scale: 2 });
  } finally {
    tf.dispose([...masks, all]);
  }
}

/** The share of faces with each attribute, most frequent first. */
export function attributeShares(data: FaceDataset): ResultTable {
  const n = data.images.length;
  const k = data.attributeNames.length;
  const shares = data.attributeNames.map((name, j) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += data.attributes[i * k + j];
    return { name, share: n ? s / n : 0 };
  });
  shares.sort((a, b) => b.share - a.share);
  return { caption: `share of the ${n} faces with each attribute`, columns: ['share'], rows: shares.map((r) => ({ name: r.name, cells: [r.share] })) };
}

/**
 * A calibration summary (Experiment.uncertainty, run.json of vii complete --uncertainty) as a table;
 * with `calibrated` (the error model's σ on the same holes) a second column beside the raw std's.
 */
export function calibrationTable(c: ReturnType<typeof calibrationSummary>, calibrated: ReturnType<typeof calibrationSummary> | null = null): ResultTable {
  const all = calibrated ? [c, calibrated] : [c];
  const ratio = (x: typeof c) => `${x.sparsification.modelArea.toFixed(4)} / ${x.sparsification.oracleArea.toFixed(4)}`;
  return {
    caption: `calibration of the per-pixel σ over ${c.pixels} hole values (Gaussian coverage beside each ±kσ; σ scale: the single factor that would calibrate it)`,
    columns: calibrated ? ['std', 'calibrated σ (error model)'] : ['std'],
    digits: all.map(() => 3),
    rows: [
      { name: 'rank correlation σ ↔ |error|', cells: all.map((x) => x.spearman) },
      ...c.coverage.map((r, i) => ({ name: `within ±${r.k}σ (Gaussian ${r.expected.toFixed(3)})`, cells: all.map((x) => x.coverage[i].observed) })),
      { name: 'ECE', cells: all.map((x) => x.ece) },
      { name: 'σ scale', cells: all.map((x) => x.scale) },
      { name: 'sparsification area, model / oracle', cells: all.map(ratio) },
    ],
  };
}

/** The figure files of an experiment whose names match (e.g. the sweep grids). */
export function figuresOf(exp: Experiment, pattern: RegExp): string[] {
  const dir = exp.paths.figures;
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => pattern.test(f)).sort().map((f) => path.join(dir, f)) : [];
}

/**
 * The completion explorer in the notebook (an isolated frame, everything inlined, no network): draw
 * a hole on a held-out face (or `images`: your own), step or play the Gibbs chain, force attributes,
 * draw K samples. `run` is a run or checkpoint folder (e.g. `exp.trained()[0].runDir`).
 */
export async function explorer(run: { runDir: string } | string, o: { images?: string; limit?: number; height?: number } = {}): Promise<void> {
  const dir = typeof run === 'string' ? run : run.runDir;
  const { model, faces } = await explorerData({ checkpoint: dir, images: o.images, limit: o.limit });
  const html = explorerHtml(await explorerScript(), { model, faces });
  const attribute = html.replace(/&/g, '&amp;').replace(/"/g, '&quot;');
  display().html(`<iframe srcdoc="${attribute}" style="width:100%;height:${o.height ?? 900}px;border:0"></iframe>`);
}
