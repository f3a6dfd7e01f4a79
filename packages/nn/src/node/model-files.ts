/**
 * Model files on disk: the same bytes as modelToBytes / modelFromBytes, written atomically
 * and read back.
 */
import { readFileChecked } from '@tessera/tensor/node';
import type { StateDict } from '../io/index.js';
import { modelFromBytes, stateDictModelChunks, type ModelMeta } from '../model-file.js';
import type { Module } from '../module.js';
import { exportStateDict } from '../weights.js';
import { writeChunksAtomic } from './atomic-write.js';

export async function saveModel(path: string, model: Module, meta: ModelMeta): Promise<void> {
  await saveStateDictAsModel(path, await exportStateDict(model), meta);
}

/** Writes a PyTorch-layout state dict (e.g. converted weights) as a model file. */
export async function saveStateDictAsModel(path: string, sd: StateDict, meta: ModelMeta): Promise<void> {
  await writeChunksAtomic(path, stateDictModelChunks(sd, meta));
}

export async function loadModel(path: string): Promise<{ model: Module; meta: ModelMeta }> {
  return modelFromBytes(await readFileChecked(path, { what: 'model file' }), path);
}
