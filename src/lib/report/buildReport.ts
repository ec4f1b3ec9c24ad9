import * as fs from 'fs';
import * as path from 'path';
import { tableMarkdown, type Cell, type ResultTable } from '../export/table';
import { chainCell } from '../experiments/experimentStages';

/**
 * results/REPORT.md, rebuilt from the committed machine-readable outputs (Table 1 JSON, the
 * control and chain JSON, the λ sweep, the model cards, the bench log): every table names the
 * file its numbers come from, and the prose between them is templated from the same numbers, so
 * a number cannot drift from its log. `vii report` writes it; a test rebuilds it and compares.
 */

type Stat = { mean: number; std: number } | null | undefined;
type Row = { name: string; maskedL1?: Stat; ssim?: Stat; psnr?: Stat; perceptual?: Stat; sharpness?: Stat; score?: Stat; diversity?: Stat; frechet?: Record<string, number> | null; generationFrechet?: Record<string, number> | null; trainedThroughPd?: boolean; attributeAccuracy?: number };
type Control = { attribute: string; decoder: { rate: number } | null; completion: { rate: number }; realPair?: number; realFill?: { rate: number } | null };

/** Reads inputs under one root; a missing input is an error naming it (the report never guesses). */
class Sources {
  constructor(readonly root: string) {}
  json<T>(file: string): T {
    const at = path.join(this.root, file);
    if (!fs.existsSync(at)) throw new Error(`report: ${file} is missing (the report is built from the committed logs)`);
    return JSON.parse(fs.readFileSync(at, 'utf8')) as T;
  }
  text(file: string): string {
    const at = path.join(this.root, file);
    if (!fs.existsSync(at)) throw new Error(`report: ${file} is missing (the report is built from the committed logs)`);
    return fs.readFileSync(at, 'utf8');
  }
  list(dir: string, pattern: RegExp): string[] {
    const at = path.join(this.root, dir);
    return fs.existsSync(at) ? fs.readdirSync(at).filter((f) => pattern.test(f)).sort().map((f) => `${dir}/${f}`) : [];
  }
}

const link = (file: string) => `[\`${file}\`](../${file})`;
const stat = (s: Stat): Cell => (s ? { mean: s.mean, std: s.std } : null);
const fd = (m: Record<string, number> | null | undefined): Cell => (m ? (Object.values(m)[0] ?? null) : null);
const f = (v: number, d = 3) => v.toFixed(d);

/** A table without tableMarkdown's caption line (the report's headings say what it is), then its sources. */
function table(t: Omit<ResultTable, 'caption'>, source: string | string[]): string {
  const md = tableMarkdown({ ...t, caption: '' }).replace(/\n\n\*\*\n$/, '');
  return `${md}\n\nSource: ${[source].flat().map(link).join(', ')}.`;
}

function shippedModels(s: Sources): string[] {
  const cards = s.list('models', /^[a-z0-9-]+$/).filter((d) => fs.existsSync(path.join(s.root, d, 'card.json')));
  const rows = cards.map((d) => {
    const c = s.json<{ row: string; metrics: Record<string, number> }>(`${d}/card.json`);
    return { name: `\`${path.basename(d)}\` — ${c.row}`, cells: [c.metrics['masked L1'], c.metrics['hole sharpness'], c.metrics.SSIM, c.metrics['PSNR (dB)']] as Cell[] };
  });
  return ['## The shipped models', '', 'Scores of the float16 weights on the first 200 held-out test faces (centre hole, 10 Gibbs steps, sampled z, seed 0), from each card.', '', table({ columns: ['masked L1 ↓', 'hole sharpness', 'SSIM', 'PSNR (dB)'], digits: [4, 3, 3, 2], rows }, cards.map((d) => `${d}/card.json`)), ''];
}

function table1(s: Sources, file: string, title: string, withSharpness: boolean): { lines: string[]; rows: Row[] } {
  const t = s.json<{ caption: string; rows: Row[] }>(file);
  const columns = ['masked L1 ↓', 'SSIM ↑', 'PSNR ↑', 'PD ↓', 'AS ↑', ...(withSharpness ? ['hole sharpness', 'FD completions ↓', 'FD prior ↓'] : [])];
  const rows = t.rows.map((r) => ({
    name: `${r.name}${r.trainedThroughPd ? ' ‡' : ''}`,
    cells: [stat(r.maskedL1), stat(r.ssim), stat(r.psnr), stat(r.perceptual), stat(r.score), ...(withSharpness ? [stat(r.sharpness), fd(r.frechet), fd(r.generationFrechet)] : [])],
  }));
  const digits = [4, 3, 2, 3, 3, ...(withSharpness ? [3, 2, 2] : [])];
  const note = t.rows.some((r) => r.trainedThroughPd) ? ' ‡: trained through the PD network (its PD is not independent).' : '';
  return { lines: [`## ${title}`, '', `*${t.caption}*${note}`, '', table({ columns, digits, rows }, file), ''], rows: t.rows };
}

function perceptual(s: Sources): string[] {
  const { lines, rows } = table1(s, 'results/table1/table1-64-perceptual.json', 'The perceptual term at 64×64', true);
  const [off, on] = [rows[0], rows[1]];
  const out = [...lines];
  if (off?.sharpness && on?.sharpness && off.maskedL1 && on.maskedL1) {
    out.push(`With the perceptual term the Cropped model's fills keep ${f(on.sharpness.mean)} of a photograph's hole detail (|Laplacian|) against ${f(off.sharpness.mean)} without it, at masked L1 ${f(on.maskedL1.mean, 4)} against ${f(off.maskedL1.mean, 4)}.`, '');
  }
  const sweepFile = 'results/logs/perceptual64/lambda-sweep.json';
  const sweep = s.json<{ rows: Row[]; images: number; stepsRun: Record<string, number> }>(sweepFile);
  const chosen = s.json<{ name: string; rule: string }>('results/logs/perceptual64/chosen-lambda.json');
  out.push(
    '### Picking λ_l: the sweep',
    '',
    table({ columns: ['masked L1 ↓', 'hole sharpness', 'FD completions ↓', 'PD ↓'], digits: [4, 3, 2, 3], rows: sweep.rows.map((r) => ({ name: r.name, cells: [stat(r.maskedL1), stat(r.sharpness), fd(r.frechet), stat(r.perceptual)] })) }, [sweepFile, 'results/logs/perceptual64/chosen-lambda.json']),
    '',
    `Fine-tunes of ${Object.values(sweep.stepsRun)[0]} steps each, ${sweep.images} held-out faces; picked **${chosen.name}** (${chosen.rule}).`,
    '',
  );
  return out;
}

function control(s: Sources): string[] {
  const out = ['## Attribute control (the pretrained judge)', '', 'Rate: the share of held-out (off, on) pairs the judge calls off and on; beside it the ceilings — real pairs (the judge on real faces) and, for forced completions, the real fill of the hole.', ''];
  for (const [dir, hole] of [['results/logs/judge/centre-hole', 'centre hole'], ['results/logs/judge/mouth-hole', 'hole over the mouth']] as const) {
    const files = s.list(dir, /^control-.*-pretrained\.json$/);
    const rows = files.flatMap((file) => {
      const c = s.json<{ model: string; control: Control[] }>(file);
      return c.control.map((a) => ({ name: `${c.model}: ${a.attribute}`, cells: [a.realPair ?? null, a.decoder?.rate ?? null, a.realFill?.rate ?? null, a.completion.rate] as Cell[] }));
    });
    if (rows.length) out.push(`### Forced completions of the ${hole}`, '', table({ columns: ['real pairs', 'decoder sweep', 'real fill', 'forced completion'], digits: [3, 3, 3, 3], rows }, files), '');
  }
  return out;
}

function chain(s: Sources): string[] {
  const files = s.list('results/logs/paper64', /^chain-[a-z0-9-]+-mean\.run\.json$/).filter((f) => !/no-training-chain/.test(f));
  const rows = files.map((file) => {
    const mean = s.json<{ model: string; chainMaskedL1: number[] }>(file);
    const sampleFile = file.replace('-mean.run.json', '-sample.run.json');
    const sample = fs.existsSync(path.join(s.root, sampleFile)) ? s.json<{ chainMaskedL1: number[] }>(sampleFile).chainMaskedL1 : null;
    return { name: path.basename(file).replace(/^chain-|-mean\.run\.json$/g, ''), cells: [chainCell(mean.chainMaskedL1), sample ? chainCell(sample) : null] as Cell[] };
  });
  return ['## The Gibbs chain (paper64)', '', 'Masked L1 of x′_t after step 1 → step 10 on held-out faces (and the best step where the chain is best in between).', '', table({ columns: ['z = μ', 'z ~ q'], rows }, files), ''];
}

function performance(s: Sources): string[] {
  const file = 'results/logs/bench.log';
  const lines = s.text(file).split('\n');
  const header = lines.findIndex((l) => l.startsWith('| backend | size | batch | perceptual | img/s |'));
  if (header < 0) throw new Error(`report: ${file} has no results table`);
  // The log's first results table (the newest run; older runs follow it in other layouts).
  const end = lines.findIndex((l, i) => i > header + 1 && !l.startsWith('|'));
  const body = lines.slice(header + 2, end < 0 ? undefined : end);
  const rows = body.map((l) => l.split('|').slice(1, -1).map((c) => c.trim()));
  const out = ['## Training speed against PyTorch (same machine, same run)', '', table({ columns: ['size', 'batch', 'perceptual', 'img/s', 'PyTorch img/s', 'ratio'], rows: rows.map((r) => ({ name: r[0], cells: r.slice(1, 7) })) }, file), ''];
  const ratios = rows.map((r) => Number(r[6])).filter(Number.isFinite);
  if (ratios.length) out.push(`This workspace trains at ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}× the PyTorch peer's speed on the same 2 CPU cores.`, '');
  return out;
}

export function buildReport(root: string): string {
  const s = new Sources(root);
  const paper = table1(s, 'results/table1/table1-64.json', 'Table 1 at 64×64 (the paper\'s rows, 10 epochs each)', false);
  const guided = table1(s, 'results/table1/table1-64-guided.json', 'Attribute guidance (beyond the paper)', false);
  return [
    '# Results report',
    '',
    '*Built by `npx vii report` from the committed logs; do not edit by hand: `test/report.test.ts` rebuilds it and compares. Every table names its source file; the judge\'s own accuracy tables are in [`results/logs/judge/judge-accuracy-64.md`](logs/judge/judge-accuracy-64.md) (written by `vii judge accuracy`).*',
    '',
    ...shippedModels(s),
    ...paper.lines,
    ...perceptual(s),
    ...guided.lines,
    ...control(s),
    ...chain(s),
    ...performance(s),
  ].join('\n');
}

/** Where `vii report` writes it. */
export function reportPath(root: string): string {
  return path.join(root, 'results', 'REPORT.md');
}
