import { CELEBA_ATTRIBUTES } from '../data/attributes';
import { formatMaskSpec, parseMaskSpec, validateMaskForSize } from '../masks';
import { UPSAMPLINGS, type Upsampling } from './upsampling';

/** Where the 40 (or a chosen subset of) attributes y enter the model. */
export type AttributePlacement = 'none' | 'encoder' | 'decoder' | 'both';

export interface FeatureNetConfig {
  /** `mobilenetv2` (offline default, nsfwjs@4.4.0), `vgg16` (needs `path`), or `none`. */
  net: 'mobilenetv2' | 'vgg16' | 'none';
  /** A local TF.js layers model (model.json + shards) for `vgg16`. */
  path?: string;
  /** λ_l per layer name; 0 disables a layer. */
  weights: Record<string, number>;
}

/**
 * One configuration describes every model of the paper; variants differ only here.
 * - trainInput `complete`: q(z|x); `masked`: q(z|x') with the mask as an extra channel.
 * - decoderSeesObserved: the "unmasked recon" one-shot model, p(x|z, x').
 * - trainingGibbsSteps: k ≤ K gradient-free Gibbs iterations before each training step, so the
 *   encoder learns from its own filled estimates x'_k (the one-shot model: completion in one pass;
 *   any masked model may use it, the paper's "Cropped" rows do not).
 * - attributes + placement: y in q(z|x', y), p(x|z, y) or both.
 */
export interface ModelConfig {
  name: string;
  imageSize: 32 | 64;
  latentDim: number;
  /** Encoder widths, one 4×4/2 conv each; the decoder mirrors them. */
  channels: number[];
  trainInput: 'complete' | 'masked';
  decoderSeesObserved: boolean;
  trainingGibbsSteps: number;
  attributes: string[];
  placement: AttributePlacement;
  /** KL weight β. */
  beta: number;
  /**
   * Fraction of each training batch decoded from z ~ N(0, I) instead of z ~ q (their KL term is
   * 0: for them q is the prior, and E_p(z) log p(x | z, y) is still a lower bound on log p(x | y)).
   * Those images can only be reconstructed through y, so the decoder must render the attributes.
   */
  priorMixing: number;
  /**
   * Weight of the attribute-guidance term (0 = off): images decoded with target attributes y'
   * (from z ~ N(0, I) or the face's posterior z) are pushed to show y' by a frozen guide
   * classifier, λ_a Σ_a BCE(guide(x), y'_a) (training/attributeGuidance.ts).
   * The guide is a separate network from the judge that measures control (other widths and seed).
   */
  attributeGuidance: number;
  /**
   * The guide's training loss: absent, plain BCE on the attributes' frequencies (the runs in
   * results/ before it existed); `balanced`, each attribute's positives and negatives weighted
   * equally (the plain guide, like the plain judge, hardly ever says "glasses").
   */
  attributeGuide?: 'balanced';
  /**
   * What the guide judges for the images from the face's own posterior (half of each batch): absent,
   * the whole decoded image (the runs in results/ before it existed); `completion`, the forced
   * completion as `vii complete --set` makes it — z from q(z | x', m, y') with the target y' in
   * the encoder too, the hole from the decoder, the observed pixels kept — so the only way to
   * satisfy the guide is a hole that shows y'. Masked models only.
   */
  guidanceOn?: 'completion';
  perceptual: FeatureNetConfig;
  /**
   * How the decoder doubles its resolution (models/upsampling.ts): absent = `transposed`, the
   * paper's 4×4/2 transposed convolution (every Table 1 preset); `resize` (nearest ×2 + 3×3 conv)
   * or `subpixel` (2×2 conv + depth-to-space), at the same parameter budget within 10 %.
   */
  upsampling?: Upsampling;
  /**
   * Weight λ_adv of the adversarial term (0 or absent = off): a patch discriminator on the
   * completed image (training/adversarial.ts), scaled like a perceptual layer (λ_adv = 1 weighs
   * it like the pixel term).
   */
  adversarial?: number;
  /** Mask used for training masked models, in the CLI syntax (e.g. centre:0.5). */
  mask: string;
}

export interface TrainConfig {
  epochs: number;
  batchSize: number;
  learningRate: number;
  seed: number;
  /** Limit on training steps per epoch (small runs); null = the whole split. */
  stepsPerEpoch: number | null;
  /** Save a checkpoint every N steps (and at each epoch end). */
  checkpointEvery: number;
  /**
   * KL warm-up: the KL weight rises linearly from 0 to β over the first N steps (Bowman et al.
   * 2016; Sønderby et al. 2016), so the decoder learns to use z before the KL can switch it off.
   */
  klWarmupSteps: number;
  /**
   * Fine-tuning: the run starts from this trained checkpoint's weights (a fresh Adam, step 0) instead
   * of a random initialisation; `step` is the parent's. Absent: trained from scratch.
   */
  initFrom?: { checkpoint: string; step: number };
}

export const MOBILENET_LAYERS = ['Conv1_relu', 'block_3_expand_relu', 'block_6_expand_relu', 'block_13_expand_relu'] as const;
export const VGG16_LAYERS = ['block1_conv2', 'block2_conv2', 'block3_conv3', 'block4_conv3'] as const;

export const DEFAULT_PERCEPTUAL: FeatureNetConfig = {
  net: 'mobilenetv2',
  weights: { Conv1_relu: 0.01, block_3_expand_relu: 0.01, block_6_expand_relu: 0.01, block_13_expand_relu: 0 },
};

export const DEFAULT_MODEL: ModelConfig = {
  name: 'vae-complete',
  imageSize: 64,
  latentDim: 128,
  channels: [32, 64, 128, 256],
  trainInput: 'complete',
  decoderSeesObserved: false,
  trainingGibbsSteps: 0,
  attributes: [],
  placement: 'none',
  beta: 1,
  priorMixing: 0,
  attributeGuidance: 0,
  perceptual: DEFAULT_PERCEPTUAL,
  mask: 'centre:0.5',
};

export const DEFAULT_TRAIN: TrainConfig = {
  epochs: 3,
  batchSize: 64,
  learningRate: 1e-3,
  seed: 0,
  stepsPerEpoch: null,
  checkpointEvery: 50,
  klWarmupSteps: 300,
};

/** The KL weight at a step: β·min(1, (step + 1) / warm-up). */
export function klWeightAt(beta: number, step: number, warmupSteps: number): number {
  return warmupSteps > 0 ? beta * Math.min(1, (step + 1) / warmupSteps) : beta;
}

const ALL = [...CELEBA_ATTRIBUTES];

/**
 * Training-time Gibbs iterations of the masked models (cropped and one-shot). The paper's test-time chain
 * feeds the encoder its own filled estimate x'_t; an encoder trained only on zero-filled holes
 * has never seen one, and at 64×64 its chain drifts away (masked L1 0.085 after step 1, 0.200
 * after step 10, saturated fills: results/logs/paper64/chain-*-no-training-chain*). With k ≤ 1
 * iteration of its own (no gradient, k drawn per step) before each step, the encoder learns q(z | x'_t) for the
 * inputs the chain gives it. The hole never contains ground truth.
 */
export const TRAINING_GIBBS_STEPS = 1;

/** priorMixing of the models whose decoder takes y (measured: without it y barely changes the face). */
export const ATTRIBUTE_PRIOR_MIXING = 0.25;

/**
 * Model presets. The first eight are the model rows of the paper's Table 1 in its order; the
 * rest are extra placement ablations with all 40 attributes on cropped images. "Complete + all
 * attr, unmasked recon" is the one-shot model trained with all 40 attributes: like every
 * one-shot model it trains on masked inputs (it must learn to complete), and its encoder sees the
 * completed estimate of the training-time Gibbs iterations.
 */
export const TABLE1_PRESETS: Record<string, Partial<ModelConfig>> = {
  'vae-complete': { trainInput: 'complete' },
  'vae-partial': { trainInput: 'masked', trainingGibbsSteps: TRAINING_GIBBS_STEPS },
  'oneshot-unmasked-recon': { trainInput: 'masked', decoderSeesObserved: true, trainingGibbsSteps: TRAINING_GIBBS_STEPS },
  'complete-attr40': { trainInput: 'complete', attributes: ALL, placement: 'both', priorMixing: ATTRIBUTE_PRIOR_MIXING },
  'oneshot-attr40': { trainInput: 'masked', decoderSeesObserved: true, trainingGibbsSteps: TRAINING_GIBBS_STEPS, attributes: ALL, placement: 'both', priorMixing: ATTRIBUTE_PRIOR_MIXING },
  'attr1-encoder': { trainInput: 'masked', attributes: ['Smiling'], placement: 'encoder', trainingGibbsSteps: TRAINING_GIBBS_STEPS },
  'attr1-decoder': { trainInput: 'masked', attributes: ['Smiling'], placement: 'decoder', priorMixing: ATTRIBUTE_PRIOR_MIXING, trainingGibbsSteps: TRAINING_GIBBS_STEPS },
  'attr1-both': { trainInput: 'masked', attributes: ['Smiling'], placement: 'both', priorMixing: ATTRIBUTE_PRIOR_MIXING, trainingGibbsSteps: TRAINING_GIBBS_STEPS },
  'attr40-encoder': { trainInput: 'masked', attributes: ALL, placement: 'encoder', trainingGibbsSteps: TRAINING_GIBBS_STEPS },
  'attr40-decoder': { trainInput: 'masked', attributes: ALL, placement: 'decoder', priorMixing: ATTRIBUTE_PRIOR_MIXING, trainingGibbsSteps: TRAINING_GIBBS_STEPS },
  'attr40-both': { trainInput: 'masked', attributes: ALL, placement: 'both', priorMixing: ATTRIBUTE_PRIOR_MIXING, trainingGibbsSteps: TRAINING_GIBBS_STEPS },
};

/** The paper's Table 1 model rows: preset → the row's name in the paper. */
export const PAPER_ROWS: Record<string, string> = {
  'vae-complete': 'Complete + no attributes',
  'vae-partial': 'Cropped + no attributes',
  'oneshot-unmasked-recon': 'Cropped + no attr, unmasked recon',
  'complete-attr40': 'Complete + all attributes',
  'oneshot-attr40': 'Complete + all attr, unmasked recon',
  'attr1-encoder': 'Cropped + 1 attribute (E)',
  'attr1-decoder': 'Cropped + 1 attribute (D)',
  'attr1-both': 'Cropped + 1 attribute (E + D)',
};

/** Extra ablations (below the rule in Table 1). */
export const EXTRA_ROWS: Record<string, string> = {
  'attr40-encoder': 'Cropped + all attributes (E)',
  'attr40-decoder': 'Cropped + all attributes (D)',
  'attr40-both': 'Cropped + all attributes (E + D)',
};

/**
 * Run folders that are not presets but stand in for a paper row: run name → [the row's preset,
 * label]. `vae-partial-no-training-chain` is the paper's "Cropped" model exactly as the paper
 * trains it (masked faces, no training-time Gibbs step).
 */
const RUN_ROWS: Record<string, [string, string]> = {
  'vae-partial-no-training-chain': ['vae-partial', 'Cropped + no attributes (no training-time Gibbs step)'],
};

/** A run folder `PRESET-gλ` (or `-gλb`, the balanced guide): the preset trained with attribute guidance λ_a (the committed runs of the shell pipeline that `vii run configs/guided64.json` replaced). */
const GUIDED_RUN = /^(.+)-g(\d+(?:\.\d+)?)(b?)$/;

/** The preset whose row a run folder fills (itself, for a preset's own run). */
export function rowPreset(run: string): string {
  const guided = GUIDED_RUN.exec(run);
  if (guided && guided[1] in TABLE1_PRESETS) return guided[1];
  return RUN_ROWS[run]?.[0] ?? run;
}

/**
 * The paper's name of a preset's row (or a stand-in run's label), or the name itself. A run folder
 * of the older scripts, `PRESET-gλ[b]`, names a guided model (their committed runs and logs).
 */
export function rowName(preset: string): string {
  const guided = GUIDED_RUN.exec(preset);
  if (guided && guided[1] in TABLE1_PRESETS) return guidedRow(rowName(guided[1]), Number(guided[2]), guided[3] === 'b');
  return PAPER_ROWS[preset] ?? EXTRA_ROWS[preset] ?? RUN_ROWS[preset]?.[1] ?? preset;
}

/** The row of a model from its configuration: its preset's, with the guidance it was trained with. */
export function configRow(c: ModelConfig): string {
  const row = rowName(c.name);
  const guided = c.attributeGuidance > 0 ? guidedRow(row, c.attributeGuidance, c.attributeGuide === 'balanced') : row;
  // The decoder variants name themselves in every table, as λ_a does.
  return `${guided}${c.upsampling ? ` + ${c.upsampling === 'resize' ? 'resize-conv' : 'sub-pixel'} decoder` : ''}${c.adversarial ? ` + adversarial (λ_adv = ${c.adversarial})` : ''}`;
}

function guidedRow(row: string, lambda: number, balanced: boolean): string {
  return `${row} + ${balanced ? 'balanced ' : ''}guidance (λ_a = ${lambda})`;
}

export function modelConfig(preset: keyof typeof TABLE1_PRESETS | string, overrides: Partial<ModelConfig> = {}): ModelConfig {
  const base = TABLE1_PRESETS[preset];
  if (!base) throw new Error(`unknown model preset "${preset}"; known: ${Object.keys(TABLE1_PRESETS).join(', ')}`);
  const config = { ...DEFAULT_MODEL, name: preset, ...base, ...overrides };
  validateModelConfig(config);
  return config;
}

/** How a model completes: the one-shot models (decoder sees x') in one pass, the others by the Gibbs chain. */
export function completionMethod(c: Pick<ModelConfig, 'decoderSeesObserved'>): 'gibbs' | 'oneshot' {
  return c.decoderSeesObserved ? 'oneshot' : 'gibbs';
}

export function encoderAttributes(c: ModelConfig): boolean {
  return c.placement === 'encoder' || c.placement === 'both';
}

export function decoderAttributes(c: ModelConfig): boolean {
  return c.placement === 'decoder' || c.placement === 'both';
}

export function validateModelConfig(c: ModelConfig): void {
  const fail = (why: string): never => {
    throw new Error(`model config "${c.name}": ${why}`);
  };
  if (c.imageSize !== 32 && c.imageSize !== 64) fail(`imageSize ${c.imageSize} must be 32 or 64`);
  if (!Number.isInteger(c.latentDim) || c.latentDim < 1) fail(`latentDim ${c.latentDim} must be a positive integer`);
  if (c.channels.length < 1 || c.imageSize / 2 ** c.channels.length < 2) fail(`${c.channels.length} downsamplings are too many for ${c.imageSize}×${c.imageSize}`);
  if (!(c.beta >= 0)) fail(`beta ${c.beta} must be ≥ 0`);
  if (!(c.priorMixing >= 0 && c.priorMixing < 1)) fail(`priorMixing ${c.priorMixing} must be in [0, 1)`);
  c.attributeGuidance ??= 0; // configs saved before the term existed
  if (!(c.attributeGuidance >= 0)) fail(`attributeGuidance ${c.attributeGuidance} must be ≥ 0`);
  if (c.attributeGuidance > 0 && !decoderAttributes(c)) fail('attributeGuidance needs attributes in the decoder (placement decoder or both)');
  if (c.attributeGuide !== undefined && c.attributeGuide !== 'balanced') fail(`attributeGuide "${String(c.attributeGuide)}": expected balanced (or absent: plain)`);
  if (c.attributeGuide !== undefined && !(c.attributeGuidance > 0)) fail('attributeGuide needs attributeGuidance > 0');
  if (c.guidanceOn !== undefined && c.guidanceOn !== 'completion') fail(`guidanceOn "${String(c.guidanceOn)}": expected completion (or absent: the decoded image)`);
  if (c.guidanceOn !== undefined && !(c.attributeGuidance > 0 && c.trainInput === 'masked')) fail('guidanceOn needs attributeGuidance > 0 and a masked model');
  // The defaults are stored as absent, so configs (and their hashes) from before these settings stay as they were.
  if (c.upsampling === 'transposed') delete c.upsampling;
  if (c.upsampling !== undefined && !UPSAMPLINGS.includes(c.upsampling)) fail(`upsampling "${String(c.upsampling)}": expected ${UPSAMPLINGS.join(', ')}`);
  if (c.adversarial === 0) delete c.adversarial;
  if (c.adversarial !== undefined && !(typeof c.adversarial === 'number' && c.adversarial > 0 && Number.isFinite(c.adversarial))) fail(`adversarial ${String(c.adversarial)}: expected λ_adv ≥ 0`);
  if (c.placement !== 'none' && c.attributes.length === 0) fail(`placement "${c.placement}" needs at least one attribute`);
  if (c.placement === 'none' && c.attributes.length > 0) fail('attributes are given but placement is "none"');
  for (const a of c.attributes) if (!(ALL as string[]).includes(a)) fail(`unknown attribute "${a}"`);
  if (c.decoderSeesObserved && c.trainInput !== 'masked') fail('the one-shot model (decoderSeesObserved) must train on masked inputs');
  if (!Number.isInteger(c.trainingGibbsSteps) || c.trainingGibbsSteps < 0) fail(`trainingGibbsSteps ${c.trainingGibbsSteps} must be an integer ≥ 0`);
  if (c.trainingGibbsSteps > 0 && c.trainInput !== 'masked') fail('training-time Gibbs steps (trainingGibbsSteps) need masked training inputs');
  const mask = parseMaskSpec(c.mask);
  validateMaskForSize(mask, c.imageSize);
  c.mask = formatMaskSpec(mask);
  const known = c.perceptual.net === 'vgg16' ? VGG16_LAYERS : c.perceptual.net === 'mobilenetv2' ? MOBILENET_LAYERS : [];
  for (const [layer, w] of Object.entries(c.perceptual.weights)) {
    if (!(w >= 0)) fail(`perceptual weight λ[${layer}] = ${w} must be ≥ 0`);
    if (c.perceptual.net !== 'none' && w > 0 && !(known as readonly string[]).includes(layer)) {
      fail(`perceptual layer "${layer}" is not one of ${c.perceptual.net}'s: ${known.join(', ')}`);
    }
  }
  if (c.perceptual.net === 'vgg16' && !c.perceptual.path) fail('perceptual net vgg16 needs `path` to a local TF.js VGG16 layers model');
}

/**
 * The settings that fix a model's weights' shapes and meaning: a checkpoint can seed a run
 * (TrainConfig.initFrom) only of a model equal in these; λ_l, β, guidance, masks may differ.
 */
export const ARCHITECTURE_KEYS = ['imageSize', 'latentDim', 'channels', 'trainInput', 'decoderSeesObserved', 'attributes', 'placement', 'upsampling'] as const;

/** Layers with λ_l > 0 (the ones the feature net must compute). */
export function activePerceptualLayers(c: ModelConfig): string[] {
  if (c.perceptual.net === 'none') return [];
  return Object.entries(c.perceptual.weights)
    .filter(([, w]) => w > 0)
    .map(([l]) => l);
}

/** A short name for a λ_l setting in run-folder names (e.g. Conv10.01-block_30.01), or "nolambda". */
export function lambdaTag(lambdas: Record<string, number>): string {
  return Object.entries(lambdas).filter(([, v]) => v > 0).map(([k, v]) => `${k.replace(/_relu|_expand/g, '')}${v}`).join('-') || 'nolambda';
}
