import * as path from 'path';
import { TABLE1_PRESETS } from '../models/config';
import { writeFileAtomic } from '../io/atomicWrite';
import { tableMarkdown } from '../export/table';
import { selectBackend, describeBackend } from '../backend/selectBackend';
import {
  attributeSection,
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

/** The whole study: every section and Table 1, written to results/ (what `vii study` runs). */
export async function runStudy(cfg: SectionConfig, log: (m: string) => void = (m) => console.log(m)): Promise<string> {
  const t0 = performance.now();
  const backend = await selectBackend();
  const data = await loadSectionData(cfg);
  log(`[vii] study: ${data.images.length} ${data.kind} faces (${data.origin}) at ${cfg.size}×${cfg.size}, ${cfg.epochs} epochs, seed ${cfg.seed}`);
  const presets = Object.keys(TABLE1_PRESETS);
  const runs = new Map<string, Awaited<ReturnType<typeof trainPreset>>>();
  for (const p of presets) runs.set(p, await trainPreset(cfg, data, p));
  const exported = [
    ...(await latentVaeSection(cfg, runs.get('vae-complete')!)).exported,
    ...(await partialObservationSection(cfg, [runs.get('vae-complete')!, runs.get('vae-partial')!, runs.get('oneshot-unmasked-recon')!])).exported,
    ...(await attributeSection(cfg, presets.filter((p) => p.startsWith('attr')).map((p) => runs.get(p)!), SWEEP_ATTRIBUTES)).exported,
  ];
  runs.forEach((r) => disposeRun(r));
  const metrics = await metricsSection(cfg, data, presets.map((p) => ({ name: p, runDir: runDirFor(cfg, p) })));
  exported.push(...metrics.exported);
  const minutes = (performance.now() - t0) / 60000;
  const summary = [
    `# Study (${new Date().toISOString()})`,
    '',
    `Backend ${describeBackend(backend)}; ${data.images.length} ${data.kind === 'celeba' ? 'real CelebA' : 'SYNTHETIC (not CelebA)'} faces from ${data.root}; ${cfg.size}×${cfg.size}; ${cfg.epochs} epochs; seed ${cfg.seed}; ${minutes.toFixed(1)} min.`,
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
  const file = path.join('results', 'study.md');
  writeFileAtomic(file, summary);
  log(summary);
  return file;
}
