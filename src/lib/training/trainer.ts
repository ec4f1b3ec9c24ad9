import { FusedAdamOptimizer } from '../backend/selectBackend';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { readAndDispose } from '../tensorReads';
import { attributeGuidanceLoss, type AttributeGuide } from './attributeGuidance';
import { attributeClassifierFor } from '../metrics/attributeClassifier';
import { activePerceptualLayers, ARCHITECTURE_KEYS, klWeightAt, validateModelConfig, type ModelConfig, type TrainConfig } from '../models/config';
import { buildVae, type Vae } from '../models/vae';
import { loadFeatureNet, type FeatureNet } from '../weights/featureNet';
import { negativeElbo } from '../losses';
import { fillHole, observe, reconstructOnce } from '../completion';
import { makeMaskBatch, parseMaskSpec, type MaskSpec } from '../masks';
import { createRng, subSeed } from '../rng';
import { batchesPerEpoch, epochBatches, type FaceDataset } from '../data/faceDataset';
import { attributeIndices } from '../data/attributes';
import { hasCheckpoint, loadCheckpoint, removeOrphans, saveCheckpoint, setModelWeights, type CheckpointMeta, type NamedTensor } from '../models/checkpoint';
import { historyCsv, parseHistoryCsv, type HistoryRow } from './history';
import { selectBackend, describeBackend } from '../backend/selectBackend';
import { acquireRunLock } from './runLock';
import { buildDiscriminator, discriminatorGradients, discriminatorState, generatorLoss, patchWeights, restoreDiscriminator, withoutDiscriminatorState, type Discriminator } from './adversarial';

export class TrainingDivergedError extends Error {}

/** Everything one training run needs; a run folder holds its checkpoints and history. */
export interface TrainingRun {
  model: Vae;
  featureNet: FeatureNet | null;
  lambdas: number[];
  /** The frozen guide classifier of the attribute-guidance term (null when the term is off). */
  guide: AttributeGuide | null;
  /** The patch discriminator of the adversarial term (null when λ_adv is 0), with its own Adam. */
  discriminator: Discriminator | null;
  optimizer: FusedAdamOptimizer;
  data: FaceDataset;
  attributeColumns: number[];
  mask: MaskSpec;
  modelConfig: ModelConfig;
  train: TrainConfig;
  runDir: string | null;
  step: number;
  epoch: number;
  batchInEpoch: number;
  history: HistoryRow[];
  resumedFrom: string | null;
  /** Releases the run folder's lock (disposeRun calls it). */
  releaseLock: () => void;
}

export function featureNetDescription(run: { featureNet: FeatureNet | null }): string {
  return run.featureNet ? run.featureNet.description : 'none (no perceptual term)';
}

/** Build a run, or resume it from the newest checkpoint in `runDir` when there is one. */
export async function createTrainingRun(options: { model: ModelConfig; train: TrainConfig; data: FaceDataset; runDir?: string | null; resume?: boolean }): Promise<TrainingRun> {
  const modelConfig = { ...options.model };
  validateModelConfig(modelConfig);
  if (modelConfig.imageSize !== options.data.preprocess.size) {
    throw new Error(`model "${modelConfig.name}" is for ${modelConfig.imageSize}×${modelConfig.imageSize} images but the data set is preprocessed to ${options.data.preprocess.size}×${options.data.preprocess.size}`);
  }
  const runDir = options.runDir ?? null;
  const releaseLock = runDir ? acquireRunLock(runDir) : () => {};
  try {
    return await buildRun(options, modelConfig, runDir, releaseLock);
  } catch (e) {
    releaseLock();
    throw e;
  }
}

async function buildRun(options: { train: TrainConfig; data: FaceDataset; resume?: boolean }, modelConfig: ModelConfig, runDir: string | null, releaseLock: () => void): Promise<TrainingRun> {
  const layers = activePerceptualLayers(modelConfig);
  const featureNet = layers.length ? await loadFeatureNet({ net: modelConfig.perceptual.net as 'mobilenetv2' | 'vgg16', path: modelConfig.perceptual.path }, layers) : null;
  const guide = modelConfig.attributeGuidance > 0 ? await attributeClassifierFor(options.data, { role: 'guide', seed: 0, balanced: modelConfig.attributeGuide === 'balanced' }) : null;
  const run: TrainingRun = {
    model: buildVae(modelConfig, options.train.seed),
    featureNet,
    guide: guide ? { classifier: guide, columns: attributeIndices(guide.attributeNames, modelConfig.attributes) } : null,
    lambdas: layers.map((l) => modelConfig.perceptual.weights[l]),
    discriminator: modelConfig.adversarial ? buildDiscriminator(options.train.learningRate, options.train.seed) : null,
    optimizer: new FusedAdamOptimizer(options.train.learningRate),
    data: options.data,
    attributeColumns: attributeIndices(options.data.attributeNames, modelConfig.attributes),
    mask: parseMaskSpec(modelConfig.mask),
    modelConfig,
    train: options.train,
    runDir,
    step: 0,
    epoch: 0,
    batchInEpoch: 0,
    history: [],
    resumedFrom: null,
    releaseLock,
  };
  if (runDir) removeOrphans(runDir);
  // latest.json lost: the newest intact ckpt-* is recovered (loadCheckpoint warns), never a silent restart.
  if (runDir && options.resume !== false && hasCheckpoint(runDir)) await restore(run, runDir);
  else if (options.train.initFrom) initialiseFrom(run, options.train.initFrom.checkpoint);
  return run;
}

/** The checkpoint a fine-tune starts from (a run folder's newest, or a checkpoint folder): TrainConfig.initFrom, and its config. */
export function resolveInitFrom(dir: string): { initFrom: NonNullable<TrainConfig['initFrom']>; meta: CheckpointMeta } {
  const ckpt = loadCheckpoint(dir, { optimizer: false });
  tf.dispose(Object.values(ckpt.weights));
  return { initFrom: { checkpoint: path.resolve(ckpt.dir), step: ckpt.meta.step }, meta: ckpt.meta };
}

/** A fresh run whose weights start as a trained checkpoint's (the model must have its architecture). */
function initialiseFrom(run: TrainingRun, dir: string): void {
  const ckpt = loadCheckpoint(dir, { optimizer: false });
  try {
    for (const key of ARCHITECTURE_KEYS) {
      const [then, now] = [JSON.stringify(ckpt.meta.model[key]), JSON.stringify(run.modelConfig[key])];
      if (then !== now) throw new Error(`--init-from ${ckpt.dir}: its model has ${key} ${then}, this run's ${now}; a fine-tune keeps the architecture (only λ, β, guidance, masks may change)`);
    }
    setModelWeights(run.model, ckpt.weights, ckpt.dir);
  } finally {
    tf.dispose(Object.values(ckpt.weights));
  }
}

function modelWeights(model: Vae): NamedTensor[] {
  return [
    ...model.encoder.getWeights().map((tensor, i) => ({ name: `encoder/${i}`, tensor })),
    ...model.decoder.getWeights().map((tensor, i) => ({ name: `decoder/${i}`, tensor })),
  ];
}

async function restore(run: TrainingRun, runDir: string): Promise<void> {
  const ckpt = loadCheckpoint(runDir);
  const { meta } = ckpt;
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  if (!same(meta.model, run.modelConfig)) throw new Error(`${ckpt.dir}: it was trained with a different model config; use another run folder or delete it`);
  const { epochs: _e, ...trainNow } = run.train;
  const { epochs: _f, ...trainThen } = meta.train;
  if (!same(trainNow, trainThen)) {
    const changed = Object.keys({ ...trainNow, ...trainThen }).filter((k) => !same((trainNow as Record<string, unknown>)[k], (trainThen as Record<string, unknown>)[k]));
    throw new Error(`${ckpt.dir}: it was trained with other training settings (${changed.join(', ')}); only epochs may change on resume. To go on from it with new settings, start a new run from it: vii train … --init-from ${runDir} --run NEW_FOLDER`);
  }
  // The number of faces and the seed fix the train/val/test split: another count would train on held-out faces.
  if (meta.data.images !== undefined && meta.data.images !== run.data.images.length) {
    throw new Error(`${ckpt.dir}: it was trained on ${meta.data.images} faces, this data set has ${run.data.images.length} (--limit changes the train/test split); resume with the same --limit, or use a new run folder`);
  }
  setModelWeights(run.model, ckpt.weights, ckpt.dir);
  const discriminator = run.discriminator ? await restoreDiscriminator(run.discriminator, ckpt.weights, ckpt.optimizer, ckpt.dir) : true;
  tf.dispose(Object.values(ckpt.weights));
  if (!discriminator) throw new Error(`${ckpt.dir}: the run trains with an adversarial term but its checkpoint holds no discriminator (damaged?); use a new run folder`);
  await run.optimizer.setExactState(withoutDiscriminatorState(ckpt.optimizer!));
  run.step = meta.step;
  run.epoch = meta.epoch;
  run.batchInEpoch = meta.batchInEpoch;
  const historyFile = path.join(ckpt.dir, 'history.csv');
  run.history = fs.existsSync(historyFile) ? parseHistoryCsv(fs.readFileSync(historyFile, 'utf8')) : [];
  run.resumedFrom = ckpt.dir;
}

export async function checkpoint(run: TrainingRun): Promise<string | null> {
  if (!run.runDir) return null;
  const backend = await selectBackend({ quiet: true });
  const meta: CheckpointMeta = {
    version: 1,
    model: run.modelConfig,
    train: run.train,
    preprocess: run.data.preprocess,
    data: { kind: run.data.kind, root: run.data.root, images: run.data.images.length },
    featureNet: featureNetDescription(run),
    backend: describeBackend(backend),
    step: run.step,
    epoch: run.epoch,
    batchInEpoch: run.batchInEpoch,
    savedAt: new Date().toISOString(),
  };
  const disc = run.discriminator ? await discriminatorState(run.discriminator) : { weights: [], optimizer: [] };
  const optimizerState = [...(await run.optimizer.getExactState()), ...disc.optimizer];
  try {
    return await saveCheckpoint(run.runDir, meta, [...modelWeights(run.model), ...disc.weights], optimizerState, { 'history.csv': historyCsv(run.history) });
  } finally {
    // The iteration count and the β^t copies are fresh tensors; the moments are the live variables.
    tf.dispose(optimizerState.filter((s) => /^(discriminator:)?(iter$|adam\/)/.test(s.name)).map((s) => s.tensor));
  }
}

/**
 * One Adam step on a batch. Models with trainingGibbsSteps K (the one-shot model) first run
 * k ∈ {0..K} Gibbs iterations without gradients (k drawn per step), so they learn to complete
 * from any iterate.
 */
export async function trainStep(run: TrainingRun, x: tf.Tensor4D, y: tf.Tensor2D, maskOffset: number): Promise<HistoryRow> {
  const t0 = performance.now();
  const c = run.modelConfig;
  const seed = subSeed(run.train.seed, `step-${run.step}`);
  const yIn = c.attributes.length ? y : null;
  const mask = c.trainInput === 'masked' ? makeMaskBatch(run.mask, x.shape[0], c.imageSize, maskOffset) : null;
  const obs = mask ? observe(x, mask) : null;
  let current = obs ? obs.x : x;
  if (obs && c.trainingGibbsSteps > 0) {
    const k = createRng(seed).int(0, c.trainingGibbsSteps + 1);
    for (let t = 0; t < k; t++) {
      const next = tf.tidy(() => fillHole(obs, reconstructOnce(run.model, current, obs, yIn, 'sample', subSeed(seed, `gibbs-${t}`)).xHat));
      if (current !== obs.x) current.dispose();
      current = next;
    }
  }
  const observation = obs ?? { x, mask: tf.ones([x.shape[0], x.shape[1], x.shape[2], 1]) as tf.Tensor4D };
  let terms: tf.Tensor1D | null = null;
  // Images decoded from the prior this step (priorMixing), drawn from the step's seed.
  const fromPrior = c.priorMixing > 0 ? priorMixingMask(x.shape[0], c.priorMixing, seed) : null;
  // The adversarial term judges the completion (the fill in the hole; a complete-image model's whole decode).
  const disc = run.discriminator;
  const patch = disc ? patchWeights(observation.mask, c.trainInput === 'complete') : null;
  let completed: tf.Tensor4D | null = null;
  const { value, grads } = tf.variableGrads(() => {
    const { xHat, mu, logVar } = reconstructOnce(run.model, current, observation, yIn, 'sample', seed, 'estimate', fromPrior);
    const klWeights = fromPrior ? (tf.sub(1, tf.squeeze(fromPrior, [1])) as tf.Tensor1D) : null;
    const loss = negativeElbo({ xHat, x, mu, logVar, beta: klWeightAt(c.beta, run.step, run.train.klWarmupSteps), net: run.featureNet, lambdas: run.lambdas, klWeights });
    const guidance = run.guide && yIn ? attributeGuidanceLoss(run.model, run.guide, yIn, { mu, logVar }, c.decoderSeesObserved ? observation : null, seed, obs) : tf.scalar(0);
    let adversarial: tf.Scalar = tf.scalar(0);
    if (disc) {
      completed = tf.keep(c.trainInput === 'complete' ? xHat : fillHole(observation, xHat));
      adversarial = tf.mul(generatorLoss(disc, completed, observation.mask, patch!), c.adversarial! * x.shape[1] * x.shape[2] * x.shape[3]) as tf.Scalar;
    }
    const total = tf.addN([loss.total, guidance, adversarial]) as tf.Scalar;
    terms = tf.keep(tf.stack([total, loss.recon, loss.perceptual, loss.kl, guidance, adversarial]) as tf.Tensor1D);
    return total;
  }, run.model.trainableWeights());
  // D's step on this step's completions, detached (made on the VAE's tape, used here as data); applied with the VAE's below.
  const dStep = disc ? discriminatorGradients(disc, x, completed!, observation.mask, patch!) : null;
  // The loss terms are read every step (asynchronously: webgpu has no synchronous read) because
  // a NaN must stop the step before Adam touches the weights or its moments.
  tf.dispose([value, fromPrior ?? [], patch ?? [], completed ?? [], current === x ? [] : current, obs ? obs.x : [], mask ?? [], obs ? [] : observation.mask]);
  const values = Array.from((await readAndDispose([tf.tidy(() => tf.concat([terms!, dStep ? tf.reshape(dStep.loss, [1]) : tf.zeros([1])]))]))[0]);
  tf.dispose([terms!, dStep?.loss ?? []]);
  if (!values.every(Number.isFinite)) {
    tf.dispose([...Object.values(grads), ...Object.values(dStep?.grads ?? {})]);
    const names = ['total', 'recon', 'perceptual', 'kl', 'guidance', 'adversarial', 'discriminator'];
    const bad = names.filter((_, i) => !Number.isFinite(values[i] ?? NaN) && i > 0);
    throw new TrainingDivergedError(
      `training "${c.name}" diverged at step ${run.step} (epoch ${run.epoch}): the ${bad.length ? bad.join(' and ') : 'total'} term${bad.length > 1 ? 's are' : ' is'} ${values[names.indexOf(bad[0] ?? 'total')]}; loss terms ${names.map((n, i) => `${n}=${values[i]}`).join(' ')}. ` +
        `Nothing was applied; the last good checkpoint is kept${run.runDir ? ` in ${run.runDir}` : ''}. ` +
        (run.runDir ? `To go on with a lower learning rate or smaller λ, start a new run from it: vii train … --init-from ${run.runDir} --lr LOWER --run NEW_FOLDER (a rerun into the same folder keeps its settings).` : 'Try a lower learning rate or smaller λ.'),
    );
  }
  run.optimizer.applyGradients(grads as Record<string, tf.Variable>);
  tf.dispose(Object.values(grads));
  if (dStep) {
    disc!.optimizer.applyGradients(dStep.grads as Record<string, tf.Variable>);
    tf.dispose(Object.values(dStep.grads));
  }
  const row: HistoryRow = { step: run.step, epoch: run.epoch, total: values[0], recon: values[1], perceptual: values[2], kl: values[3], guidance: values[4], adversarial: values[5], discriminator: values[6], ms: performance.now() - t0 };
  run.history.push(row);
  run.step++;
  return row;
}

/** [B, 1]: 1 for the images decoded from z ~ N(0, I) this step (each with probability p, seeded). */
function priorMixingMask(batch: number, p: number, seed: number): tf.Tensor2D {
  const rng = createRng(subSeed(seed, 'prior-mixing'));
  return tf.tensor2d(Array.from({ length: batch }, () => (rng.next() < p ? 1 : 0)), [batch, 1]);
}

export interface TrainProgress {
  row: HistoryRow;
  stepInEpoch: number;
  stepsInEpoch: number;
}

/**
 * Train to `train.epochs`, continuing where the run stands (after a resume, from the next batch
 * of the interrupted epoch, in the same order). Checkpoints every `checkpointEvery` steps and at
 * each epoch end.
 */
export async function trainEpochs(run: TrainingRun, hooks: { onStep?: (p: TrainProgress) => void; onEpochEnd?: (epoch: number) => Promise<void> | void; shouldStop?: () => boolean } = {}): Promise<void> {
  const { batchSize, seed } = run.train;
  const perEpoch = Math.min(batchesPerEpoch(run.data, 'train', batchSize), run.train.stepsPerEpoch ?? Infinity);
  while (run.epoch < run.train.epochs) {
    const batches = epochBatches(run.data, 'train', batchSize, seed, run.epoch, { startBatch: run.batchInEpoch, attributeColumns: run.attributeColumns });
    for (const batch of batches) {
      if (run.batchInEpoch >= perEpoch) {
        tf.dispose([batch.x, batch.y]);
        break;
      }
      let row: HistoryRow;
      try {
        row = await trainStep(run, batch.x, batch.y, run.step * batchSize);
      } catch (e) {
        // Nothing of the failed step was applied: the state in memory is the last good one; make
        // it the newest checkpoint too, so a rerun (e.g. with a lower learning rate) starts there.
        if (e instanceof TrainingDivergedError && run.runDir) await checkpoint(run);
        throw e;
      } finally {
        tf.dispose([batch.x, batch.y]);
      }
      run.batchInEpoch++;
      hooks.onStep?.({ row, stepInEpoch: run.batchInEpoch, stepsInEpoch: perEpoch });
      // A step's reads resolve as microtasks on cpu/wasm, so without this a Ctrl-C or SIGTERM (an
      // event-loop task) waited for the next checkpoint's file write: up to 50 steps at 64×64.
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (run.batchInEpoch < perEpoch && run.step % run.train.checkpointEvery === 0) await checkpoint(run);
      if (hooks.shouldStop?.()) {
        await checkpoint(run);
        return;
      }
    }
    run.epoch++;
    run.batchInEpoch = 0;
    await checkpoint(run);
    await hooks.onEpochEnd?.(run.epoch);
  }
}

export function disposeRun(run: TrainingRun): void {
  run.releaseLock();
  run.model.dispose();
  run.optimizer.dispose();
  run.featureNet?.dispose();
  run.guide?.classifier.model.dispose();
  run.discriminator?.dispose();
}
