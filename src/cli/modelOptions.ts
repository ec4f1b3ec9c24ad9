import { DEFAULT_TRAIN, DEFAULT_PERCEPTUAL, modelConfig, type ModelConfig, type TrainConfig } from '../lib/models/config';
import { resolveInitFrom } from '../lib/training/trainer';
import { asUsage, intFlag, numberFlag, parseDecimal, stringFlag, UsageError, type ParsedArgs } from './args';

/** Flags shared by the commands that build a model config and a training config. */
export const MODEL_FLAGS = {
  preset: 'value',
  size: 'value',
  latent: 'value',
  beta: 'value',
  lambda: 'value',
  'feature-net': 'value',
  'feature-net-path': 'value',
  mask: 'value',
  epochs: 'value',
  batch: 'value',
  lr: 'value',
  seed: 'value',
  'steps-per-epoch': 'value',
  'kl-warmup': 'value',
  'prior-mixing': 'value',
  'attribute-guidance': 'value',
  'attribute-guide': 'value',
  'guidance-on': 'value',
  upsampling: 'value',
  adversarial: 'value',
  'init-from': 'value',
} as const;

/** `--lambda Conv1_relu=0.01,block_3_expand_relu=0` → λ per layer (unlisted layers keep defaults). */
export function parseLambdas(text: string, base: Record<string, number>): Record<string, number> {
  const out = { ...base };
  for (const part of text.split(',').filter(Boolean)) {
    const [layer, value] = part.split('=');
    const v = value === undefined ? NaN : parseDecimal(value);
    if (!layer || value === undefined || !Number.isFinite(v)) throw new UsageError(`--lambda "${part}": expected LAYER=NUMBER`);
    out[layer] = v;
  }
  return out;
}

export function modelFromArgs(args: ParsedArgs): ModelConfig {
  const preset = stringFlag(args, 'preset') ?? 'vae-complete';
  const net = (stringFlag(args, 'feature-net') ?? DEFAULT_PERCEPTUAL.net) as ModelConfig['perceptual']['net'];
  if (!['mobilenetv2', 'vgg16', 'none'].includes(net)) throw new UsageError(`--feature-net ${net}: expected mobilenetv2, vgg16 or none`);
  const baseWeights = net === 'vgg16' ? { block1_conv2: 1e-3, block2_conv2: 1e-3, block3_conv3: 1e-3, block4_conv3: 0 } : net === 'none' ? {} : DEFAULT_PERCEPTUAL.weights;
  const lambdaText = stringFlag(args, 'lambda');
  const overrides: Partial<ModelConfig> = {
    imageSize: intFlag(args, 'size', 64, 1) as 32 | 64,
    latentDim: intFlag(args, 'latent', 128, 1),
    beta: numberFlag(args, 'beta', 1),
    perceptual: { net, path: stringFlag(args, 'feature-net-path'), weights: lambdaText ? parseLambdas(lambdaText, baseWeights) : baseWeights },
  };
  const mask = stringFlag(args, 'mask');
  if (mask) overrides.mask = mask;
  if (args.flags.has('prior-mixing')) overrides.priorMixing = numberFlag(args, 'prior-mixing', 0);
  if (args.flags.has('attribute-guidance')) overrides.attributeGuidance = numberFlag(args, 'attribute-guidance', 0);
  const guide = stringFlag(args, 'attribute-guide');
  if (guide !== undefined && guide !== 'plain') overrides.attributeGuide = guide as 'balanced'; // validated by modelConfig
  const on = stringFlag(args, 'guidance-on');
  if (on !== undefined && on !== 'decoded') overrides.guidanceOn = on as 'completion'; // validated by modelConfig
  const upsampling = stringFlag(args, 'upsampling');
  if (upsampling !== undefined) overrides.upsampling = upsampling as ModelConfig['upsampling']; // validated by modelConfig
  if (args.flags.has('adversarial')) overrides.adversarial = numberFlag(args, 'adversarial', 0);
  return asUsage(() => modelConfig(preset, overrides));
}

/**
 * `--init-from RUN` fine-tunes a trained checkpoint: the parent is recorded in the config, and the
 * KL warm-up is not repeated (the parent's decoder already uses z) unless --kl-warmup says so.
 */
export function trainFromArgs(args: ParsedArgs, defaults: Partial<TrainConfig> = {}): TrainConfig {
  const initDir = stringFlag(args, 'init-from');
  const initFrom = initDir === undefined ? undefined : asUsage(() => resolveInitFrom(initDir).initFrom);
  const base = { ...DEFAULT_TRAIN, ...(initFrom ? { klWarmupSteps: 0 } : {}), ...defaults };
  const lr = numberFlag(args, 'lr', base.learningRate);
  if (!(lr > 0)) throw new UsageError(`--lr ${lr} must be > 0`);
  const stepsRaw = stringFlag(args, 'steps-per-epoch');
  return {
    ...base,
    epochs: intFlag(args, 'epochs', base.epochs, 1),
    batchSize: intFlag(args, 'batch', base.batchSize, 1),
    learningRate: lr,
    seed: intFlag(args, 'seed', base.seed, 0),
    stepsPerEpoch: stepsRaw === undefined ? base.stepsPerEpoch : intFlag(args, 'steps-per-epoch', 1, 1),
    klWarmupSteps: intFlag(args, 'kl-warmup', base.klWarmupSteps, 0),
    ...(initFrom ? { initFrom } : {}),
  };
}
