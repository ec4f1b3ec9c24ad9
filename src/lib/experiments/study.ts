import { browserMissing, findBrowser } from '../plots/browser';
import * as path from 'path';
import { PAPER_ROWS, rowName } from '../models/config';
import { writeFileAtomic } from '../io/atomicWrite';
import { tableMarkdown } from '../export/table';
import { selectBackend, describeBackend } from '../backend/selectBackend';
import { meanControl } from './attributeControl';
import {
  STUDY_DIR,
  attributeSection,
  collapseChecks,
  gibbsChainSection,
  latentVaeSection,
  loadSectionData,
  metricsSection,
  partialObservationSection,
  runDirFor,
  trainPreset,
  disposeRun,
  type SectionConfig,
} from './sections';

export const SWEEP_ATTRIBUTES = ['Smiling', 'Male', 'Eyeglasses', 'Blond_Hair', 'Young'];

const fixed = (v: number | null | undefined, d = 3) => (v === null || v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(d));

/** The whole study: every section and Table 1 for the paper's 8 rows, written to results/ (what `vii study` runs). */
export async function runStudy(cfg: SectionConfig, log: (m: string) => void = (m) => console.log(m)): Promise<string> {
  const t0 = performance.now();
  const phases = new PhaseClock(log);
  const backend = await selectBackend();
  const data = await loadSectionData(cfg);
  log(`[vii] study: ${data.images.length} ${data.kind} faces (${data.origin}) at ${cfg.size}×${cfg.size}, ${cfg.epochs} epochs, seed ${cfg.seed}`);
  const browser = await findBrowser();
  log(browser ? `[vii] plots rendered by headless Chromium (${browser.origin})` : `[vii] note: ${browserMissing()}`);
  phases.mark('data and browser');
  const presets = Object.keys(PAPER_ROWS);
  const runs = new Map<string, Awaited<ReturnType<typeof trainPreset>>>();
  for (const p of presets) {
    runs.set(p, await trainPreset(cfg, data, p));
    phases.mark(`training ${p}`);
  }
  const trainMinutes = (performance.now() - t0) / 60000;
  const masking = ['vae-complete', 'vae-partial', 'oneshot-unmasked-recon'].map((p) => runs.get(p)!);
  const chain = await gibbsChainSection(cfg, masking);
  phases.mark('Gibbs chain curves');
  const attributes = await attributeSection(cfg, presets.filter((p) => PAPER_ROWS[p] && runs.get(p)!.modelConfig.attributes.length).map((p) => runs.get(p)!), SWEEP_ATTRIBUTES);
  phases.mark('attribute judge, sweeps and control');
  const checks = new Map<string, Awaited<ReturnType<typeof collapseChecks>>>();
  for (const p of presets) checks.set(p, await collapseChecks(runs.get(p)!, 16, cfg.seed));
  const exported = [
    ...(await latentVaeSection(cfg, runs.get('vae-complete')!)).exported,
    ...(await partialObservationSection(cfg, masking)).exported,
    ...chain.exported,
    ...attributes.exported,
  ];
  phases.mark('collapse checks and figures of sections 1–2');
  runs.forEach((r) => disposeRun(r));
  const metrics = await metricsSection(cfg, data, presets.map((p) => ({ name: p, runDir: runDirFor(cfg, p) })));
  exported.push(...metrics.exported);
  phases.mark('Table 1 and its figures');
  const minutes = (performance.now() - t0) / 60000;
  const baseline = metrics.rows.find((r) => r.name === 'OpenCV Telea') ?? metrics.rows.find((r) => r.name === 'Mean fill')!;
  const chainOf = (p: string) => chain.series.find((s) => s.name.startsWith(`${p} (z = μ`))?.values;
  const checkRows = presets.map((p) => {
    const row = metrics.rows.find((r) => r.name === rowName(p))!;
    const ch = checks.get(p)!;
    const ctl = attributes.control[p] ? meanControl(attributes.control[p]) : null;
    const c = chainOf(p);
    return `| ${rowName(p)} | ${fixed(ch.klPerImage, 1)} | ${fixed(ch.priorSpread)} | ${fixed(row.maskedL1.mean, 4)} | ${row.maskedL1.mean < baseline.maskedL1.mean ? 'yes' : '**no**'} | ${c ? chainCell(c) : '—'} | ${fixed(ctl?.decoder)} | ${fixed(ctl?.completion)} |`;
  });
  const summary = [
    `# Study (${new Date().toISOString()})`,
    '',
    `Backend ${describeBackend(backend)}; ${data.images.length} ${data.kind === 'celeba' ? 'real CelebA' : 'SYNTHETIC (not CelebA)'} faces from ${data.root}; ${cfg.size}×${cfg.size}; ${cfg.epochs} epochs; seed ${cfg.seed}; training ${trainMinutes.toFixed(1)} min, total ${minutes.toFixed(1)} min.`,
    '',
    `Time by phase: ${phases.summary()}.`,
    '',
    '## Checks (no collapse)',
    '',
    `KL: nats per image, last epoch's mean. Prior spread: mean |difference| between pairs of decoded z ~ N(0, I) (0 = every sample the same face). Masked L1 on ${metrics.rows[0].images} held-out faces, and whether it beats ${baseline.name} (${fixed(baseline.maskedL1.mean, 4)}). Chain: masked L1 after Gibbs step 1 → 10 (z = μ, 64 validation faces), and its best step when that is neither. Control: mean pair rate over ${SWEEP_ATTRIBUTES.join(', ')} (those the model has) judged by the attribute classifier, decoder sweep and forced completion; chance ≈ 0.25.`,
    '',
    `| model | KL / image | prior spread | masked L1 | beats ${baseline.name} | chain t=1 → 10 (best) | control (decoder) | control (completion) |`,
    '|---|---|---|---|---|---|---|---|',
    ...checkRows,
    '',
    '## Table 1',
    '',
    tableMarkdown(metrics.table),
    '## Figures',
    '',
    ...exported.flatMap((e) => e.files.filter((f) => !f.endsWith('.json')).map((f) => `- ${path.relative('results', f)}`)),
    '',
    `Config: \`${JSON.stringify(cfg)}\``,
    '',
  ].join('\n');
  const file = path.join(STUDY_DIR, 'study.md');
  writeFileAtomic(file, summary);
  log(summary);
  return file;
}

/** Wall time of the study's phases, each logged as it ends (where the minutes go). */
export class PhaseClock {
  private last = performance.now();
  readonly phases: { name: string; seconds: number }[] = [];
  constructor(private readonly log?: (m: string) => void) {}
  mark(name: string): void {
    const now = performance.now();
    this.phases.push({ name, seconds: (now - this.last) / 1000 });
    this.last = now;
    this.log?.(`[vii] ${name}: ${this.phases[this.phases.length - 1].seconds.toFixed(1)} s`);
  }
  summary(): string {
    return this.phases.map((p) => `${p.name} ${p.seconds.toFixed(0)} s`).join(', ');
  }
}

/** "0.2831 → 0.1335", or with the best step when the chain is best in between: "0.2831 → 0.1335 (best 0.1160 at t = 4)". */
export function chainCell(values: number[]): string {
  const best = values.reduce((b, v, i) => (v < values[b] ? i : b), 0);
  const ends = `${values[0].toFixed(4)} → ${values[values.length - 1].toFixed(4)}`;
  return best === 0 || best === values.length - 1 ? ends : `${ends} (best ${values[best].toFixed(4)} at t = ${best + 1})`;
}
