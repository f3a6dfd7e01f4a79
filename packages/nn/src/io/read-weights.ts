// One entry point for "load these weights, whatever the file": picks the reader by
// content (zip magic, safetensors header) or name (model.json), and returns PyTorch
// names and layouts in every case, so callers such as `tessera convert` need no
// per-format code.

import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import { WeightFileError } from './errors.js';
import { kerasToTorch } from './keras-layout.js';
import { readSafetensors } from './safetensors.js';
import { readTfjsModel } from './tfjs.js';
import { readTorch } from './torch.js';
import type { StateDict } from './types.js';

export type WeightFormat = 'safetensors' | 'torch' | 'tfjs';

/** Identifies a weight file's format from its first bytes (and, for TF.js, its name). */
export async function detectWeightFormat(path: string): Promise<WeightFormat> {
  if (basename(path).endsWith('.json')) return 'tfjs';
  const handle = await open(path, 'r');
  const head = Buffer.alloc(9);
  try {
    await handle.read(head, 0, 9, 0);
  } finally {
    await handle.close();
  }
  if (head.readUInt32LE(0) === 0x04034b50) return 'torch';
  if (head[0] === 0x80) return 'torch'; // legacy torch pickle: readTorch explains how to re-save it
  // safetensors: an 8-byte length, then the JSON header's opening brace.
  if (head[8] === 0x7b) return 'safetensors';
  throw new WeightFileError(path, 'unrecognised weight format (expected safetensors, a torch.save zip, or a TF.js model.json)');
}

/** Reads any supported weight file as a PyTorch-named, PyTorch-layout state dict. */
export async function readStateDict(path: string): Promise<StateDict> {
  switch (await detectWeightFormat(path)) {
    case 'safetensors': return (await readSafetensors(path)).tensors;
    case 'torch': return readTorch(path);
    case 'tfjs': return kerasToTorch(await readTfjsModel(path));
  }
}
