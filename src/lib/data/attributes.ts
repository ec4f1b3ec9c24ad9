import * as fs from 'fs';

/** The 40 CelebA attributes, in the official file's column order. */
export const CELEBA_ATTRIBUTES = [
  '5_o_Clock_Shadow', 'Arched_Eyebrows', 'Attractive', 'Bags_Under_Eyes', 'Bald', 'Bangs', 'Big_Lips',
  'Big_Nose', 'Black_Hair', 'Blond_Hair', 'Blurry', 'Brown_Hair', 'Bushy_Eyebrows', 'Chubby',
  'Double_Chin', 'Eyeglasses', 'Goatee', 'Gray_Hair', 'Heavy_Makeup', 'High_Cheekbones', 'Male',
  'Mouth_Slightly_Open', 'Mustache', 'Narrow_Eyes', 'No_Beard', 'Oval_Face', 'Pale_Skin',
  'Pointy_Nose', 'Receding_Hairline', 'Rosy_Cheeks', 'Sideburns', 'Smiling', 'Straight_Hair',
  'Wavy_Hair', 'Wearing_Earrings', 'Wearing_Hat', 'Wearing_Lipstick', 'Wearing_Necklace',
  'Wearing_Necktie', 'Young',
] as const;

export interface AttributeTable {
  file: string;
  names: string[];
  /** Image file names in file order. */
  images: string[];
  /** 1-based line of each image's row, for error messages. */
  lines: number[];
  /** Row-major [images.length × names.length], 1 where the file says 1, 0 where it says -1. */
  values: Uint8Array;
}

export class DataFormatError extends Error {
  constructor(
    readonly file: string,
    readonly line: number | null,
    detail: string,
  ) {
    super(`${file}${line === null ? '' : `:${line}`}: ${detail}`);
    this.name = 'DataFormatError';
  }
}

function readLines(file: string): string[] {
  if (!fs.existsSync(file)) throw new DataFormatError(file, null, 'file not found');
  return fs.readFileSync(file, 'utf8').split(/\r?\n/);
}

/**
 * Parse `list_attr_celeba.txt`: line 1 the image count, line 2 the attribute names, then one row
 * per image with ±1 labels. Any deviation is an error naming the file and line.
 */
export function parseAttributeFile(file: string): AttributeTable {
  const lines = readLines(file);
  const count = Number(lines[0]?.trim());
  if (!Number.isInteger(count) || count < 0) {
    throw new DataFormatError(file, 1, `expected the image count, got "${lines[0]?.slice(0, 40) ?? ''}"`);
  }
  const names = (lines[1] ?? '').trim().split(/\s+/).filter(Boolean);
  if (names.length === 0) throw new DataFormatError(file, 2, 'expected the attribute names');
  const repeated = names.find((n, i) => names.indexOf(n) !== i);
  if (repeated) throw new DataFormatError(file, 2, `attribute "${repeated}" is named twice`);
  const images: string[] = [];
  const rowLines: number[] = [];
  const values = new Uint8Array(count * names.length);
  const seen = new Set<string>();
  for (let i = 2; i < lines.length; i++) {
    const text = lines[i].trim();
    if (text === '') continue;
    const lineNo = i + 1;
    const fields = text.split(/\s+/);
    if (fields.length !== names.length + 1) {
      // The header is the usual culprit when every row disagrees with it.
      const hint = i === 2 ? `; line 2 names ${names.length} attributes${fields.length - 1 < names.length ? ' (an extra or repeated name there?)' : ''}` : '';
      throw new DataFormatError(file, lineNo, `expected an image name and ${names.length} labels (one per attribute named on line 2), got ${fields.length - 1} labels${hint}`);
    }
    if (images.length >= count) throw new DataFormatError(file, lineNo, `more rows than the ${count} announced on line 1`);
    const name = fields[0];
    if (seen.has(name)) throw new DataFormatError(file, lineNo, `image ${name} is listed twice`);
    seen.add(name);
    const row = images.length * names.length;
    for (let j = 0; j < names.length; j++) {
      const v = fields[j + 1];
      if (v !== '1' && v !== '-1') {
        throw new DataFormatError(file, lineNo, `label ${j + 1} (${names[j]}) of ${name} is "${v}", expected 1 or -1`);
      }
      values[row + j] = v === '1' ? 1 : 0;
    }
    images.push(name);
    rowLines.push(lineNo);
  }
  if (images.length !== count) {
    throw new DataFormatError(file, lines.length, `line 1 announces ${count} images but ${images.length} rows follow`);
  }
  return { file, names, images, lines: rowLines, values };
}

/** Parse `list_eval_partition.txt`: "NAME.jpg 0|1|2" (train/val/test). */
export function parsePartitionFile(file: string): Map<string, 0 | 1 | 2> {
  const lines = readLines(file);
  const out = new Map<string, 0 | 1 | 2>();
  lines.forEach((raw, i) => {
    const text = raw.trim();
    if (text === '') return;
    const fields = text.split(/\s+/);
    if (fields.length !== 2 || !['0', '1', '2'].includes(fields[1])) {
      throw new DataFormatError(file, i + 1, `expected "IMAGE 0|1|2", got "${text.slice(0, 60)}"`);
    }
    out.set(fields[0], Number(fields[1]) as 0 | 1 | 2);
  });
  return out;
}

/** Serialise attributes in the official format (used by the synthetic data set and by tests). */
export function formatAttributeFile(names: readonly string[], rows: { image: string; values: ArrayLike<number> }[]): string {
  const body = rows.map((r) => `${r.image} ${Array.from(r.values, (v) => (v ? ' 1' : '-1')).join(' ')}`);
  return [String(rows.length), names.join(' '), ...body].join('\n') + '\n';
}

/** Column indices of the requested attributes, with a clear error for an unknown name. */
export function attributeIndices(all: readonly string[], wanted: readonly string[]): number[] {
  return wanted.map((name) => {
    const i = all.indexOf(name);
    if (i < 0) throw new Error(`unknown attribute "${name}"; known: ${all.join(', ')}`);
    return i;
  });
}
