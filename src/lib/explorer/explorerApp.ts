/**
 * The completion explorer in the browser (bundled by explorerPage.ts; never imported by Node code):
 * the same model code (buildVae, the checkpoint's weights decoded by decodeTensors) and the same
 * chain (completion.ts) as the CLI, on tfjs' webgl backend where the browser has it, else cpu.
 * Data arrive as globals from model.js / faces.js (script tags work from file://, fetch does not).
 */
import * as tf from '@tensorflow/tfjs';
import { buildVae, type Vae } from '../models/vae';
import { setModelWeights, type CheckpointMeta } from '../models/checkpoint';
import { decodeTensors } from '../io/tensorFiles';
import { complete, completeSamples, forceAttributes, type LatentMode } from '../completion';
import { ERROR_VMAX, inferno, UNCERTAINTY_VMAX } from '../plots/colormap';
import { makeMaskBatch, parseMaskSpec } from '../masks';
import { maskedL1 } from '../metrics/ssim';
import { sigmaNetSigma, sigmaNetWithWeights, type SigmaNetCard, type SigmaNetModel } from '../metrics/sigmaNet';
import type { ExplorerFace, ExplorerModel } from './explorerData';

declare global {
  interface Window {
    VII_MODEL: ExplorerModel;
    VII_FACES: ExplorerFace[];
    viiExplorer: ExplorerApi;
  }
}

/** What the page does, callable from a test or the console (the buttons call the same functions). */
export interface ExplorerApi {
  ready: Promise<{ backend: string }>;
  /** Completes the current face and hole: every iterate of the chain and its masked L1. */
  run(o?: Partial<ChainSettings>): Promise<{ iterates: number[][]; maskedL1: number[]; mask: number[]; face: number[] }>;
  setFace(index: number): void;
  setMask(spec: string | null): Promise<void>;
  state(): { face: number; holePixels: number; step: number; settings: ChainSettings };
  /** The last K samples' per-value mean and std, and the learned σ on them (null without a σ network); null before any. */
  uncertainty(): { mean: number[]; std: number[]; sigma: number[] | null; mask: number[] } | null;
}

interface ChainSettings {
  steps: number;
  latent: LatentMode;
  seed: number;
  samples: number;
  /** Attribute → 0 | 1 for attribute models (the face's own values to start). */
  attributes: Record<string, number>;
  /** Forced values at 0.5 ± strength/2 (forceAttributes; the model card's to start, else 1). */
  strength: number;
}

const SCALE = 4;
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

function base64Bytes(text: string): Uint8Array {
  const raw = atob(text);
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}

async function chooseBackend(): Promise<string> {
  const wanted = new URLSearchParams(location.search).get('backend');
  for (const name of wanted ? [wanted] : ['webgl', 'cpu']) {
    try {
      if (await tf.setBackend(name)) return name;
    } catch {
      // next
    }
  }
  await tf.setBackend('cpu');
  return 'cpu';
}

/** The model folder's σ network, where the page carries one (its card's scale multiplies its output). */
function loadSigmaNet(m: ExplorerModel, size: number): SigmaNetModel | null {
  if (!m.sigmaNet) return null;
  const tensors = decodeTensors(m.sigmaNet.weightsIndex, base64Bytes(m.sigmaNet.weightsBase64), 'model/sigma-net');
  return { net: sigmaNetWithWeights(tensors.map((t) => t.tensor), size, 'model/sigma-net'), card: m.sigmaNet.card as SigmaNetCard };
}

/** A per-pixel map (channels averaged) on an inferno scale topping at vmax, as the CLI's and the stage's maps; observed pixels dark. */
async function paintMap(canvas: HTMLCanvasElement, values: tf.Tensor4D, mask: Float32Array, vmax: number): Promise<number> {
  const heat = tf.tidy(() => tf.mean(values, -1));
  const v = (await heat.data()) as Float32Array;
  heat.dispose();
  const n = mask.length;
  const rgb = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) rgb.set(mask[i] === 1 ? [0, 0, 0.02] : inferno(v[i] / vmax).map((c) => c / 255), 3 * i);
  const s = Math.round(Math.sqrt(n));
  const img = tf.tensor4d(rgb, [1, s, s, 3]);
  await paint(canvas, img);
  img.dispose();
  return Math.max(...Array.from(v).filter((_, i) => mask[i] !== 1), 0);
}

function loadModel(m: ExplorerModel): { model: Vae; meta: CheckpointMeta } {
  const meta = m.config as CheckpointMeta;
  const model = buildVae(meta.model, meta.train.seed);
  const tensors = decodeTensors(m.weightsIndex, base64Bytes(m.weightsBase64), 'model/weights');
  const weights = Object.fromEntries(tensors.map((t) => [t.name, t.tensor]));
  try {
    setModelWeights(model, weights, 'model');
  } finally {
    tf.dispose(Object.values(weights));
  }
  return { model, meta };
}

/** [1, s, s, 3] in [0, 1] → RGBA pixels on a canvas, scaled up. */
async function paint(canvas: HTMLCanvasElement, image: tf.Tensor, hole?: Float32Array): Promise<void> {
  const s = image.shape[1]!;
  const px = (await image.data()) as Float32Array;
  const small = new ImageData(s, s);
  for (let i = 0; i < s * s; i++) {
    const grey = hole && hole[i] === 0;
    for (let c = 0; c < 3; c++) small.data[4 * i + c] = grey ? 128 : Math.round(Math.min(1, Math.max(0, px[3 * i + c])) * 255);
    small.data[4 * i + 3] = 255;
  }
  const tmp = document.createElement('canvas');
  tmp.width = tmp.height = s;
  tmp.getContext('2d')!.putImageData(small, 0, 0);
  canvas.width = canvas.height = s * SCALE;
  const ctx = canvas.getContext('2d')!;
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(tmp, 0, 0, s * SCALE, s * SCALE);
}

function start(): ExplorerApi {
  let model: Vae;
  let meta: CheckpointMeta;
  let size = 0;
  let faces: Float32Array[] = [];
  let face = 0;
  let mask = new Float32Array(0);
  let iterates: tf.Tensor4D[] = [];
  let l1: number[] = [];
  let step = 0;
  let timer: number | undefined;
  let sigmaNet: SigmaNetModel | null = null;
  let lastSpread: ReturnType<ExplorerApi['uncertainty']> = null;
  const settings: ChainSettings = { steps: 10, latent: 'mean', seed: 1, samples: 4, attributes: {}, strength: 1 };

  const status = (text: string) => ($('status').textContent = text);
  const faceTensor = () => tf.tensor4d(faces[face], [1, size, size, 3]);
  const maskTensor = () => tf.tensor4d(mask, [1, size, size, 1]);
  // Every attribute of the page is forced (its box), at the page's strength: the library's forceAttributes, as vii complete --set.
  const attributeTensor = () => {
    const names = meta.model.attributes;
    if (!names.length) return null;
    const none = tf.zeros([1, names.length]) as tf.Tensor2D;
    const y = forceAttributes(none, names, Object.fromEntries(names.map((a) => [a, settings.attributes[a] ?? 0])), settings.strength);
    none.dispose();
    return y;
  };

  const clearChain = () => {
    tf.dispose(iterates);
    iterates = [];
    l1 = [];
    step = 0;
    if (timer) clearInterval(timer);
    timer = undefined;
  };

  async function showInput(): Promise<void> {
    const x = faceTensor();
    await paint($('truth'), x);
    await paint($('canvas'), x, mask);
    x.dispose();
    status(`${meta.model.name}: draw a hole, then Step or Play (${mask.filter((m) => m === 0).length} hole pixels)`);
  }

  function readSettings(): void {
    settings.steps = Math.max(1, Math.round(Number(($('steps') as HTMLInputElement).value) || 10));
    settings.seed = Math.max(1, Math.round(Number(($('seed') as HTMLInputElement).value) || 1));
    settings.samples = Math.max(1, Math.round(Number(($('samples') as HTMLInputElement).value) || 4));
    settings.latent = ($('latent') as HTMLSelectElement).value as LatentMode;
    const strength = Number(($('strength') as HTMLInputElement).value);
    settings.strength = Number.isFinite(strength) && strength > 0 ? strength : 1;
    for (const a of meta.model.attributes) {
      const box = document.getElementById(`attr-${a}`) as HTMLInputElement | null;
      if (box) settings.attributes[a] = box.checked ? 1 : 0;
    }
  }

  /** The whole chain for the current face, hole and settings (the library's complete(), every iterate kept). */
  async function chain(): Promise<void> {
    clearChain();
    const x = faceTensor();
    const m = maskTensor();
    const y = attributeTensor();
    const out = complete(model, x, m, y, { steps: settings.steps, latent: settings.latent, seed: settings.seed, trajectory: true });
    out.completed.dispose();
    iterates = out.iterates;
    for (const it of iterates) {
      const e = maskedL1(it, x, m);
      l1.push((await e.data())[0]);
      e.dispose();
    }
    tf.dispose([x, m, ...(y ? [y] : [])]);
  }

  async function showStep(t: number): Promise<void> {
    step = t;
    await paint($('canvas'), iterates[t - 1]);
    status(`step ${t}/${iterates.length} (z ${settings.latent === 'mean' ? '= μ' : '~ q'}, seed ${settings.seed}): masked L1 against the photograph ${l1[t - 1].toFixed(4)}`);
  }

  async function onStep(): Promise<void> {
    readSettings();
    if (iterates.length === 0 || step >= iterates.length) await chain();
    await showStep(step + 1);
  }

  async function onPlay(): Promise<void> {
    readSettings();
    await chain();
    let t = 0;
    timer = window.setInterval(() => {
      t++;
      if (t > iterates.length) {
        clearInterval(timer);
        timer = undefined;
        return;
      }
      void showStep(t);
    }, 250);
  }

  async function onForce(): Promise<void> {
    readSettings();
    await chain();
    await showStep(iterates.length);
  }

  async function onSamples(): Promise<void> {
    readSettings();
    const x = faceTensor();
    const m = maskTensor();
    const y = attributeTensor();
    const outs = completeSamples(model, x, m, y, { steps: settings.steps, latent: 'sample', seed: settings.seed }, settings.samples);
    const canvases = outs.map(() => document.createElement('canvas'));
    for (const [i, o] of outs.entries()) await paint(canvases[i], o);
    const row = $('samplesRow');
    row.replaceChildren(...canvases);
    row.dataset.samples = String(outs.length);
    // Where the K samples disagree, the fill is least determined by what is observed: their per-pixel
    // std (with K − 1, as the library's completionSpread), and where the model ships one, its learned σ
    // on that mean and std (the CLI's and the uncertainty stage's network and scale).
    lastSpread = null;
    if (outs.length >= 2) {
      const [mean, std] = tf.tidy(() => {
        const { mean, variance } = tf.moments(tf.stack(outs), 0);
        return [mean, tf.sqrt(tf.mul(variance, outs.length / (outs.length - 1)))] as tf.Tensor4D[];
      });
      const sigma = sigmaNet ? sigmaNetSigma(sigmaNet, mean, std, m) : null;
      ($('uncertaintyMap') as HTMLCanvasElement).dataset.maxStd = String(await paintMap($('uncertaintyMap'), std, mask, UNCERTAINTY_VMAX));
      if (sigma) ($('sigmaMap') as HTMLCanvasElement).dataset.maxSigma = String(await paintMap($('sigmaMap'), sigma, mask, ERROR_VMAX));
      $('sigmaBox').hidden = !sigma;
      lastSpread = { mean: Array.from(await mean.data()), std: Array.from(await std.data()), sigma: sigma ? Array.from(await sigma.data()) : null, mask: Array.from(mask) };
      tf.dispose([mean, std, ...(sigma ? [sigma] : [])]);
    }
    $('uncertaintyRow').hidden = !(($('uncertainty') as HTMLInputElement).checked && outs.length >= 2);
    status(`${outs.length} completions, each its own z ~ q and chain (${settings.steps} steps, seed ${settings.seed})${outs.length >= 2 ? `; uncertainty: their per-pixel std${sigmaNet ? ' and the learned σ' : ''}` : ''}`);
    tf.dispose([x, m, ...(y ? [y] : []), ...outs]);
  }

  async function setMask(spec: string | null): Promise<void> {
    if (spec === null) mask.fill(1);
    else {
      const m = makeMaskBatch(parseMaskSpec(spec), 1, size, 0);
      mask = (await m.data()) as Float32Array;
      m.dispose();
    }
    clearChain();
    await showInput();
  }

  function setFace(index: number): void {
    face = Math.max(0, Math.min(faces.length - 1, index));
    const own = window.VII_FACES[face]?.attributes;
    for (const a of meta.model.attributes) {
      settings.attributes[a] = own?.[a] ?? 0;
      const box = document.getElementById(`attr-${a}`) as HTMLInputElement | null;
      if (box) box.checked = settings.attributes[a] === 1;
    }
    clearChain();
    void showInput();
  }

  /** A hole drawn with the mouse: a round brush on the model's pixel grid. */
  function brush(canvas: HTMLCanvasElement): void {
    let down = false;
    const paintAt = (e: MouseEvent) => {
      const r = canvas.getBoundingClientRect();
      const cx = ((e.clientX - r.left) / r.width) * size;
      const cy = ((e.clientY - r.top) / r.height) * size;
      const radius = Number(($('brush') as HTMLInputElement).value) || 4;
      for (let yy = 0; yy < size; yy++) for (let xx = 0; xx < size; xx++) if ((xx + 0.5 - cx) ** 2 + (yy + 0.5 - cy) ** 2 <= radius * radius) mask[yy * size + xx] = 0;
    };
    canvas.addEventListener('mousedown', (e) => {
      down = true;
      clearChain();
      paintAt(e);
    });
    canvas.addEventListener('mousemove', (e) => down && paintAt(e));
    window.addEventListener('mouseup', () => {
      if (!down) return;
      down = false;
      void showInput();
    });
  }

  /** An uploaded photograph: centre square, resized to the model's size by the canvas. */
  async function upload(file: File): Promise<void> {
    const bitmap = await createImageBitmap(file);
    const side = Math.min(bitmap.width, bitmap.height);
    const c = document.createElement('canvas');
    c.width = c.height = size;
    const ctx = c.getContext('2d')!;
    ctx.drawImage(bitmap, (bitmap.width - side) / 2, (bitmap.height - side) / 2, side, side, 0, 0, size, size);
    const rgba = ctx.getImageData(0, 0, size, size).data;
    const px = new Float32Array(size * size * 3);
    for (let i = 0; i < size * size; i++) for (let k = 0; k < 3; k++) px[3 * i + k] = rgba[4 * i + k] / 255;
    faces.push(px);
    window.VII_FACES.push({ name: file.name, pixelsBase64: '' });
    addThumb(faces.length - 1, file.name);
    setFace(faces.length - 1);
  }

  function addThumb(index: number, name: string): void {
    const c = document.createElement('canvas');
    c.title = name;
    c.className = 'thumb';
    c.addEventListener('click', () => setFace(index));
    $('faces').appendChild(c);
    const t = tf.tensor4d(faces[index], [1, size, size, 3]);
    void paint(c, t).then(() => t.dispose());
  }

  /** truth | input | the shown iterate | the samples, as one PNG. */
  function download(): void {
    const parts = [$('truth'), $('canvas'), ...Array.from($('samplesRow').querySelectorAll('canvas'))] as HTMLCanvasElement[];
    const out = document.createElement('canvas');
    out.width = parts.reduce((w, p) => w + p.width + 4, 0);
    out.height = Math.max(...parts.map((p) => p.height));
    const ctx = out.getContext('2d')!;
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, out.width, out.height);
    let x = 0;
    for (const p of parts) {
      ctx.drawImage(p, x, 0);
      x += p.width + 4;
    }
    const a = document.createElement('a');
    a.download = `completion-${window.VII_FACES[face].name}-step${step}.png`;
    a.href = out.toDataURL('image/png');
    a.click();
  }

  const ready = (async () => {
    const backend = await chooseBackend();
    ({ model, meta } = loadModel(window.VII_MODEL));
    size = meta.model.imageSize;
    sigmaNet = loadSigmaNet(window.VII_MODEL, size);
    settings.strength = window.VII_MODEL.attributeStrength ?? 1;
    ($('strength') as HTMLInputElement).value = String(settings.strength);
    faces = window.VII_FACES.map((f) => Float32Array.from(base64Bytes(f.pixelsBase64), (v) => v / 255));
    $('model').textContent = `${window.VII_MODEL.title} · ${meta.model.imageSize}×${meta.model.imageSize} · tfjs ${backend}`;
    const attrs = $('attributes');
    for (const a of meta.model.attributes) {
      // Names come from the checkpoint's files: built as elements and text, never parsed as HTML.
      const label = document.createElement('label');
      const box = document.createElement('input');
      box.type = 'checkbox';
      box.id = `attr-${a}`;
      label.append(box, document.createTextNode(` ${a}`));
      // The forced completion follows the box: the chain reruns with the new y.
      box.addEventListener('change', () => void onForce());
      attrs.appendChild(label);
    }
    if (!meta.model.attributes.length) attrs.textContent = 'no attributes (this model does not take y)';
    faces.forEach((_, i) => addThumb(i, window.VII_FACES[i].name));
    brush($('canvas'));
    for (const spec of ['centre:0.5', 'half:bottom', 'half:left', 'box:1', 'free:1']) {
      const b = document.createElement('button');
      b.textContent = spec;
      b.addEventListener('click', () => void setMask(spec));
      $('masks').appendChild(b);
    }
    $('step').addEventListener('click', () => void onStep());
    $('play').addEventListener('click', () => void onPlay());
    $('sampleButton').addEventListener('click', () => void onSamples());
    $('uncertainty').addEventListener('change', () => ($('uncertaintyRow').hidden = !(($('uncertainty') as HTMLInputElement).checked && $('samplesRow').childElementCount >= 2)));
    $('download').addEventListener('click', download);
    $('clear').addEventListener('click', () => void setMask(null));
    $('upload').addEventListener('change', (e) => {
      const f = (e.target as HTMLInputElement).files?.[0];
      if (f) void upload(f);
    });
    mask = new Float32Array(size * size).fill(1);
    setFace(0);
    await setMask(meta.model.mask);
    document.body.dataset.ready = backend;
    return { backend };
  })();

  return {
    ready,
    async run(o = {}) {
      await ready;
      readSettings();
      Object.assign(settings, o, { attributes: { ...settings.attributes, ...o.attributes } });
      ($('steps') as HTMLInputElement).value = String(settings.steps);
      ($('seed') as HTMLInputElement).value = String(settings.seed);
      ($('latent') as HTMLSelectElement).value = settings.latent;
      ($('strength') as HTMLInputElement).value = String(settings.strength);
      for (const [a, v] of Object.entries(settings.attributes)) {
        const box = document.getElementById(`attr-${a}`) as HTMLInputElement | null;
        if (box) box.checked = v === 1;
      }
      await chain();
      await showStep(iterates.length);
      return { iterates: await Promise.all(iterates.map(async (t) => Array.from(await t.data()))), maskedL1: l1, mask: Array.from(mask), face: Array.from(faces[face]) };
    },
    setFace,
    setMask,
    state: () => ({ face, holePixels: mask.filter((m) => m === 0).length, step, settings: { ...settings } }),
    uncertainty: () => lastSpread,
  };
}

window.viiExplorer = start();
