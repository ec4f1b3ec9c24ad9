import * as fs from 'fs';
import { unzipSync } from 'fflate';
import { BufferReader, NameRegistry, Parser } from 'pickleparser';

/**
 * Reads a PyTorch `torch.save` file in TypeScript, no Python: both the zip format (torch ≥ 1.6:
 * `ARCHIVE/data.pkl` + one raw file per storage) and the legacy format (torchvision's 2017
 * checkpoints such as vgg16-397923af.pth: a run of pickles followed by the raw storages). Only
 * state dicts of tensors are read; every tensor comes back as float32 in C order.
 */
export interface TorchTensor {
  /** Storage type of the checkpoint, e.g. "float32"; the values are converted to float32. */
  dtype: StorageType;
  shape: number[];
  data: Float32Array;
}

export type StorageType = 'float32' | 'float64' | 'float16' | 'int64' | 'int32' | 'uint8' | 'bool';

const STORAGE_TYPES: Record<string, { dtype: StorageType; bytes: number }> = {
  FloatStorage: { dtype: 'float32', bytes: 4 },
  DoubleStorage: { dtype: 'float64', bytes: 8 },
  HalfStorage: { dtype: 'float16', bytes: 2 },
  LongStorage: { dtype: 'int64', bytes: 8 },
  IntStorage: { dtype: 'int32', bytes: 4 },
  ByteStorage: { dtype: 'uint8', bytes: 1 },
  BoolStorage: { dtype: 'bool', bytes: 1 },
};

export class TorchCheckpointError extends Error {}

/** What the pickle holds for a storage until its bytes are read. */
interface StorageRef {
  kind: 'storage';
  type: { dtype: StorageType; bytes: number };
  key: string;
  numel: number;
  /** Legacy views: (root key, element offset, elements). */
  view?: { offset: number; numel: number };
  bytes?: Uint8Array;
}

/** What the pickle holds for a tensor until its storage is read. */
interface TensorRef {
  kind: 'tensor';
  storage: StorageRef;
  offset: number;
  shape: number[];
  stride: number[];
}

/** The legacy format starts with this pickle: protocol 2, LONG1 0x1950a86a20f9469cfc6c, STOP. */
const LEGACY_MAGIC = Uint8Array.from([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e]);
const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function nameRegistry(file: string): NameRegistry {
  const registry = new NameRegistry();
  const rebuildTensor = (storage: StorageRef, offset: number, shape: number[], stride: number[]): TensorRef => {
    if (!storage || storage.kind !== 'storage') throw new TorchCheckpointError(`${file}: a tensor without a storage`);
    return { kind: 'tensor', storage, offset, shape: [...shape], stride: [...stride] };
  };
  registry.register('torch._utils', '_rebuild_tensor_v2', rebuildTensor);
  registry.register('torch._utils', '_rebuild_tensor', rebuildTensor);
  registry.register('torch._utils', '_rebuild_parameter', (data: TensorRef) => data);
  registry.register('torch._utils', '_rebuild_parameter_with_state', (data: TensorRef) => data);
  registry.register('collections', 'OrderedDict', () => new Map());
  for (const [name, type] of Object.entries(STORAGE_TYPES)) registry.register('torch', name, () => type);
  // A storage type the table does not know, or a pickled module: say which, instead of a wrong tensor.
  const missing = registry.onMissingName.bind(registry);
  registry.onMissingName = (module: string, name: string) => {
    if (module === 'torch' && name.endsWith('Storage')) throw new TorchCheckpointError(`${file}: storage type torch.${name} is not supported (expected one of ${Object.keys(STORAGE_TYPES).join(', ')})`);
    return missing(module, name);
  };
  return registry;
}

/** Storage type objects come back from the registry as the table entries themselves. */
function storageType(file: string, t: unknown): StorageRef['type'] {
  if (typeof t === 'function') t = (t as () => unknown)();
  const found = Object.values(STORAGE_TYPES).find((s) => s === t);
  if (!found) throw new TorchCheckpointError(`${file}: unknown storage type ${String(t)}`);
  return found;
}

function parser(file: string, storages: Map<string, StorageRef>, legacy: boolean): Parser {
  return new Parser({
    nameResolver: nameRegistry(file),
    unpicklingTypeOfDictionary: 'Map',
    persistentResolver: {
      resolve(pid: unknown) {
        const t = pid as unknown[];
        if (!Array.isArray(t) || t[0] !== 'storage') throw new TorchCheckpointError(`${file}: unsupported persistent id ${JSON.stringify(pid)}`);
        // zip: (storage, type, key, location, numel); legacy: (storage, type, root key, location, numel, view)
        const key = String(t[2]);
        let root = storages.get(key);
        if (!root) {
          root = { kind: 'storage', type: storageType(file, t[1]), key, numel: Number(t[4]) };
          storages.set(key, root);
        }
        const view = legacy ? (t[5] as unknown[] | null) : null;
        if (view) return { ...root, view: { offset: Number(view[1]), numel: Number(view[2]) }, root } as StorageRef;
        return root;
      },
    },
  });
}

function decode(bytes: Uint8Array, type: StorageRef['type'], file: string, key: string): Float32Array {
  const n = bytes.length / type.bytes;
  if (!Number.isInteger(n)) throw new TorchCheckpointError(`${file}: storage ${key} has ${bytes.length} bytes, not a multiple of ${type.bytes}`);
  // float32 on a little-endian host: one copy into an aligned buffer instead of a loop.
  if (type.dtype === 'float32' && LITTLE_ENDIAN_HOST) return new Float32Array(bytes.slice().buffer);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const at = i * type.bytes;
    switch (type.dtype) {
      case 'float32': out[i] = view.getFloat32(at, true); break;
      case 'float64': out[i] = view.getFloat64(at, true); break;
      case 'float16': out[i] = halfToFloat(view.getUint16(at, true)); break;
      case 'int64': out[i] = Number(view.getBigInt64(at, true)); break;
      case 'int32': out[i] = view.getInt32(at, true); break;
      default: out[i] = view.getUint8(at);
    }
  }
  return out;
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

/** Gathers a (possibly strided) tensor out of its decoded storage into C order. */
function materialise(t: TensorRef, values: Float32Array, file: string, name: string): Float32Array {
  const size = t.shape.reduce((a, b) => a * b, 1);
  const rank = t.shape.length;
  const pastEnd = () => new TorchCheckpointError(`${file}: tensor ${name} (shape ${t.shape}) reads past the end of its storage (${values.length} elements)`);
  // Contiguous in C order (what state dicts almost always hold): one slice.
  let expected = 1;
  let contiguous = true;
  for (let d = rank - 1; d >= 0; d--) {
    if (t.shape[d] !== 1 && t.stride[d] !== expected) contiguous = false;
    expected *= t.shape[d];
  }
  if (contiguous) {
    if (size > 0 && t.offset + size > values.length) throw pastEnd();
    return values.slice(t.offset, t.offset + size);
  }
  const out = new Float32Array(size);
  const index = new Array<number>(rank).fill(0);
  for (let i = 0; i < size; i++) {
    let at = t.offset;
    for (let d = 0; d < rank; d++) at += index[d] * t.stride[d];
    if (at >= values.length) throw pastEnd();
    out[i] = values[at];
    for (let d = rank - 1; d >= 0; d--) {
      if (++index[d] < t.shape[d]) break;
      index[d] = 0;
    }
  }
  return out;
}

/** The state dict inside whatever was saved: the dict itself, or its 'state_dict' / 'model' entry. */
function findStateDict(file: string, root: unknown): Map<string, TensorRef> {
  const isTensor = (v: unknown): v is TensorRef => typeof v === 'object' && v !== null && (v as TensorRef).kind === 'tensor';
  if (root instanceof Map) {
    for (const k of ['state_dict', 'model']) if (root.get(k) instanceof Map) return findStateDict(file, root.get(k));
    const out = new Map<string, TensorRef>();
    for (const [k, v] of root) if (isTensor(v)) out.set(String(k), v);
    if (out.size > 0) return out;
  }
  throw new TorchCheckpointError(`${file}: not a state dict of tensors (save model.state_dict(), not the module)`);
}

function readZip(file: string, bytes: Uint8Array): { root: unknown; storages: Map<string, StorageRef> } {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes);
  } catch (e) {
    throw new TorchCheckpointError(`${file}: a zip file that cannot be read (${(e as Error).message}); is the download complete?`);
  }
  const pkl = Object.keys(entries).find((n) => n.endsWith('/data.pkl') || n === 'data.pkl');
  if (!pkl) throw new TorchCheckpointError(`${file}: a zip file without data.pkl, not a torch.save checkpoint`);
  const prefix = pkl.slice(0, pkl.length - 'data.pkl'.length);
  const order = entries[`${prefix}byteorder`];
  if (order && new TextDecoder().decode(order) !== 'little') throw new TorchCheckpointError(`${file}: big-endian checkpoints are not supported`);
  const storages = new Map<string, StorageRef>();
  const root = parser(file, storages, false).parse(entries[pkl]);
  for (const s of storages.values()) {
    const data = entries[`${prefix}data/${s.key}`];
    if (!data) throw new TorchCheckpointError(`${file}: storage ${prefix}data/${s.key} is missing`);
    s.bytes = data;
  }
  return { root, storages };
}

function readLegacy(file: string, bytes: Uint8Array): { root: unknown; storages: Map<string, StorageRef> } {
  const reader = new BufferReader(bytes);
  reader.skip(LEGACY_MAGIC.length);
  const plain = new Parser({ unpicklingTypeOfDictionary: 'Map' });
  const protocol = plain.read<number>(reader);
  if (protocol !== 1001) throw new TorchCheckpointError(`${file}: legacy torch format version ${protocol}, expected 1001`);
  const sysInfo = plain.read<Map<string, unknown>>(reader);
  if (sysInfo instanceof Map && sysInfo.get('little_endian') === false) throw new TorchCheckpointError(`${file}: big-endian checkpoints are not supported`);
  const storages = new Map<string, StorageRef>();
  const root = parser(file, storages, true).read(reader);
  const keys = plain.read<string[]>(reader);
  let at = reader.position;
  for (const key of keys) {
    const s = storages.get(String(key));
    if (!s) throw new TorchCheckpointError(`${file}: storage ${key} is listed but never used`);
    if (at + 8 > bytes.length) throw new TorchCheckpointError(`${file}: ends before storage ${key} (truncated download?)`);
    const numel = Number(new DataView(bytes.buffer, bytes.byteOffset + at, 8).getBigInt64(0, true));
    const end = at + 8 + numel * s.type.bytes;
    if (end > bytes.length) throw new TorchCheckpointError(`${file}: storage ${key} needs ${numel * s.type.bytes} bytes, the file ends after ${bytes.length - at - 8} (truncated download?)`);
    s.bytes = bytes.subarray(at + 8, end);
    at = end;
  }
  return { root, storages };
}

/** Reads every tensor of a state dict saved by `torch.save` (zip or legacy format). */
export function readTorchCheckpoint(file: string): Map<string, TorchTensor> {
  if (!fs.existsSync(file)) throw new TorchCheckpointError(`${file}: no such file`);
  const bytes = new Uint8Array(fs.readFileSync(file));
  const isZip = ZIP_MAGIC.every((b, i) => bytes[i] === b);
  const isLegacy = LEGACY_MAGIC.every((b, i) => bytes[i] === b);
  if (!isZip && !isLegacy) throw new TorchCheckpointError(`${file}: not a PyTorch checkpoint (neither the zip nor the legacy torch.save format)`);
  const { root } = isZip ? readZip(file, bytes) : readLegacy(file, bytes);
  const decoded = new Map<string, Float32Array>();
  const out = new Map<string, TorchTensor>();
  for (const [name, t] of findStateDict(file, root)) {
    const rootStorage = (t.storage as StorageRef & { root?: StorageRef }).root ?? t.storage;
    if (!rootStorage.bytes) throw new TorchCheckpointError(`${file}: storage ${rootStorage.key} of ${name} has no data`);
    if (!decoded.has(rootStorage.key)) decoded.set(rootStorage.key, decode(rootStorage.bytes, rootStorage.type, file, rootStorage.key));
    let values = decoded.get(rootStorage.key)!;
    if (t.storage.view) values = values.subarray(t.storage.view.offset, t.storage.view.offset + t.storage.view.numel);
    out.set(name, { dtype: rootStorage.type.dtype, shape: t.shape, data: materialise(t, values, file, name) });
  }
  return out;
}
