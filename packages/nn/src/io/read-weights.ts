// One entry point for "load these weights, whatever the file": picks the reader by
// content (zip magic, safetensors header) or name (model.json), and returns PyTorch
// names and layouts in every case, so callers such as `tessera convert` need no
// per-format code. This part works on bytes; the Node entry adds the file readers.

import { WeightFileError } from './errors.js';
import { parseSafetensors } from './safetensors.js';
import { parseTorch } from './torch.js';
import type { StateDict } from './types.js';
import { looksLikeZip } from './zip.js';

export type WeightFormat = 'safetensors' | 'torch' | 'tfjs';

/**
 * Identifies a weight file's format from its first bytes (at least 9) and, for TF.js,
 * its name; `file` names the source (and ending in .json means a TF.js model.json).
 */
export function detectWeightFormatOf(head: Uint8Array, file = '<buffer>'): WeightFormat {
  if (file.endsWith('.json')) return 'tfjs';
  if (looksLikeZip(head)) return 'torch';
  if (head[0] === 0x80) return 'torch'; // legacy torch pickle: parseTorch explains how to re-save it
  // safetensors: an 8-byte length, then the JSON header's opening brace.
  if (head[8] === 0x7b) return 'safetensors';
  throw new WeightFileError(file, 'unrecognised weight format (expected safetensors, a torch.save zip, or a TF.js model.json)');
}

/**
 * Parses a single-file weight format (safetensors or torch.save) as a PyTorch-named,
 * PyTorch-layout state dict. TF.js models come with shards: see parseTfjsModel.
 */
export function parseStateDict(bytes: Uint8Array, file = '<buffer>'): StateDict {
  const format = detectWeightFormatOf(bytes, file);
  if (format === 'safetensors') return parseSafetensors(bytes, file).tensors;
  if (format === 'torch') return parseTorch(bytes, file);
  throw new WeightFileError(file, 'a TF.js model.json needs its weight shards: use parseTfjsModel');
}
