/**
 * Weight files on disk: the Node-only side of ../io. Each reader reads the bytes and hands
 * them to the in-memory parser; each writer streams the serializer's chunks to a file
 * written atomically.
 */
import { open, readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize, sep } from 'node:path';
import {
  WeightFileError, detectWeightFormatOf, kerasToTorch, parseSafetensors, parseStateDict, parseTfjsModel, parseTorch,
  safetensorsChunks, tfjsShardPaths, type Safetensors, type StateDict, type TfjsModel, type TorchReadOptions,
  type WeightFormat,
} from '../io/index.js';
import { writeChunksAtomic } from './atomic-write.js';

/** Reads a .safetensors file. */
export async function readSafetensors(path: string): Promise<Safetensors> {
  return parseSafetensors(await readFile(path), path);
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
  return parseTorch(await readFile(path), path, options);
}

/** Reads model.json and its weight shards (resolved relative to model.json). */
export async function readTfjsModel(modelJsonPath: string): Promise<TfjsModel> {
  let text: string;
  try {
    text = await readFile(modelJsonPath, 'utf8');
  } catch (err) {
    throw new WeightFileError(modelJsonPath, `cannot read model.json: ${(err as Error).message}`);
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
      shards.set(p, await readFile(path));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new WeightFileError(path, code === 'ENOENT'
        ? `weight shard is missing (listed in group ${group} of ${join(folder, 'model.json')})`
        : `cannot read weight shard: ${(err as Error).message}`);
    }
  }
  return parseTfjsModel(text, shards, modelJsonPath);
}

/** Identifies a weight file's format from its first bytes (and, for TF.js, its name). */
export async function detectWeightFormat(path: string): Promise<WeightFormat> {
  if (path.endsWith('.json')) return 'tfjs';
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
  return parseStateDict(await readFile(path), path);
}
