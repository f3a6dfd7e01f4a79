/**
 * Weight files on disk: the Node-only side of ../io. Each reader reads the bytes and hands
 * them to the in-memory parser; each writer streams the serializer's chunks to a file
 * written atomically.
 */
import { open, stat } from 'node:fs/promises';
import { FileReadError, readFileChecked } from '@tessera/tensor/node';
import { dirname, isAbsolute, join, normalize, sep } from 'node:path';
import {
  WeightFileError, detectWeightFormatOf, kerasToTorch, parseSafetensors, parseStateDict, parseTfjsModel, parseTorch,
  safetensorsChunks, tfjsShardPaths, type Safetensors, type StateDict, type TfjsModel, type TorchReadOptions,
  type WeightFormat,
} from '../io/index.js';
import { writeChunksAtomic } from './atomic-write.js';

/** A TF.js model.json is a few hundred KiB of JSON; anything near this is not one. */
const MAX_MODEL_JSON_BYTES = 64 * 2 ** 20;

/**
 * A weight file's bytes: regular files only (never /dev/zero or a pipe), at most Node's 2 GiB,
 * refused by name before anything is read (see readFileChecked).
 */
export function readWeightBytes(path: string): Promise<Uint8Array> {
  return readFileChecked(path, { what: 'weight file' });
}

/** Reads a .safetensors file. */
export async function readSafetensors(path: string): Promise<Safetensors> {
  return parseSafetensors(await readWeightBytes(path), path);
}

/**
 * Writes a .safetensors file atomically (temporary file, flushed, renamed over `path`),
 * one tensor encoded at a time.
 */
export async function writeSafetensors(path: string, tensors: StateDict, metadata: Record<string, string> = {}): Promise<void> {
  // safetensorsChunks checks every tensor before the temporary file is created.
  await writeChunksAtomic(path, safetensorsChunks(tensors, metadata));
}

/** Reads a torch.save file and returns its state dict, non-tensor entries left out. */
export async function readTorch(path: string, options: TorchReadOptions = {}): Promise<StateDict> {
  return parseTorch(await readWeightBytes(path), path, options);
}

/** Reads model.json and its weight shards (resolved relative to model.json). */
export async function readTfjsModel(modelJsonPath: string): Promise<TfjsModel> {
  let text: string;
  try {
    text = new TextDecoder().decode(await readFileChecked(modelJsonPath, { what: 'model.json', maxBytes: MAX_MODEL_JSON_BYTES }));
  } catch (err) {
    throw new WeightFileError(modelJsonPath, err instanceof FileReadError ? err.reason : `cannot read model.json: ${(err as Error).message}`);
  }
  const folder = dirname(modelJsonPath);
  const shards = new Map<string, Uint8Array>();
  for (const { group, path: p } of tfjsShardPaths(text, modelJsonPath)) {
    const rel = normalize(p);
    // Shards live beside model.json; a manifest reaching elsewhere is malformed.
    if (isAbsolute(rel) || rel === '..' || rel.startsWith(`..${sep}`)) {
      throw new WeightFileError(modelJsonPath, `group ${group} shard path '${p}' leaves the model folder`);
    }
    const path = join(folder, rel);
    try {
      shards.set(p, await readWeightBytes(path));
    } catch (err) {
      const code = ((err as Error).cause as NodeJS.ErrnoException | undefined)?.code;
      throw new WeightFileError(path, code === 'ENOENT'
        ? `weight shard is missing (listed in group ${group} of ${join(folder, 'model.json')})`
        : `cannot read weight shard: ${err instanceof FileReadError ? err.reason : (err as Error).message}`);
    }
  }
  return parseTfjsModel(text, shards, modelJsonPath);
}

/** Identifies a weight file's format from its first bytes (and, for TF.js, its name). */
export async function detectWeightFormat(path: string): Promise<WeightFormat> {
  if (path.endsWith('.json')) return 'tfjs';
  // A folder opens fine on Linux and then fails the read with a bare EISDIR: say which one.
  if ((await stat(path).catch(() => null))?.isDirectory()) {
    throw new WeightFileError(path, 'is a folder, not a weight file; give the file inside it (a .pth, .safetensors, or model.json)');
  }
  const handle = await open(path, 'r');
  const head = new Uint8Array(9);
  try {
    await handle.read(head, 0, 9, 0);
  } finally {
    await handle.close();
  }
  return detectWeightFormatOf(head, path);
}

/** Reads any supported weight file as a PyTorch-named, PyTorch-layout state dict. */
export async function readStateDict(path: string): Promise<StateDict> {
  if ((await detectWeightFormat(path)) === 'tfjs') return kerasToTorch(await readTfjsModel(path));
  return parseStateDict(await readWeightBytes(path), path);
}
