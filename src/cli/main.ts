#!/usr/bin/env node
// Headless entry: `vii <command> [options]`. Every command calls the same src/lib code as the notebooks.
import { parseArgs, intFlag, numberFlag, stringFlag, asUsage, UsageError } from './args';
import { writeSyntheticFaces } from '../lib/data/syntheticFaces';
import * as fs from 'fs';
import sharp from 'sharp';
import { gridPng } from '../lib/plots/imageGrid';
import { writeFileAtomic } from '../lib/io/atomicWrite';
import * as path from 'path';
import { buildTable1 } from '../lib/experiments/table1';
import { tableMarkdown } from '../lib/export/table';
import { TABLE1_PRESETS, MOBILENET_LAYERS, PAPER_ROWS, rowName, rowPreset } from '../lib/models/config';
import { completeFolder } from '../lib/experiments/completeFolder';
import { parseAttributeSettings, checkAttributeStrength, DEFAULT_ATTRIBUTE_STRENGTH, DEFAULT_COMPLETION } from '../lib/completion';
import { DEFAULT_SPEC, loadSpec, runFolderName } from '../lib/spec/experimentSpec';
import { interruptible } from './interrupt';
import { judgeCommand, JUDGE_USAGE } from './judge';
import { buildReport, reportPath } from '../lib/report/buildReport';

/** The project's root (configs/ and models/ live there, wherever vii is run from). */
const STUDY_ROOT = path.resolve(__dirname, '..', '..');
import { JUDGES, judgeFor, type JudgeName } from '../lib/metrics/judges';
import { writeExplorer } from '../lib/explorer/explorerPage';
import { runExperiment } from '../lib/experiments/experiment';
import { attributeControl, meanControl } from '../lib/experiments/attributeControl';
import { loadTrainedModel } from '../lib/weights/loadModel';
import { disposeClassifier } from '../lib/metrics/attributeClassifier';
import { unlearnedPerceptualDistance } from '../lib/metrics/lpips';
import { loadMobileNetV2 } from '../lib/weights/featureNet';
import { SYNTHETIC_DIR, loadFaces } from '../lib/data/dataSource';
import { ProgressBar } from '../lib/progress';
import { selectBackend } from '../lib/backend/selectBackend';
import { MODEL_FLAGS, modelFromArgs, trainFromArgs } from './modelOptions';
import { trainModel } from '../lib/experiments/trainModel';
import { disposeRun } from '../lib/training/trainer';
import { epochMeans } from '../lib/training/history';
import { CELEBA_CROP_FRACTION } from '../lib/data/preprocess';
import { parseMaskSpec } from '../lib/masks';
import { fetchWeights, isKnownName, KNOWN_WEIGHTS, weightsDir } from '../lib/weights/weightsStore';
import { disposeRealMetrics, loadRealMetrics } from '../lib/metrics/realMetrics';
import { nsfwjsInceptionFrechetNet } from '../lib/metrics/frechetNet';
import { modelAttributeStrength, shippedModelDir } from '../lib/weights/shippedModel';
import { runData } from '../lib/experiments/fineTune';
import { convertTorchCheckpoint } from '../lib/weights/convertCheckpoint';

const USAGE = `usage: vii <command> [options]

commands:
  make-synthetic [--dir DIR] [--count N] [--seed S]   write procedurally drawn faces in the CelebA layout
  train --preset NAME [--run DIR] [--data DIR] [--limit N] [--size 32|64] [--epochs N] [--batch N]
        [--lr X] [--seed S] [--latent N] [--beta X] [--lambda LAYER=X,...] [--feature-net mobilenetv2|vgg16|none]
        [--feature-net-path DIR] [--mask centre:0.5|box:S|half:left|free:S|rect:T,L,H,W] [--steps-per-epoch N] [--kl-warmup STEPS] [--prior-mixing P] [--attribute-guidance λ] [--attribute-guide plain|balanced] [--guidance-on decoded|completion]
        [--upsampling transposed|resize|subpixel] [--adversarial λ_adv]
        [--init-from RUN]
        train (or resume, if DIR has a checkpoint) one model into DIR (default results/runs/PRESET-SIZE-λTAG-HASH,
        the folder a spec with the same settings uses); presets: the 8 Table 1 rows; --init-from starts
        from a trained run's weights (a fine-tune: fresh Adam, the parent recorded, no KL warm-up unless --kl-warmup)
  table1 --runs DIR | --models NAME=DIR,... [--data DIR] [--size 32|64] [--limit N] [--mask SPEC] [--steps N] [--seed S] [--out BASE] [--weights DIR] [--judge pretrained|pretrained-faces|pretrained-means|plain|balanced]
        evaluate every run folder under DIR (one per preset) + real images + OpenCV Telea on the
        test split; writes BASE.csv/.md/.tex/.json (default results/table1/table1-SIZE)
  complete --checkpoint DIR | --model NAME --images DIR --out DIR [--mask centre:0.5|box:S|half:left|free:S|rect:T,L,H,W]
        [--method gibbs|oneshot] [--steps N] [--latent mean|sample] [--encoder-input estimate|observed]
        [--samples K] [--uncertainty K] [--error-model FILE|none] [--sigma-net STEM|none] [--attrs FILE] [--set ATTR=1|-1,...] [--strength S] [--seed S] [--limit N] [--skip-bad] [--force] [--score]
        complete a folder of face images with a trained checkpoint; run.json records the mean
        masked L1 after each Gibbs step; --set forces attributes of an attribute model (--strength S: at 0.5 ± S/2; 1 = the
        training labels, above 1 pushes them further, like a guidance scale; default: the model card's, else 1); a rerun
        skips images already completed in DIR unless --force; --score: SSIM, PSNR, masked L1, PD, checkerboard,
        hole sharpness and the Fréchet substitute against the folder's own photographs
  sweep --checkpoint DIR | --model NAME [--attributes Smiling,Male,Eyeglasses,Blond_Hair,Young] [--samples N] [--seed S]
        [--out DIR] [--data DIR] [--mask SPEC] [--steps N] [--z prior|posterior] [--strength S] [--judge pretrained|pretrained-faces|pretrained-means|plain|balanced]
        the same z (z ~ N(0, I), or z = μ of a held-out face) decoded with each attribute off and on (DIR/ATTR/off|on/NNN.png), held-out faces
        completed with it forced off and on, and the judge's control rate per attribute beside its real-pair
        figure (recall × specificity on the real test faces). --judge pretrained (default): linear probes on a
        frozen ImageNet InceptionV3 (3 × 3-grid features) trained on real faces and composites of real faces,
        independent of every generator, shipped in models/judges/pretrained; pretrained-faces: the same probes on
        whole faces only (the judge before 2026-12-05); pretrained-means: its first version (global means);
        plain / balanced: the small CNN of the older results (balanced: positives and negatives weighted equally)
  grid --dirs DIR,DIR,... --out FILE.png [--limit N]
        one row per folder of same-named PNGs (e.g. gt, masked, completed of vii complete)
  explore --checkpoint DIR | --model NAME --out DIR [--images DIR] [--limit N] [--force]
        a self-contained page (index.html, the model's files, a few faces: held-out ones, or yours with --images)
        to draw a hole on a face, step or play the Gibbs chain, force attributes, draw K samples, save a PNG
${JUDGE_USAGE}
  report [--out FILE]
        rebuild results/REPORT.md (Table 1, the perceptual term, guidance, attribute control, the chain, speed) from the committed logs
  run SPEC.json [--shipped] [KEY=VALUE ...]
        carry out an experiment spec (configs/*.json): train → Gibbs chain → Table 1 → sweeps → side-by-side compare → summary,
        resumable, skipping work done for the same checkpoints; KEY=VALUE overrides a setting by its
        dotted name (train.epochs=2, data.limit=300, model.perceptual.weights.Conv1_relu=0.01, stages=["table1"]);
        --shipped: a shipped model with an entry's exact settings stands in for training it
  study [--full] [KEY=VALUE ...]
        vii run configs/study.json (the paper's 8 models at 32×32, 3 epochs of 3,000 faces; results/study/),
        or with --full configs/paper64.json (64×64, all faces, 10 epochs); KEY=VALUE as for run
  weights fetch vgg16|inception|lpips-vgg ... [--dir DIR] | weights convert FILE.pth [--out PATH] | weights status [--dir DIR]
        download torchvision's ImageNet checkpoints (resumable, SHA-256 checked) into DIR (default
        $VII_WEIGHTS_DIR or data/weights) and convert them to TF.js: table1 and the study then report
        LPIPS (VGG, v0.1) and the Inception score; --feature-net vgg16 uses the converted VGG16
  help, --help; COMMAND --help      this text, or one command's
`;

type Command = (argv: string[]) => Promise<void>;

const commands: Record<string, Command> = {
  async 'make-synthetic'(argv) {
    const args = parseArgs(argv, { dir: 'value', count: 'value', seed: 'value' });
    const dir = stringFlag(args, 'dir') ?? SYNTHETIC_DIR;
    const count = intFlag(args, 'count', 3000, 1);
    const bar = new ProgressBar('synthetic faces', count);
    await writeSyntheticFaces({ dir, count, seed: intFlag(args, 'seed', 0), onProgress: (done) => bar.update(done) });
    bar.stop();
    console.log(`wrote ${count} synthetic faces (not CelebA) to ${dir}`);
  },
  async train(argv) {
    const args = parseArgs(argv, { ...MODEL_FLAGS, run: 'value', data: 'value', limit: 'value' });
    const model = modelFromArgs(args);
    const train = trainFromArgs(args);
    await selectBackend();
    const limit = args.flags.has('limit') ? intFlag(args, 'limit', 0, 1) : undefined;
    const data = await loadFaces({ dir: stringFlag(args, 'data'), limit, preprocess: { size: model.imageSize, cropFraction: CELEBA_CROP_FRACTION }, seed: train.seed });
    console.log(`[vii] data: ${data.images.length} ${data.kind} images (${data.origin}), ${model.imageSize}×${model.imageSize}, train/val/test ${data.splits.train.length}/${data.splits.val.length}/${data.splits.test.length}`);
    // The one run-folder scheme: preset, size, λ_l and a hash of every setting that fixes the weights.
    const runDir = stringFlag(args, 'run') ?? path.join('results', 'runs', runFolderName(model, train, limit ?? null));
    const stop = interruptible();
    stop.phase(`training ${runDir}`, true);
    const run = await trainModel({ model, train, data, runDir, shouldStop: stop.requested });
    if (stop.signal) {
      const step = run.step;
      disposeRun(run);
      console.error(`[vii] interrupted at step ${step}; checkpoint written in ${runDir}; rerun the same command to resume`);
      process.exit(stop.code);
    }
    stop.dispose();
    for (const e of epochMeans(run.history)) console.log(`epoch ${e.epoch + 1}: loss ${e.total.toFixed(2)} recon ${e.recon.toFixed(2)} perceptual ${e.perceptual.toFixed(2)} KL ${e.kl.toFixed(2)}${e.guidance ? ` guidance ${e.guidance.toFixed(2)}` : ''}${e.adversarial || e.discriminator ? ` adversarial ${e.adversarial.toFixed(2)} D ${e.discriminator.toFixed(3)}` : ''}`);
    console.log(`checkpoints and grids in ${runDir}`);
    disposeRun(run);
  },
  async table1(argv) {
    const args = parseArgs(argv, { runs: 'value', models: 'value', data: 'value', size: 'value', limit: 'value', mask: 'value', steps: 'value', seed: 'value', out: 'value', 'data-limit': 'value', weights: 'value', judge: 'value' });
    const judge = stringFlag(args, 'judge') ?? DEFAULT_SPEC.evaluation.judge;
    if (!(JUDGES as readonly string[]).includes(judge)) throw new UsageError(`--judge ${judge}: expected ${JUDGES.join(', ')}`);
    const size = intFlag(args, 'size', 32, 1);
    const seed = intFlag(args, 'seed', 0);
    const models = tableModels(stringFlag(args, 'runs'), stringFlag(args, 'models'));
    await selectBackend();
    const dataLimit = args.flags.has('data-limit') ? intFlag(args, 'data-limit', 0, 1) : undefined;
    const data = await loadFaces({ dir: stringFlag(args, 'data'), limit: dataLimit, preprocess: { size, cropFraction: CELEBA_CROP_FRACTION }, seed });
    const out = stringFlag(args, 'out') ?? path.join('results', 'table1', `table1-${size}`);
    const real = await loadRealMetrics(stringFlag(args, 'weights') ?? weightsDir());
    const { files, table } = await buildTable1({
      data,
      models,
      mask: stringFlag(args, 'mask'),
      seed,
      limit: args.flags.has('limit') ? intFlag(args, 'limit', 0, 10) : undefined,
      steps: intFlag(args, 'steps', DEFAULT_COMPLETION.steps, 1),
      judge: judge as JudgeName,
      outBase: out,
      real,
    });
    disposeRealMetrics(real);
    console.log(tableMarkdown(table));
    console.log(`wrote ${files.join(', ')}`);
  },
  async complete(argv) {
    const args = parseArgs(argv, { checkpoint: 'value', model: 'value', images: 'value', out: 'value', mask: 'value', method: 'value', steps: 'value', latent: 'value', 'encoder-input': 'value', set: 'value', strength: 'value', samples: 'value', uncertainty: 'value', 'error-model': 'value', 'sigma-net': 'value', attrs: 'value', seed: 'value', limit: 'value', 'skip-bad': 'switch', score: 'switch', force: 'switch' });
    const need = (name: string): string => {
      const v = stringFlag(args, name);
      if (!v) throw new UsageError(`--${name} is required; see vii --help`);
      return v;
    };
    const method = stringFlag(args, 'method');
    if (method !== undefined && method !== 'gibbs' && method !== 'oneshot') throw new UsageError(`--method ${method}: expected gibbs or oneshot`);
    const latent = stringFlag(args, 'latent') ?? 'sample';
    if (latent !== 'mean' && latent !== 'sample') throw new UsageError(`--latent ${latent}: expected mean or sample`);
    const encoderInput = stringFlag(args, 'encoder-input') ?? 'estimate';
    if (encoderInput !== 'estimate' && encoderInput !== 'observed') throw new UsageError(`--encoder-input ${encoderInput}: expected estimate or observed`);
    const set = asUsage(() => parseAttributeSettings(stringFlag(args, 'set') ?? ''));
    // Absent: the model's own strength (its card's; 1 for a run folder), resolved by completeFolder.
    const strength = strengthFlag(args);
    if (strength !== undefined && !Object.keys(set).length) throw new UsageError(`--strength ${strength}: it scales the attributes --set forces; give --set too`);
    const maskText = stringFlag(args, 'mask');
    if (maskText) asUsage(() => parseMaskSpec(maskText));
    const checkpointDir = modelOrCheckpoint(args);
    const [images, out] = [need('images'), need('out')];
    await selectBackend();
    const score = args.flags.has('score') ? unlearnedPerceptualDistance(await loadMobileNetV2([...MOBILENET_LAYERS])) : null;
    const frechet = score ? await nsfwjsInceptionFrechetNet() : null;
    // Every image is written atomically as it is done: a signal only needs saying where it stopped.
    const stop = interruptible();
    stop.phase(`completing ${images} into ${out}`, false);
    const result = await completeFolder({
      checkpoint: checkpointDir,
      images,
      out,
      mask: stringFlag(args, 'mask'),
      method,
      steps: intFlag(args, 'steps', DEFAULT_COMPLETION.steps, 1),
      latent,
      encoderInput,
      set,
      samples: intFlag(args, 'samples', 1, 1),
      uncertainty: args.flags.has('uncertainty') ? intFlag(args, 'uncertainty', 16, 2) : undefined,
      errorModel: stringFlag(args, 'error-model') === 'none' ? null : stringFlag(args, 'error-model'),
      sigmaNet: stringFlag(args, 'sigma-net') === 'none' ? null : stringFlag(args, 'sigma-net'),
      attrs: stringFlag(args, 'attrs'),
      strength,
      seed: intFlag(args, 'seed', 0),
      limit: args.flags.has('limit') ? intFlag(args, 'limit', 0, 1) : undefined,
      skipBad: args.flags.has('skip-bad'),
      force: args.flags.has('force'),
      score,
      frechet,
    });
    stop.dispose();
    frechet?.dispose();
    console.log(`completed ${result.completed.length} images in ${result.seconds.toFixed(1)} s → ${out}${result.existing.length ? ` (${result.existing.length} already done: --force redoes them)` : ''}${result.skipped.length ? ` (${result.skipped.length} skipped)` : ''}`);
    if (result.scores) for (const [k, v] of Object.entries(result.scores)) console.log(`${k}: ${v.mean.toFixed(4)}${Number.isNaN(v.std) ? '' : ` ± ${v.std.toFixed(4)}`}`);
    if (result.chainMaskedL1.length > 1) console.log(`masked L1 after each Gibbs step: ${result.chainMaskedL1.map((v) => v.toFixed(4)).join(' ')}`);
    if (result.uncertainty) {
      const u = result.uncertainty;
      console.log(`uncertainty (K completions): maps in ${path.join(out, 'uncertainty')}; rank correlation std ↔ |error| per face ${u.spearmanPerFace?.toFixed(3) ?? '—'}; coverage ${u.coverage.map((c) => `±${c.k}σ ${c.observed.toFixed(3)} (Gaussian ${c.expected.toFixed(3)})`).join(', ')}; ECE ${u.ece.toFixed(3)}; σ scale ${u.scale.toFixed(2)}`);
      if (u.calibrated) console.log(`calibrated σ (error model; NAME-calibrated maps): rank correlation per face ${u.calibrated.spearmanPerFace?.toFixed(3) ?? '—'}; coverage ${u.calibrated.coverage.map((c) => `±${c.k}σ ${c.observed.toFixed(3)}`).join(', ')}; ECE ${u.calibrated.ece.toFixed(3)}`);
    }
  },
  async sweep(argv) {
    const args = parseArgs(argv, { checkpoint: 'value', model: 'value', attributes: 'value', samples: 'value', seed: 'value', out: 'value', data: 'value', mask: 'value', steps: 'value', z: 'value', judge: 'value', strength: 'value' });
    const zMode = stringFlag(args, 'z') ?? 'prior';
    if (zMode !== 'prior' && zMode !== 'posterior') throw new UsageError(`--z ${zMode}: expected prior or posterior`);
    const judge = stringFlag(args, 'judge') ?? DEFAULT_SPEC.evaluation.judge;
    if (!(JUDGES as readonly string[]).includes(judge)) throw new UsageError(`--judge ${judge}: expected ${JUDGES.join(', ')}`);
    if (!args.flags.has('checkpoint') && !args.flags.has('model')) throw new UsageError(`sweep needs --checkpoint DIR or --model NAME; see vii --help`);
    const checkpointDir = modelOrCheckpoint(args);
    const attributes = (stringFlag(args, 'attributes') ?? DEFAULT_SPEC.evaluation.sweepAttributes.join(',')).split(',').filter(Boolean);
    const samples = intFlag(args, 'samples', 100, 1);
    const seed = intFlag(args, 'seed', 0);
    const steps = intFlag(args, 'steps', DEFAULT_COMPLETION.steps, 1);
    const given = strengthFlag(args);
    await selectBackend();
    const { model, meta, checkpoint } = loadTrainedModel(checkpointDir);
    try {
      const out = stringFlag(args, 'out') ?? path.join('results', 'sweeps', `${meta.model.name}-${meta.model.imageSize}`);
      // The run's own split: the faces swept and completed were held out from its training.
      const data = await runData(meta, stringFlag(args, 'data'));
      const classifier = await judgeFor(data, judge as JudgeName, (l) => process.stderr.write(`\r${l}`));
      process.stderr.write('\n');
      // The model's own strength unless one is given (a shipped model's card; 1 for a run folder).
      const strength = given ?? modelAttributeStrength(checkpointDir);
      console.log(`[vii] ${meta.model.name} (${checkpoint}), ${samples} held-out samples; judge: ${classifier.description}${strength !== DEFAULT_ATTRIBUTE_STRENGTH ? `; forced attributes at strength ${strength}${given === undefined ? ' (the model card\'s: --strength 1 for the training labels)' : ''}` : ''}`);
      const results = await attributeControl({ model, data, classifier, attributes, samples, seed, out, mask: stringFlag(args, 'mask'), gibbsSteps: steps, z: zMode, strength });
      const pct = (r: { rate: number; offRate: number; onRate: number; direction: number } | null) => (r ? `${r.rate.toFixed(3)} (off ${r.offRate.toFixed(2)}, on ${r.onRate.toFixed(2)}; p(on) > p(off) in ${r.direction.toFixed(2)})` : 'n/a (decoder has no y)');
      const rel = (r: { rate: number } | null, real: number | null | undefined) => (r && real ? `, ${(r.rate / real).toFixed(2)}× real` : '');
      // The ceilings first: what real pairs, and real faces' fill of this hole, get from this judge.
      const hole = stringFlag(args, 'mask') ?? meta.model.mask;
      for (const r of results) console.log(`ceilings ${r.attribute}: real test faces (recall × specificity) ${r.realPair?.toFixed(3) ?? 'n/a'}; real fill of the ${hole} hole (held-out faces, the hole from real faces without / with it) ${r.realFill?.rate.toFixed(3) ?? 'n/a'}`);
      for (const r of results) console.log(`control rate ${r.attribute}: decoder ${pct(r.decoder)}${rel(r.decoder, r.realPair)}; completion ${pct(r.completion)}${rel(r.completion, r.realPair)}${r.realFill ? `, ${(r.completion.rate / r.realFill.rate).toFixed(2)}× real fill` : ''}`);
      for (const r of results) if (r.completionCheckerboard) console.log(`forced completions ${r.attribute}: checkerboard in the hole (1 = as the photographs) off ${r.completionCheckerboard.off.toFixed(2)}, on ${r.completionCheckerboard.on.toFixed(2)}`);
      const mean = meanControl(results);
      console.log(`mean control rate over ${attributes.length} attribute(s): decoder ${mean.decoder === null ? "n/a" : `${mean.decoder.toFixed(3)} (direction ${mean.decoderDirection!.toFixed(3)})`}, completion ${mean.completion.toFixed(3)} (direction ${mean.completionDirection.toFixed(3)}); random verdicts ≈ 0.25, no control 0`);
      console.log(`wrote ${out}`);
      disposeClassifier(classifier);
    } finally {
      model.dispose();
    }
  },
  async weights(argv) {
    const [action, ...rest] = argv;
    if (action === 'fetch') {
      const args = parseArgs(rest, { dir: 'value' }, { positional: true });
      if (args.positional.length === 0) throw new UsageError(`weights fetch: name what to fetch: ${Object.keys(KNOWN_WEIGHTS).join(', ')}`);
      const unknown = args.positional.filter((n) => !isKnownName(n));
      if (unknown.length) throw new UsageError(`weights fetch ${unknown.join(' ')}: expected ${Object.keys(KNOWN_WEIGHTS).join(', ')}`);
      const dir = stringFlag(args, 'dir') ?? weightsDir();
      await selectBackend();
      for (const name of args.positional.filter(isKnownName)) {
        const { download, conversion } = await fetchWeights(name, dir);
        if (download) console.log(`downloaded ${download.file} (${(download.bytes / 1e6).toFixed(1)} MB, sha256 ${download.sha256}${download.resumedFrom ? `, resumed at ${download.resumedFrom} bytes` : ''})`);
        console.log(`${KNOWN_WEIGHTS[name].what}: ${conversion.out}`);
      }
      return;
    }
    if (action === 'convert') {
      const args = parseArgs(rest, { out: 'value' }, { positional: true });
      const file = args.positional[0];
      if (!file || args.positional.length > 1) throw new UsageError('weights convert: give one FILE.pth');
      await selectBackend();
      const r = await convertTorchCheckpoint(file, weightsDir(), stringFlag(args, 'out'));
      console.log(`${r.kind}: ${r.tensors} tensors of ${file} → ${r.out}`);
      return;
    }
    if (action === 'status') {
      const args = parseArgs(rest, { dir: 'value' });
      const dir = stringFlag(args, 'dir') ?? weightsDir();
      for (const [name, k] of Object.entries(KNOWN_WEIGHTS)) {
        const converted = path.join(dir, k.converted);
        console.log(`${name.padEnd(10)} ${fs.existsSync(converted) ? `ready: ${converted}` : `missing (vii weights fetch ${name})`}`);
      }
      return;
    }
    throw new UsageError(`weights ${action ?? ''}: expected fetch, convert or status`);
  },
  async grid(argv) {
    const args = parseArgs(argv, { dirs: 'value', out: 'value', limit: 'value' });
    const dirs = (stringFlag(args, 'dirs') ?? '').split(',').filter(Boolean);
    const out = stringFlag(args, 'out');
    if (dirs.length === 0 || !out) throw new UsageError('grid needs --dirs DIR,DIR,... and --out FILE.png');
    for (const d of dirs) if (!fs.existsSync(d)) throw new UsageError(`--dirs: ${d} not found`);
    const names = fs.readdirSync(dirs[0]).filter((f) => /^[^_]+\.png$/.test(f)).sort().slice(0, intFlag(args, 'limit', 8, 1));
    const rows: Uint8Array[] = [];
    let size = 0;
    for (const d of dirs) {
      for (const n of names) {
        const { data, info } = await sharp(path.join(d, n)).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
        size = info.width;
        rows.push(new Uint8Array(data));
      }
    }
    const flat = new Uint8Array(rows.length * size * size * 3);
    rows.forEach((r, i) => flat.set(r, i * size * size * 3));
    writeFileAtomic(out, await gridPng({ data: flat, shape: [rows.length, size, size, 3] }, { columns: names.length, scale: size < 64 ? 2 : 1 }));
    console.log(`wrote ${out}: rows ${dirs.join(', ')}; columns ${names.join(', ')}`);
  },
  async explore(argv) {
    const args = parseArgs(argv, { checkpoint: 'value', model: 'value', images: 'value', limit: 'value', out: 'value', force: 'switch' });
    const out = stringFlag(args, 'out');
    if (!out) throw new UsageError('explore needs --out DIR, e.g. vii explore --model cropped-no-attr --out page');
    const files = await writeExplorer({ checkpoint: modelOrCheckpoint(args), images: stringFlag(args, 'images'), limit: intFlag(args, 'limit', 8, 1), out, force: args.flags.has('force') });
    console.log(`[vii] wrote ${files.join(', ')}\n[vii] open ${path.join(out, 'index.html')} in a browser (works from file://, or serve the folder: npx http-server ${out})`);
  },
  async report(argv) {
    const args = parseArgs(argv, { out: 'value' });
    const out = stringFlag(args, 'out') ?? reportPath(STUDY_ROOT);
    writeFileAtomic(out, buildReport(STUDY_ROOT));
    console.log(`[vii] wrote ${out} from the committed logs`);
  },
  judge(argv) {
    return judgeCommand(argv, modelOrCheckpoint);
  },
  async run(argv) {
    const args = parseArgs(argv, { shipped: 'switch' }, { positional: true });
    const [file, ...overrides] = args.positional;
    if (!file) throw new UsageError('run needs a spec file, e.g. vii run configs/paper64.json');
    const spec = asUsage(() => loadSpec(file, overrides));
    await selectBackend();
    const stop = interruptible();
    const out = await runExperiment(spec, undefined, { shouldStop: stop.requested, phase: stop.phase, useShipped: args.flags.has('shipped') });
    if (stop.signal) process.exit(stop.code);
    stop.dispose();
    if (out.summary) console.log(`[vii] wrote ${out.summary}`);
  },
  async study(argv) {
    // The study is a committed spec: `vii run configs/study.json` (quick, 32×32), or paper64's full scale.
    const args = parseArgs(argv, { full: 'switch' }, { positional: true });
    await commands.run([path.join(STUDY_ROOT, 'configs', args.flags.has('full') ? 'paper64.json' : 'study.json'), ...args.positional]);
  },
};

/** Rows of a table: every run folder under `runsDir` (preset order), and/or explicit NAME=DIR pairs. */
function tableModels(runsDir: string | undefined, pairs: string | undefined): { name: string; runDir: string; extra?: boolean }[] {
  const models: { name: string; runDir: string; extra?: boolean }[] = [];
  if (runsDir) {
    if (!fs.existsSync(runsDir)) throw new UsageError(`--runs ${runsDir}: folder not found`);
    const order = Object.keys(TABLE1_PRESETS);
    fs.readdirSync(runsDir)
      .filter((d) => fs.existsSync(path.join(runsDir, d, 'latest.json')))
      .sort((a, b) => (order.indexOf(rowPreset(a)) + 1 || 99) - (order.indexOf(rowPreset(b)) + 1 || 99))
      .forEach((d) => models.push({ name: rowName(d), runDir: path.join(runsDir, d), extra: !(rowPreset(d) in PAPER_ROWS) }));
  }
  for (const pair of (pairs ?? '').split(',').filter(Boolean)) {
    const at = pair.lastIndexOf('=');
    if (at <= 0) throw new UsageError(`--models "${pair}": expected NAME=CHECKPOINT_DIR`);
    models.push({ name: pair.slice(0, at), runDir: pair.slice(at + 1) });
  }
  if (models.length === 0) throw new UsageError('table1 needs --runs DIR (a folder of run folders) and/or --models NAME=DIR,...');
  return models;
}

/** The usage lines of one command (its entry in USAGE). */
export function commandUsage(name: string): string {
  const lines = USAGE.split('\n');
  const start = lines.findIndex((l) => l.startsWith(`  ${name} `) || l === `  ${name}`);
  if (start < 0) return USAGE;
  let end = start + 1;
  while (end < lines.length && lines[end].startsWith('        ')) end++;
  return `usage: vii ${lines.slice(start, end).map((l) => l.trim()).join('\n  ')}\n`;
}

export async function main(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(USAGE);
    return;
  }
  const command = commands[name];
  if (!command) throw new UsageError(`unknown command "${name}"; commands: ${Object.keys(commands).join(', ')} (vii --help)`);
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(commandUsage(name));
    return;
  }
  await command(rest);
}

/** --strength S, checked; undefined when not given (the model's own then: modelAttributeStrength). */
function strengthFlag(args: ReturnType<typeof parseArgs>): number | undefined {
  return args.flags.has('strength') ? asUsage(() => checkAttributeStrength(numberFlag(args, 'strength', DEFAULT_ATTRIBUTE_STRENGTH), '--strength')) : undefined;
}

/** `--checkpoint DIR` (a run or checkpoint folder) or `--model NAME` (a model shipped in models/), one of the two. */
function modelOrCheckpoint(args: ReturnType<typeof parseArgs>): string {
  const [checkpoint, model] = [stringFlag(args, 'checkpoint'), stringFlag(args, 'model')];
  if (checkpoint && model) throw new UsageError('give --checkpoint DIR or --model NAME, not both');
  if (model) return asUsage(() => shippedModelDir(model));
  if (!checkpoint) throw new UsageError('--checkpoint DIR or --model NAME is required; see vii --help');
  return checkpoint;
}

/** Exit code of a failure: 2 for a bad command line, 1 for anything else. */
export function exitCode(e: unknown): number {
  return e instanceof UsageError ? 2 : 1;
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((e: Error) => {
    console.error(`vii: ${e.message}`);
    process.exit(exitCode(e));
  });
}
