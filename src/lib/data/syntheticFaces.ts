import * as fs from 'fs';
import * as path from 'path';
import sharp from 'sharp';
import { CELEBA_ATTRIBUTES, formatAttributeFile } from './attributes';
import { createRng, type Rng } from '../rng';
import { writeFileAtomic } from '../io/atomicWrite';
import { mapLimited } from './preprocess';

/**
 * A procedurally drawn face data set in the CelebA layout, so the project runs on a machine
 * without CelebA. Each face is an SVG drawn from sampled attributes and rendered by sharp, so the
 * labels are exact. Attributes the drawing does not express are always -1 (listed in
 * UNDRAWN_ATTRIBUTES). Results on it are not CelebA results.
 */
export const SYNTHETIC_MARKER = 'SYNTHETIC';
export const SYNTHETIC_WIDTH = 89;
export const SYNTHETIC_HEIGHT = 109;

type Attr = (typeof CELEBA_ATTRIBUTES)[number];
export type FaceAttributes = Partial<Record<Attr, boolean>>;

const DRAWN: Attr[] = [
  '5_o_Clock_Shadow', 'Arched_Eyebrows', 'Bald', 'Bangs', 'Big_Lips', 'Big_Nose', 'Black_Hair', 'Blond_Hair',
  'Blurry', 'Brown_Hair', 'Bushy_Eyebrows', 'Chubby', 'Eyeglasses', 'Goatee', 'Gray_Hair', 'Heavy_Makeup',
  'Male', 'Mouth_Slightly_Open', 'Mustache', 'Narrow_Eyes', 'No_Beard', 'Oval_Face', 'Pale_Skin',
  'Rosy_Cheeks', 'Smiling', 'Straight_Hair', 'Wavy_Hair', 'Wearing_Earrings', 'Wearing_Hat',
  'Wearing_Lipstick', 'Wearing_Necklace', 'Wearing_Necktie', 'Young',
];
export const UNDRAWN_ATTRIBUTES: Attr[] = CELEBA_ATTRIBUTES.filter((a) => !DRAWN.includes(a));

/** Sample a consistent attribute set (e.g. beards only on men, one hair colour). */
export function sampleFaceAttributes(rng: Rng): FaceAttributes {
  const male = rng.bernoulli(0.45);
  const bald = male && rng.bernoulli(0.08);
  const hair = bald ? null : rng.pick(['Black_Hair', 'Blond_Hair', 'Brown_Hair', 'Gray_Hair'] as const);
  const mustache = male && rng.bernoulli(0.2);
  const goatee = male && rng.bernoulli(0.15);
  const stubble = male && !mustache && !goatee && rng.bernoulli(0.25);
  const wavy = !bald && rng.bernoulli(0.35);
  const lipstick = !male && rng.bernoulli(0.55);
  const a: FaceAttributes = {
    Male: male,
    Bald: bald,
    Black_Hair: hair === 'Black_Hair',
    Blond_Hair: hair === 'Blond_Hair',
    Brown_Hair: hair === 'Brown_Hair',
    Gray_Hair: hair === 'Gray_Hair',
    Young: hair !== 'Gray_Hair' && !bald,
    Bangs: !bald && rng.bernoulli(0.2),
    Wavy_Hair: wavy,
    Straight_Hair: !bald && !wavy && rng.bernoulli(0.5),
    Mustache: mustache,
    Goatee: goatee,
    '5_o_Clock_Shadow': stubble,
    No_Beard: !mustache && !goatee && !stubble,
    Eyeglasses: rng.bernoulli(0.12),
    Smiling: rng.bernoulli(0.5),
    Mouth_Slightly_Open: rng.bernoulli(0.45),
    Wearing_Lipstick: lipstick,
    Heavy_Makeup: lipstick && rng.bernoulli(0.6),
    Big_Lips: rng.bernoulli(0.25),
    Big_Nose: rng.bernoulli(0.25),
    Pale_Skin: rng.bernoulli(0.1),
    Rosy_Cheeks: !male && rng.bernoulli(0.15),
    Narrow_Eyes: rng.bernoulli(0.12),
    Bushy_Eyebrows: rng.bernoulli(0.15),
    Arched_Eyebrows: rng.bernoulli(0.25),
    Chubby: rng.bernoulli(0.1),
    Oval_Face: rng.bernoulli(0.3),
    Wearing_Hat: rng.bernoulli(0.06),
    Wearing_Earrings: !male && rng.bernoulli(0.25),
    Wearing_Necklace: !male && rng.bernoulli(0.15),
    Wearing_Necktie: male && rng.bernoulli(0.1),
  };
  return a;
}

const HAIR_COLOURS: Record<string, string[]> = {
  Black_Hair: ['#141414', '#1f1a17', '#0d0d12'],
  Blond_Hair: ['#e0c068', '#d9b55a', '#efd28a'],
  Brown_Hair: ['#5a3a22', '#6b4226', '#4a2e1b'],
  Gray_Hair: ['#a8a8a8', '#bdbdbd', '#8f8f8f'],
};
const SKIN = ['#f1c27d', '#e0ac69', '#c68642', '#8d5524', '#ffdbac'];
const PALE = ['#fbe9dd', '#f8e4d8'];

/** The SVG of a face with these attributes; geometry jitters with the rng (pose, proportions). */
export function drawFaceSvg(a: FaceAttributes, rng: Rng): string {
  const W = SYNTHETIC_WIDTH;
  const H = SYNTHETIC_HEIGHT;
  const cx = W / 2 + rng.int(-3, 4);
  const cy = H * 0.55 + rng.int(-3, 4);
  const rx = (a.Chubby ? 26 : 21) + rng.int(-1, 2);
  const ry = (a.Oval_Face ? 32 : 27) + rng.int(-1, 2);
  const skin = a.Pale_Skin ? rng.pick(PALE) : rng.pick(SKIN);
  const hair = a.Black_Hair ? 'Black_Hair' : a.Blond_Hair ? 'Blond_Hair' : a.Brown_Hair ? 'Brown_Hair' : a.Gray_Hair ? 'Gray_Hair' : null;
  const hairColour = hair ? rng.pick(HAIR_COLOURS[hair]) : skin;
  const bg = `hsl(${rng.int(0, 360)},${rng.int(10, 50)}%,${rng.int(45, 85)}%)`;
  const parts: string[] = [`<rect width="${W}" height="${H}" fill="${bg}"/>`];
  // Shoulders and neck.
  const shirt = `hsl(${rng.int(0, 360)},${rng.int(20, 70)}%,${rng.int(20, 60)}%)`;
  parts.push(`<ellipse cx="${cx}" cy="${H + 8}" rx="${rx + 22}" ry="26" fill="${shirt}"/>`);
  parts.push(`<rect x="${cx - 8}" y="${cy + ry - 8}" width="16" height="18" fill="${skin}"/>`);
  if (a.Wearing_Necktie) parts.push(`<polygon points="${cx - 4},${cy + ry + 8} ${cx + 4},${cy + ry + 8} ${cx + 6},${H} ${cx - 6},${H}" fill="#802020"/>`);
  if (a.Wearing_Necklace) parts.push(`<path d="M${cx - 10},${cy + ry + 4} Q${cx},${cy + ry + 16} ${cx + 10},${cy + ry + 4}" stroke="#e8d070" stroke-width="2" fill="none"/>`);
  // Long hair behind the head.
  const long = hair && !a.Male;
  if (long) {
    const wave = a.Wavy_Hair ? 5 : 0;
    parts.push(
      `<path d="M${cx - rx - 6},${cy - 8} Q${cx - rx - 10 - wave},${cy + ry * 0.6} ${cx - rx + 2},${cy + ry + 14} L${cx + rx - 2},${cy + ry + 14} ` +
        `Q${cx + rx + 10 + wave},${cy + ry * 0.6} ${cx + rx + 6},${cy - 8} Z" fill="${hairColour}"/>`,
    );
  }
  // Ears, earrings, face.
  parts.push(`<ellipse cx="${cx - rx}" cy="${cy}" rx="4" ry="7" fill="${skin}"/><ellipse cx="${cx + rx}" cy="${cy}" rx="4" ry="7" fill="${skin}"/>`);
  if (a.Wearing_Earrings) parts.push(`<circle cx="${cx - rx}" cy="${cy + 8}" r="2" fill="#f0d050"/><circle cx="${cx + rx}" cy="${cy + 8}" r="2" fill="#f0d050"/>`);
  parts.push(`<ellipse cx="${cx}" cy="${cy}" rx="${rx}" ry="${ry}" fill="${skin}"/>`);
  if (a['5_o_Clock_Shadow']) parts.push(`<ellipse cx="${cx}" cy="${cy + ry * 0.55}" rx="${rx * 0.8}" ry="${ry * 0.4}" fill="#3a3026" opacity="0.25"/>`);
  // Hair on top.
  if (hair) {
    const wave = a.Wavy_Hair ? ` Q${cx - rx / 2},${cy - ry - 10} ${cx},${cy - ry - 4} Q${cx + rx / 2},${cy - ry - 10}` : ` Q${cx},${cy - ry - 12}`;
    parts.push(`<path d="M${cx - rx - 2},${cy - 4} Q${cx - rx - 2},${cy - ry - 6} ${cx - rx / 2},${cy - ry - 4}${wave} ${cx + rx / 2},${cy - ry - 4} Q${cx + rx + 2},${cy - ry - 6} ${cx + rx + 2},${cy - 4} Q${cx},${cy - ry + 4} ${cx - rx - 2},${cy - 4} Z" fill="${hairColour}"/>`);
    if (a.Bangs) parts.push(`<path d="M${cx - rx + 2},${cy - ry * 0.55} Q${cx},${cy - ry * 0.2} ${cx + rx - 2},${cy - ry * 0.55} L${cx + rx - 4},${cy - ry + 2} L${cx - rx + 4},${cy - ry + 2} Z" fill="${hairColour}"/>`);
  }
  if (a.Wearing_Hat) {
    const hat = `hsl(${rng.int(0, 360)},60%,35%)`;
    parts.push(`<rect x="${cx - rx - 8}" y="${cy - ry + 2}" width="${2 * rx + 16}" height="6" rx="2" fill="${hat}"/><path d="M${cx - rx + 2},${cy - ry + 3} Q${cx},${cy - ry - 26} ${cx + rx - 2},${cy - ry + 3} Z" fill="${hat}"/>`);
  }
  // Eyes and brows.
  const eyeY = cy - ry * 0.12;
  const eyeDx = rx * 0.42;
  const eyeRy = a.Narrow_Eyes ? 1.2 : 2.6;
  for (const s of [-1, 1]) {
    const ex = cx + s * eyeDx;
    if (a.Heavy_Makeup) parts.push(`<ellipse cx="${ex}" cy="${eyeY - 2}" rx="5.5" ry="3.5" fill="#6a4a8a" opacity="0.5"/>`);
    parts.push(`<ellipse cx="${ex}" cy="${eyeY}" rx="4.2" ry="${eyeRy}" fill="#ffffff"/><circle cx="${ex}" cy="${eyeY}" r="${Math.min(1.8, eyeRy)}" fill="#2a1a10"/>`);
    const browY = eyeY - 6;
    const arch = a.Arched_Eyebrows ? 3 : 0.8;
    parts.push(`<path d="M${ex - 5},${browY + 1} Q${ex},${browY - arch} ${ex + 5},${browY + 1}" stroke="${a.Bald ? '#5a4030' : hairColour}" stroke-width="${a.Bushy_Eyebrows ? 2.8 : 1.3}" fill="none" stroke-linecap="round"/>`);
    if (a.Rosy_Cheeks) parts.push(`<circle cx="${cx + s * rx * 0.55}" cy="${cy + ry * 0.22}" r="4.5" fill="#e06070" opacity="0.45"/>`);
  }
  if (a.Eyeglasses) {
    parts.push(
      `<g stroke="#202020" stroke-width="1.4" fill="none"><circle cx="${cx - eyeDx}" cy="${eyeY}" r="6"/><circle cx="${cx + eyeDx}" cy="${eyeY}" r="6"/>` +
        `<line x1="${cx - eyeDx + 6}" y1="${eyeY}" x2="${cx + eyeDx - 6}" y2="${eyeY}"/></g>`,
    );
  }
  // Nose.
  const noseW = a.Big_Nose ? 5 : 3;
  const noseL = a.Big_Nose ? 11 : 8;
  parts.push(`<path d="M${cx},${eyeY + 2} L${cx - noseW},${eyeY + noseL} L${cx + noseW},${eyeY + noseL}" stroke="#7a5030" stroke-width="1" fill="none" opacity="0.7"/>`);
  // Mouth.
  const mouthY = cy + ry * 0.45;
  const mw = a.Smiling ? 9 : 7;
  const lip = a.Wearing_Lipstick ? '#c0143c' : '#9a4a40';
  const lipW = a.Big_Lips ? 2.6 : 1.4;
  if (a.Mouth_Slightly_Open) parts.push(`<ellipse cx="${cx}" cy="${mouthY + (a.Smiling ? 2 : 0)}" rx="${mw - 2}" ry="2.6" fill="#3a0e0e"/>`);
  const curve = a.Smiling ? 6 : 0.5;
  parts.push(`<path d="M${cx - mw},${mouthY} Q${cx},${mouthY + curve} ${cx + mw},${mouthY}" stroke="${lip}" stroke-width="${lipW}" fill="none" stroke-linecap="round"/>`);
  const beard = a.Black_Hair || a.Brown_Hair ? hairColour : '#4a3424';
  if (a.Mustache) parts.push(`<path d="M${cx - 8},${mouthY - 2} Q${cx},${mouthY - 7} ${cx + 8},${mouthY - 2} Q${cx},${mouthY - 4} ${cx - 8},${mouthY - 2} Z" fill="${beard}"/>`);
  if (a.Goatee) parts.push(`<ellipse cx="${cx}" cy="${mouthY + 8}" rx="5" ry="4" fill="${beard}"/>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">${parts.join('')}</svg>`;
}

export async function renderFaceJpeg(svg: string, blurry: boolean): Promise<Buffer> {
  let img = sharp(Buffer.from(svg));
  if (blurry) img = img.blur(1.4);
  return img.jpeg({ quality: 92 }).toBuffer();
}

export interface SyntheticOptions {
  dir: string;
  count: number;
  seed: number;
  onProgress?: (done: number, total: number) => void;
}

/**
 * Write `count` faces in the CelebA layout (img_align_celeba/, list_attr_celeba.txt,
 * list_eval_partition.txt with an 80/10/10 split). The same seed writes the same files.
 * The attribute file is written last and atomically, so an interrupted run is regenerated.
 */
export async function writeSyntheticFaces(options: SyntheticOptions): Promise<void> {
  if (!Number.isInteger(options.count) || options.count < 1) throw new Error(`count ${options.count} must be a positive integer`);
  const imageDir = path.join(options.dir, 'img_align_celeba');
  fs.mkdirSync(imageDir, { recursive: true });
  const names = Array.from({ length: options.count }, (_, i) => `${String(i + 1).padStart(6, '0')}.jpg`);
  let done = 0;
  const rows = await mapLimited(names, 8, async (image, i) => {
    const rng = createRng(`${options.seed}-face-${i}`);
    const attrs = sampleFaceAttributes(rng);
    attrs.Blurry = rng.bernoulli(0.05);
    fs.writeFileSync(path.join(imageDir, image), await renderFaceJpeg(drawFaceSvg(attrs, rng), !!attrs.Blurry));
    options.onProgress?.(++done, options.count);
    return { image, values: CELEBA_ATTRIBUTES.map((a) => (attrs[a] ? 1 : 0)) };
  });
  const nTrain = Math.round(options.count * 0.8);
  const nVal = Math.round(options.count * 0.1);
  const partition = names.map((n, i) => `${n} ${i < nTrain ? 0 : i < nTrain + nVal ? 1 : 2}`).join('\n') + '\n';
  writeFileAtomic(path.join(options.dir, 'list_eval_partition.txt'), partition);
  writeFileAtomic(path.join(options.dir, 'list_attr_celeba.txt'), formatAttributeFile(CELEBA_ATTRIBUTES, rows));
  writeFileAtomic(
    path.join(options.dir, 'README.md'),
    `# Synthetic faces (generated, not CelebA)\n\n${options.count} procedurally drawn faces, seed ${options.seed}, written by ` +
      '`src/lib/data/syntheticFaces.ts` in the CelebA layout. Attributes always -1 here because the drawing does not ' +
      `express them: ${UNDRAWN_ATTRIBUTES.join(', ')}.\nResults on this data are not CelebA results.\n`,
  );
  // Marks the folder as generated (the loader labels its data "synthetic"); written last.
  writeFileAtomic(path.join(options.dir, SYNTHETIC_MARKER), `${options.count} ${options.seed}\n`);
}
