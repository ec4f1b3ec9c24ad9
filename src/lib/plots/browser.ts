import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

/**
 * The headless Chromium that renders plots to PNG/PDF: $VII_CHROMIUM, else a system browser
 * (Debian `chromium`), else the one inside the npm package @sparticuz/chromium (an optional
 * dependency, so `npm install` alone brings one; VII_CHROMIUM=bundled picks it even where a system
 * browser exists). Driven through puppeteer-core.
 */
export interface Browser {
  executablePath: string;
  args: string[];
  origin: 'VII_CHROMIUM' | 'system' | '@sparticuz/chromium';
}

const SYSTEM = ['chromium', 'chromium-browser', 'google-chrome'];
const HEADLESS_ARGS = ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--hide-scrollbars'];

function runs(binary: string): boolean {
  return spawnSync(binary, ['--version'], { encoding: 'utf8', timeout: 20_000 }).status === 0;
}

/** An absolute path for a command name (puppeteer launches paths, not names). */
function onPath(binary: string): string {
  if (path.isAbsolute(binary)) return binary;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const full = path.join(dir, binary);
    if (fs.existsSync(full)) return full;
  }
  return binary;
}

let found: Promise<Browser | null> | null = null;

/** The browser to use (found once per process), or null with browserMissing() saying what to do. */
export function findBrowser(): Promise<Browser | null> {
  found ??= (async () => {
    const env = process.env.VII_CHROMIUM;
    // VII_CHROMIUM=bundled skips the system browser (what a machine without one gets).
    if (env && env !== 'bundled') return runs(env) ? { executablePath: onPath(env), args: HEADLESS_ARGS, origin: 'VII_CHROMIUM' as const } : null;
    if (!env) for (const b of SYSTEM) if (runs(b)) return { executablePath: onPath(b), args: HEADLESS_ARGS, origin: 'system' as const };
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const bundled = require('@sparticuz/chromium') as { default?: SparticuzChromium } & SparticuzChromium;
      const chromium = bundled.default ?? bundled;
      // Unpacks the brotli-compressed binary into the temp folder on first use (~2 s).
      return { executablePath: await chromium.executablePath(), args: [...chromium.args, '--disable-gpu'], origin: '@sparticuz/chromium' as const };
    } catch {
      return null;
    }
  })();
  return found;
}

type SparticuzChromium = { executablePath(): Promise<string>; args: string[] };

/** One line for a user without a browser: which figures are missing and how to get them. */
export function browserMissing(): string {
  if (process.env.VII_CHROMIUM && process.env.VII_CHROMIUM !== 'bundled') return `VII_CHROMIUM=${process.env.VII_CHROMIUM} does not run; plots are shown inline but not written as PNG/PDF`;
  return 'no headless Chromium (npm\'s optional @sparticuz/chromium is not installed, e.g. npm install --omit=optional or Node < 20.11, and no system chromium): plots (loss curves, chains, metric bars) are shown inline but not written as PNG/PDF; image grids are written. Fix: npm install @sparticuz/chromium, apt-get install chromium, or set VII_CHROMIUM';
}

/**
 * Open an HTML page in the headless browser and act on it (screenshot, PDF, DOM): one browser
 * per call, closed afterwards. `file` is loaded by file:// so relative resources resolve.
 */
export async function withPage<T>(file: string, viewport: { width: number; height: number }, act: (page: import('puppeteer-core').Page) => Promise<T>): Promise<T> {
  const browser = await findBrowser();
  if (!browser) throw new Error(browserMissing());
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const puppeteer = require('puppeteer-core') as typeof import('puppeteer-core');
  const b = await puppeteer.launch({ executablePath: browser.executablePath, args: browser.args, headless: true, defaultViewport: viewport });
  try {
    const page = await b.newPage();
    await page.goto(`file://${path.resolve(file)}`, { waitUntil: 'load', timeout: 120_000 });
    return await act(page);
  } finally {
    await b.close();
  }
}

/** Render an HTML file to PNG and/or PDF once `readySelector` (e.g. plotly's SVG) is drawn. */
export async function renderPage(file: string, out: { png?: string; pdf?: string; width?: number; height?: number; readySelector?: string }): Promise<void> {
  const viewport = { width: out.width ?? 720, height: out.height ?? 400 };
  await withPage(file, viewport, async (page) => {
    if (out.readySelector) await page.waitForSelector(out.readySelector, { timeout: 60_000 });
    if (out.png) fs.writeFileSync(out.png, await page.screenshot({ type: 'png', fullPage: true }));
    if (out.pdf) fs.writeFileSync(out.pdf, await page.pdf({ width: `${viewport.width}px`, height: `${viewport.height}px`, printBackground: true }));
  });
}
