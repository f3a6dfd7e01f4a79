// Reads PyTorch .pth/.pt state dicts (torch.save's zip format: <archive>/data.pkl plus
// one <archive>/data/<key> entry per storage). The pickle goes through the safe
// unpickler; storages are decoded only for tensors that end up in the state dict, once
// per storage even when several tensors share it, and views are made contiguous.

import { decodeElements } from './codec.js';
import { WeightFileError } from './errors.js';
import { StorageType, TensorRef, unpickle, type PickleValue } from './pickle.js';
import { gatherStrided, lastIndex } from './strided.js';
import { DTYPE_BYTES, numel, type DType, type StateDict, type TensorData } from './types.js';
import { looksLikeZip, readZip } from './zip.js';

export interface TorchReadOptions {
  /**
   * Checkpoint key holding the state dict. By default the top level is used when it
   * holds tensors, else the first of `state_dict`, `model_state_dict`, `model`
   * (fastai's `learn.save`), `module`, `net` that does.
   */
  key?: string;
}

const CHECKPOINT_KEYS = ['state_dict', 'model_state_dict', 'model', 'module', 'net'];

/**
 * A view with stride 0 (an expanded tensor) holds more elements than its storage, so a
 * 4-byte storage can describe a view of billions of elements. Making such views dense is
 * allowed up to this many bytes per file; past it the file is refused before allocating.
 */
export const MAX_EXPANDED_BYTES = 64 * 2 ** 20;

interface Storage { dtype: DType; data: TensorData; numel: number }

/** Parses torch.save bytes into a state dict, non-tensor entries left out; `file` names the source in errors. */
export function parseTorch(bytes: Uint8Array, file = '<buffer>', options: TorchReadOptions = {}): StateDict {
  const fail = (msg: string): never => { throw new WeightFileError(file, msg); };
  if (!looksLikeZip(bytes)) {
    // The pre-1.6 format is a bare pickle stream (protocol 2 opcode first).
    if (bytes[0] === 0x80) fail('unsupported legacy format: re-save with torch.save(..., _use_new_zipfile_serialization=True)');
    fail('not a PyTorch checkpoint (expected a zip archive from torch.save)');
  }
  const zip = readZip(bytes, file);
  const pkl = [...zip.entries.keys()].find((name) => /^[^/]+\/data\.pkl$/.test(name));
  if (!pkl) return fail('zip has no <archive>/data.pkl: not a torch.save checkpoint');
  const prefix = pkl.slice(0, -'data.pkl'.length);
  // torch >= 2.1 records the writer's byte order; older archives are little-endian.
  const byteorderEntry = zip.entries.has(`${prefix}byteorder`) ? new TextDecoder().decode(zip.read(`${prefix}byteorder`)).trim() : 'little';
  if (byteorderEntry !== 'little' && byteorderEntry !== 'big') fail(`unknown byteorder '${byteorderEntry}'`);

  const root = unpickle(zip.read(pkl), {
    file,
    // Storages are only described here and decoded on first use (see `storages` below),
    // so an optimizer state next to the weights costs nothing.
    persistentLoad: (pid) => {
      if (!Array.isArray(pid) || pid[0] !== 'storage' || pid.length < 5) fail(`unexpected persistent id ${JSON.stringify(pid)}`);
      const [, type, key, , count] = pid as PickleValue[];
      if (!(type instanceof StorageType)) return fail(`persistent id names ${String(type)}, not a storage type`);
      if (typeof key !== 'string' || !Number.isSafeInteger(count) || (count as number) < 0) fail(`malformed storage id for key ${String(key)}`);
      return pid;
    },
  });

  const dict = selectStateDict(root, options.key, fail);
  const storages = new Map<string, Storage>();
  const loadStorage = (pid: readonly PickleValue[], tensor: string): Storage => {
    const [, type, key, , count] = pid as [string, StorageType, string, string, number];
    const cached = storages.get(key);
    if (cached) return cached;
    if (!type.dtype) return fail(`tensor '${tensor}': unsupported storage type ${type.name}`);
    const name = `${prefix}data/${key}`;
    if (!zip.entries.has(name)) fail(`tensor '${tensor}': storage '${key}' is missing from the archive (${name})`);
    const raw = zip.read(name);
    const need = count * DTYPE_BYTES[type.dtype];
    if (raw.byteLength < need) {
      fail(`tensor '${tensor}': storage '${key}' holds ${raw.byteLength} bytes, but the pickle declares ${count} ${type.dtype} elements (${need} bytes)`);
    }
    const storage = { dtype: type.dtype, data: decodeElements(type.dtype, raw.subarray(0, need), byteorderEntry === 'little'), numel: count };
    storages.set(key, storage);
    return storage;
  };

  const out: StateDict = new Map();
  let expandedBytes = 0;
  for (const [name, value] of dict) {
    if (typeof name !== 'string' || !(value instanceof TensorRef)) continue;
    if (!Array.isArray(value.storage)) fail(`tensor '${name}' has no storage`);
    const storage = loadStorage(value.storage as readonly PickleValue[], name);
    const last = lastIndex(value.offset, value.shape, value.stride);
    if (last >= storage.numel) {
      fail(`tensor '${name}' (shape ${JSON.stringify(value.shape)}, stride ${JSON.stringify(value.stride)}, offset ${value.offset}) ` +
        `reaches element ${last} of its storage, which holds ${storage.numel}: the storage is too short`);
    }
    const count = numel(value.shape);
    if (count > storage.numel) {
      expandedBytes += count * DTYPE_BYTES[storage.dtype];
      if (expandedBytes > MAX_EXPANDED_BYTES) {
        fail(`tensor '${name}' is an expanded view of ${count} elements over a storage of ${storage.numel}, ` +
          `past the ${MAX_EXPANDED_BYTES / 2 ** 20} MiB allowed for expanded views: save it with .contiguous() first`);
      }
    }
    out.set(name, { dtype: storage.dtype, shape: [...value.shape], data: gatherStrided(storage.data, value.offset, value.shape, value.stride) });
  }
  return out;
}

function selectStateDict(root: PickleValue, key: string | undefined, fail: (msg: string) => never): Map<PickleValue, PickleValue> {
  if (!(root instanceof Map)) return fail(`top level is a ${root instanceof TensorRef ? 'single tensor' : typeof root}, not a dict of tensors`);
  const hasTensors = (v: PickleValue | undefined): boolean =>
    v instanceof Map && [...v.values()].some((t) => t instanceof TensorRef);
  if (key !== undefined) {
    const v = root.get(key);
    if (!hasTensors(v)) fail(`checkpoint key '${key}' is not a dict of tensors`);
    return v as Map<PickleValue, PickleValue>;
  }
  if (hasTensors(root)) return root;
  for (const k of CHECKPOINT_KEYS) {
    const v = root.get(k);
    if (hasTensors(v)) return v as Map<PickleValue, PickleValue>;
  }
  const keys = [...root.keys()].map((k) => JSON.stringify(k)).join(', ');
  return fail(`no state dict found: top-level keys are [${keys}]; pass { key } to choose one`);
}
