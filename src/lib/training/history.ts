/** One training step's loss terms (per image, batch mean) and wall time. */
export interface HistoryRow {
  step: number;
  epoch: number;
  total: number;
  recon: number;
  perceptual: number;
  kl: number;
  /** The attribute-guidance term (0 where it is off). */
  guidance: number;
  /** The adversarial term λ_adv·D_px·L_G and D's hinge loss (0 where the term is off). */
  adversarial: number;
  discriminator: number;
  ms: number;
}

const COLUMNS: (keyof HistoryRow)[] = ['step', 'epoch', 'total', 'recon', 'perceptual', 'kl', 'guidance', 'adversarial', 'discriminator', 'ms'];
/** Histories written before the adversarial term had no such columns, and before the guidance term none for it. */
const COLUMNS_V2 = COLUMNS.filter((c) => c !== 'adversarial' && c !== 'discriminator');
const COLUMNS_V1 = COLUMNS_V2.filter((c) => c !== 'guidance');

export function historyCsv(rows: readonly HistoryRow[]): string {
  return [COLUMNS.join(','), ...rows.map((r) => COLUMNS.map((c) => (c === 'step' || c === 'epoch' ? String(r[c]) : r[c].toPrecision(7))).join(','))].join('\n') + '\n';
}

export function parseHistoryCsv(text: string): HistoryRow[] {
  const [header, ...lines] = text.trim().split('\n');
  const columns = [COLUMNS, COLUMNS_V2, COLUMNS_V1].find((cols) => header === cols.join(','));
  if (!columns) throw new Error(`history.csv: unexpected header "${header}", expected "${COLUMNS.join(',')}"`);
  return lines.map((line, i) => {
    const v = line.split(',').map(Number);
    if (v.length !== columns.length || v.some((x) => Number.isNaN(x))) throw new Error(`history.csv:${i + 2}: malformed row "${line}"`);
    return { guidance: 0, adversarial: 0, discriminator: 0, ...Object.fromEntries(columns.map((c, j) => [c, v[j]])) } as unknown as HistoryRow;
  });
}

/** The history as a danfojs DataFrame (notebook tables, plots); danfojs loads on first use. */
export function historyFrame(rows: readonly HistoryRow[]) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const dfd = require('danfojs-node') as typeof import('danfojs-node');
  return new dfd.DataFrame(rows.map((r) => ({ ...r })));
}

/** Mean of each loss term per epoch. */
export function epochMeans(rows: readonly HistoryRow[]): { epoch: number; total: number; recon: number; perceptual: number; kl: number; guidance: number; adversarial: number; discriminator: number }[] {
  const by = new Map<number, HistoryRow[]>();
  for (const r of rows) by.set(r.epoch, [...(by.get(r.epoch) ?? []), r]);
  return [...by.entries()].map(([epoch, rs]) => {
    const mean = (k: 'total' | 'recon' | 'perceptual' | 'kl' | 'guidance' | 'adversarial' | 'discriminator') => rs.reduce((s, r) => s + r[k], 0) / rs.length;
    return { epoch, total: mean('total'), recon: mean('recon'), perceptual: mean('perceptual'), kl: mean('kl'), guidance: mean('guidance'), adversarial: mean('adversarial'), discriminator: mean('discriminator') };
  });
}
