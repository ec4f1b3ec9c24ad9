// Ship the uncertainty stage's σ networks (metrics/sigmaNet.ts) with the models they were trained for:
// for each model perceptual64 measures that is a shipped model (vii run --shipped), copy
// results/logs/perceptual64/sigma-net-RUN.{bin,json} and its card into models/NAME/sigma-net.*,
// where `vii complete --uncertainty K` and notebook 02 find them.
//   npx tsx scripts/ship_sigma_nets.ts
import * as fs from 'fs';
import * as path from 'path';
import { Experiment } from '../src/lib/experiments/experiment';
import { SIGMA_NET_FILE } from '../src/lib/metrics/sigmaNet';
import { writeFileAtomic } from '../src/lib/io/atomicWrite';

const exp = Experiment.open('configs/perceptual64.json', [], { useShipped: true, log: () => {} });
const measured = exp.spec.evaluation.uncertaintyModels;
const runs = exp.runs();
for (const [i, r] of runs.entries()) {
  if (measured && !measured.includes(i)) continue;
  const stem = path.join(exp.paths.logs, `sigma-net-${r.name}`);
  if (r.source !== 'shipped' || !fs.existsSync(`${stem}-card.json`)) {
    console.log(`${r.row}: ${r.source !== 'shipped' ? 'not a shipped model' : `no σ network at ${stem}`}; skipped`);
    continue;
  }
  for (const ext of ['.bin', '.json', '-card.json']) writeFileAtomic(path.join(r.runDir, `${SIGMA_NET_FILE}${ext}`), fs.readFileSync(`${stem}${ext}`));
  console.log(`${r.row}: ${stem} → ${path.join(r.runDir, SIGMA_NET_FILE)}.*`);
}
