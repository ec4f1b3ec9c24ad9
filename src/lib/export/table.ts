import * as path from 'path';
import { writeFileAtomic } from '../io/atomicWrite';

/** A results table: named columns, rows of cells (numbers, mean ± std pairs, text or missing). */
/** `note`: a mark printed after a mean ± std (e.g. ‡, explained in the caption). */
export type Cell = number | { mean: number; std: number; note?: string } | string | null;
export interface ResultTable {
  caption: string;
  columns: string[];
  /** `rule`: a horizontal rule before this row (e.g. extra ablations below the paper's rows). */
  rows: { name: string; cells: Cell[]; rule?: boolean }[];
  /** Digits after the decimal point per column. */
  digits?: number[];
}

function fmt(c: Cell, digits: number, pm: string): string {
  if (c === null) return '—';
  if (typeof c === 'string') return c;
  if (typeof c === 'number') return c.toFixed(digits);
  return `${c.mean.toFixed(digits)} ${pm} ${c.std.toFixed(digits)}${c.note ? ` ${c.note}` : ''}`;
}

export function tableCsv(t: ResultTable): string {
  const header = ['model', ...t.columns.flatMap((c, i) => (t.rows.some((r) => typeof r.cells[i] === 'object' && r.cells[i] !== null) ? [`${c} mean`, `${c} std`] : [c]))];
  const esc = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const lines = t.rows.map((r) =>
    [r.name, ...t.columns.flatMap((_, i) => {
      const paired = t.rows.some((x) => typeof x.cells[i] === 'object' && x.cells[i] !== null);
      const c = r.cells[i];
      if (!paired) return [c === null ? '' : typeof c === 'number' ? String(c) : String(c)];
      if (c === null) return ['', ''];
      if (typeof c === 'object') return [String(c.mean), String(c.std)];
      return [String(c), ''];
    })].map(esc).join(','),
  );
  return [`# ${t.caption}`, header.map(esc).join(','), ...lines].join('\n') + '\n';
}

export function tableMarkdown(t: ResultTable): string {
  const d = (i: number) => t.digits?.[i] ?? 3;
  return [
    `| model | ${t.columns.join(' | ')} |`,
    `|---|${t.columns.map(() => '---').join('|')}|`,
    ...t.rows.flatMap((r) => [...(r.rule ? [`| ***extra ablations*** |${t.columns.map(() => ' ').join('|')}|`] : []), `| ${r.name} | ${r.cells.map((c, i) => fmt(c, d(i), '±')).join(' | ')} |`]),
    '',
    `*${t.caption}*`,
  ].join('\n') + '\n';
}

export function tableLatex(t: ResultTable): string {
  const d = (i: number) => t.digits?.[i] ?? 3;
  const tex = (s: string) => s.replace(/([_%&#$])/g, '\\$1').replace(/±/g, '$\\pm$').replace(/×/g, '$\\times$').replace(/—/g, '--').replace(/↑/g, '$\\uparrow$').replace(/↓/g, '$\\downarrow$').replace(/‡/g, '$\\ddagger$');
  return [
    '\\begin{table}[t]',
    '\\centering',
    `\\begin{tabular}{l${'c'.repeat(t.columns.length)}}`,
    '\\hline',
    `Model & ${t.columns.map(tex).join(' & ')} \\\\`,
    '\\hline',
    ...t.rows.flatMap((r) => [...(r.rule ? ['\\hline'] : []), `${tex(r.name)} & ${r.cells.map((c, i) => tex(fmt(c, d(i), '±'))).join(' & ')} \\\\`]),
    '\\hline',
    '\\end{tabular}',
    `\\caption{${tex(t.caption)}}`,
    '\\end{table}',
  ].join('\n') + '\n';
}

/** Write `<base>.csv`, `.md` and `.tex` atomically. */
export function writeTable(base: string, t: ResultTable): string[] {
  const files = [`${base}.csv`, `${base}.md`, `${base}.tex`];
  writeFileAtomic(files[0], tableCsv(t));
  writeFileAtomic(files[1], tableMarkdown(t));
  writeFileAtomic(files[2], tableLatex(t));
  return files.map((f) => path.resolve(f));
}
