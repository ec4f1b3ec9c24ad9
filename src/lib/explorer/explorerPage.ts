import * as fs from 'fs';
import * as path from 'path';
import { findCheckpoint, type CheckpointMeta } from '../models/checkpoint';
import { loadFaceImage } from '../data/preprocess';
import { attributeIndices } from '../data/attributes';
import { runData } from '../experiments/fineTune';
import { imageFiles } from '../experiments/completeFolder';
import { writeFileAtomic } from '../io/atomicWrite';
import type { ExplorerFace, ExplorerModel } from './explorerData';
import { readSigmaNetCard, SIGMA_NET_FILE } from '../metrics/sigmaNet';
import { modelAttributeStrength } from '../weights/shippedModel';

const CHECKPOINT_FILES = ['config.json', 'weights.json', 'weights.bin'] as const;
/** A model folder's σ network files (metrics/sigmaNet.ts), carried with the model where it has them. */
const SIGMA_NET_FILES = [`${SIGMA_NET_FILE}.json`, `${SIGMA_NET_FILE}.bin`, `${SIGMA_NET_FILE}-card.json`] as const;

/** A checkpoint's files, read once: the page embeds them and model/ gets them unchanged. */
export interface ExplorerSource {
  dir: string;
  meta: CheckpointMeta;
  files: Record<(typeof CHECKPOINT_FILES)[number], Buffer>;
  /** The folder's σ network files, where it has them (its card checked for this model's face size). */
  sigmaNet: Record<(typeof SIGMA_NET_FILES)[number], Buffer> | null;
}

/** The newest checkpoint folder of a run folder (or the folder itself) and its files; errors name the folder. */
export function explorerSource(dir: string): ExplorerSource {
  if (!fs.existsSync(dir)) throw new Error(`--checkpoint ${dir}: folder not found`);
  const ckpt = fs.existsSync(path.join(dir, 'config.json')) ? dir : findCheckpoint(dir);
  if (!ckpt) throw new Error(`--checkpoint ${dir}: no checkpoint (expected config.json + weights.bin, or a run folder with latest.json)`);
  for (const f of CHECKPOINT_FILES) if (!fs.existsSync(path.join(ckpt, f))) throw new Error(`${path.join(ckpt, f)} is missing`);
  const files = Object.fromEntries(CHECKPOINT_FILES.map((f) => [f, fs.readFileSync(path.join(ckpt, f))])) as ExplorerSource['files'];
  const meta = JSON.parse(files['config.json'].toString('utf8')) as CheckpointMeta;
  const stem = path.join(ckpt, SIGMA_NET_FILE);
  let sigmaNet: ExplorerSource['sigmaNet'] = null;
  if (fs.existsSync(`${stem}.json`)) {
    readSigmaNetCard(stem, meta.model.imageSize);
    sigmaNet = Object.fromEntries(SIGMA_NET_FILES.map((f) => [f, fs.readFileSync(path.join(ckpt, f))])) as NonNullable<ExplorerSource['sigmaNet']>;
  }
  return { dir: ckpt, meta, files, sigmaNet };
}

/** The model as the page receives it: the checkpoint's own files, unchanged. */
export function explorerModel(source: ExplorerSource, title: string): ExplorerModel {
  return {
    title,
    config: source.meta,
    weightsIndex: JSON.parse(source.files['weights.json'].toString('utf8')),
    weightsBase64: source.files['weights.bin'].toString('base64'),
    attributeStrength: modelAttributeStrength(source.dir),
    ...(source.sigmaNet && {
      sigmaNet: {
        card: JSON.parse(source.sigmaNet[`${SIGMA_NET_FILE}-card.json`].toString('utf8')),
        weightsIndex: JSON.parse(source.sigmaNet[`${SIGMA_NET_FILE}.json`].toString('utf8')),
        weightsBase64: source.sigmaNet[`${SIGMA_NET_FILE}.bin`].toString('base64'),
      },
    }),
  };
}

/**
 * Faces for the page, preprocessed as the model's training faces (crop, resize): the first
 * `limit` images of a folder (sorted by name), or without one the first held-out test faces of
 * the model's own data set, with their attributes.
 */
export async function explorerFaces(meta: CheckpointMeta, images: string | undefined, limit = 8): Promise<ExplorerFace[]> {
  if (images) {
    return Promise.all(imageFiles(images, limit).map(async (f) => ({ name: f, pixelsBase64: Buffer.from(await loadFaceImage(path.join(images, f), meta.preprocess)).toString('base64') })));
  }
  let data: Awaited<ReturnType<typeof runData>>;
  try {
    data = await runData(meta);
  } catch (e) {
    throw new Error(`${(e as Error).message.replace(/; give --data DIR$/, '')}; give --images DIR (your own photographs)`);
  }
  const per = data.preprocess.size ** 2 * 3;
  const cols = attributeIndices(data.attributeNames, meta.model.attributes);
  const na = data.attributeNames.length;
  return data.splits.test.slice(0, limit).map((i) => ({
    name: data.images[i].split('/').pop() ?? `face-${i}`,
    pixelsBase64: Buffer.from(data.pixels.subarray(i * per, (i + 1) * per)).toString('base64'),
    attributes: Object.fromEntries(meta.model.attributes.map((a, j) => [a, data.attributes[i * na + cols[j]]])),
  }));
}

let bundled: Promise<string> | null = null;

/**
 * The page's script: explorerApp.ts and the library code it imports (the model, the chain, the
 * masks) with tfjs, bundled for browsers by esbuild. Node built-ins the shared modules import
 * (file helpers the page never calls) resolve to empty modules.
 */
export function explorerScript(): Promise<string> {
  bundled ??= (async () => {
    const esbuild = await import('esbuild');
    const result = await esbuild.build({
      entryPoints: [path.join(__dirname, 'explorerApp.ts')],
      bundle: true,
      platform: 'browser',
      format: 'iife',
      minify: true,
      write: false,
      target: 'es2020',
      logLevel: 'silent',
      define: { 'process.env.NODE_ENV': '"production"' },
      plugins: [
        {
          name: 'node-builtins-empty',
          setup(build) {
            build.onResolve({ filter: /^(fs|path|crypto|os|child_process|worker_threads)$/ }, (a) => ({ path: a.path, namespace: 'empty' }));
            build.onLoad({ filter: /.*/, namespace: 'empty' }, () => ({ contents: 'module.exports = {};', loader: 'js' }));
          },
        },
      ],
    });
    return result.outputFiles[0].text;
  })();
  return bundled;
}

const STYLE = `
body { font: 14px system-ui, sans-serif; margin: 16px; color: #222; }
h1 { font-size: 18px; margin: 0 0 4px; }
.row { display: flex; gap: 16px; align-items: flex-start; flex-wrap: wrap; margin: 8px 0; }
[hidden] { display: none !important; } /* .row's display: flex would otherwise show a hidden row */
canvas { image-rendering: pixelated; border: 1px solid #ccc; }
canvas.thumb { width: 64px; height: 64px; cursor: pointer; }
#canvas { cursor: crosshair; }
fieldset { border: 1px solid #ddd; padding: 6px 10px; }
label { margin-right: 10px; white-space: nowrap; }
button { margin: 2px; }
#status { font-family: ui-monospace, monospace; margin: 8px 0; }
#samplesRow canvas { width: 128px; height: 128px; }
`;

const BODY = `
<h1>Variational image inpainting: completion explorer</h1>
<div id="model">loading the model…</div>
<div class="row" id="faces"></div>
<div class="row"><label>photograph: <input type="file" id="upload" accept="image/*"></label></div>
<div class="row">
  <div><div>photograph</div><canvas id="truth"></canvas></div>
  <div><div>input and completion (draw the hole)</div><canvas id="canvas"></canvas></div>
</div>
<div class="row">
  <fieldset><legend>hole</legend><span id="masks"></span><button id="clear">clear</button>
    <label>brush <input type="range" id="brush" min="1" max="12" value="4"></label></fieldset>
  <fieldset><legend>Gibbs chain</legend>
    <label>steps <input type="number" id="steps" value="10" min="1" max="100" style="width:4em"></label>
    <label>z <select id="latent"><option value="mean">= μ</option><option value="sample">~ q</option></select></label>
    <label>seed <input type="number" id="seed" value="1" min="1" style="width:5em"></label>
    <button id="step">Step</button><button id="play">Play</button></fieldset>
  <fieldset><legend>attributes (forced)</legend><span id="attributes"></span>
    <label title="forced values at 0.5 ± strength/2 (1: the training labels; the model card's to start)">strength <input type="number" id="strength" value="1" min="0.25" max="4" step="0.25" style="width:4em"></label></fieldset>
  <fieldset><legend>diversity</legend><label>K <input type="number" id="samples" value="4" min="1" max="16" style="width:4em"></label>
    <button id="sampleButton">Draw K samples</button> <label><input type="checkbox" id="uncertainty"> uncertainty</label> <button id="download">Download PNG</button></fieldset>
</div>
<div id="status"></div>
<div class="row" id="samplesRow"></div>
<div class="row" id="uncertaintyRow" hidden>
  <div><div>std of the K samples</div><canvas id="uncertaintyMap" title="per-pixel std of the K samples (inferno; top colour at 0.1); observed pixels dark"></canvas></div>
  <div id="sigmaBox" hidden><div>learned σ (σ network)</div><canvas id="sigmaMap" title="the model's σ network on the K samples' mean and std, times its validation scale: a calibrated σ of the mean per pixel (inferno; top colour at 0.3, as |error| maps); observed pixels dark"></canvas></div>
</div>
`;

/** One HTML document; `inline` puts the data in it too (a notebook cell), else model.js / faces.js beside it. */
export function explorerHtml(script: string, data?: { model: ExplorerModel; faces: ExplorerFace[] }): string {
  const globals = data ? `<script>window.VII_MODEL = ${JSON.stringify(data.model)}; window.VII_FACES = ${JSON.stringify(data.faces)};</script>` : '<script src="model.js"></script><script src="faces.js"></script>';
  // </script> inside the bundle would end the tag early.
  const safe = script.replace(/<\/script/gi, '<\\/script');
  return `<!doctype html><html><head><meta charset="utf-8"><title>vii explorer</title><style>${STYLE}</style></head><body>${BODY}${globals}<script>${safe}</script></body></html>`;
}

export interface ExplorerOptions {
  checkpoint: string;
  /** Your own photographs; default: held-out faces of the model's data set. */
  images?: string;
  limit?: number;
}

/** Everything a page shows: the checkpoint's files, the model as the page reads it, and the faces. */
export async function explorerData(o: ExplorerOptions): Promise<{ source: ExplorerSource; model: ExplorerModel; faces: ExplorerFace[] }> {
  const source = explorerSource(o.checkpoint);
  const faces = await explorerFaces(source.meta, o.images, o.limit);
  return { source, model: explorerModel(source, path.basename(path.resolve(o.checkpoint))), faces };
}

/**
 * A self-contained static page in `out/`: index.html (the app inlined), model.js and faces.js
 * (script tags, so it opens from file://), and model/ — the checkpoint's files, which
 * `vii complete --checkpoint out/model` reads as well.
 */
/**
 * `--out` takes a new or empty folder, or a page vii explore wrote before (rewritten); never a
 * file, and never another folder's own index.html or model/ unless forced.
 */
function checkExplorerOut(out: string, force: boolean): void {
  if (!fs.existsSync(out)) return;
  if (!fs.statSync(out).isDirectory()) throw new Error(`--out ${out}: a file is there; expected a folder (new, empty, or an earlier vii explore page)`);
  const entries = fs.readdirSync(out);
  if (entries.length === 0 || force) return;
  const ours = fs.existsSync(path.join(out, 'model.js')) && fs.readFileSync(path.join(out, 'model.js'), 'utf8').startsWith('window.VII_MODEL = ');
  if (!ours) throw new Error(`--out ${out}: not empty and not a page vii explore wrote (${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', …' : ''}); give a new or empty folder, or --force to write index.html, model.js, faces.js and model/ there`);
}

export async function writeExplorer(o: ExplorerOptions & { out: string; force?: boolean }): Promise<string[]> {
  checkExplorerOut(o.out, o.force ?? false);
  const { source, model, faces } = await explorerData(o);
  fs.mkdirSync(path.join(o.out, 'model'), { recursive: true });
  for (const f of CHECKPOINT_FILES) writeFileAtomic(path.join(o.out, 'model', f), source.files[f]);
  // The card (its forced-attribute strength) and the σ network go with the model, so vii complete
  // --checkpoint out/model forces and maps as the page does.
  const card = path.join(source.dir, 'card.json');
  if (fs.existsSync(card)) writeFileAtomic(path.join(o.out, 'model', 'card.json'), fs.readFileSync(card));
  const sigmaFiles = source.sigmaNet ? SIGMA_NET_FILES.map((f) => (writeFileAtomic(path.join(o.out, 'model', f), source.sigmaNet![f]), `model/${f}`)) : [];
  writeFileAtomic(path.join(o.out, 'model.js'), `window.VII_MODEL = ${JSON.stringify(model)};\n`);
  writeFileAtomic(path.join(o.out, 'faces.js'), `window.VII_FACES = ${JSON.stringify(faces)};\n`);
  writeFileAtomic(path.join(o.out, 'index.html'), explorerHtml(await explorerScript()));
  return ['index.html', 'model.js', 'faces.js', ...CHECKPOINT_FILES.map((f) => `model/${f}`), ...(fs.existsSync(card) ? ['model/card.json'] : []), ...sigmaFiles].map((f) => path.join(o.out, f));
}
