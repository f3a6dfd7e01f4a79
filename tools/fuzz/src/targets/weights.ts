/**
 * Weight-file targets: safetensors, the zip reader, the pickle subset, torch.save archives,
 * TF.js model.json + shards (with the Keras → PyTorch layout step that follows in every
 * caller). Their own error is WeightFileError, whose message starts with the file's name.
 * Budget: readers copy the data once or twice (decode, f16 → f32 doubles it, a strided view
 * is gathered), so 16 bytes per input byte plus 1 MiB; anything a header merely *claims*
 * beyond that is an allocation driven by a lying length field.
 */

import { io } from '@tessera/nn';
import { MAX_EXPANDED_BYTES } from '../../../../packages/nn/src/io/torch.js';
import { fixZipCrcs, pickleSeeds, safetensorsSeeds, torchSeeds, tfjsSeeds, zipSeeds } from '../seeds/weights.js';
import { inputSize, MiB, type Target } from '../target.js';

const isWeightError = (err: unknown) => err instanceof io.WeightFileError;
const weightBudget = (parts: Uint8Array[]) => 16 * inputSize(parts) + MiB;

/** Every tensor's data holds exactly numel(shape) elements of sane sizes. */
function checkStateDict(sd: io.StateDict): string | null {
  for (const [name, t] of sd) {
    if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) return `tensor '${name}' has shape ${JSON.stringify(t.shape)}`;
    if (t.data.length !== io.numel(t.shape)) return `tensor '${name}' ${JSON.stringify(t.shape)} holds ${t.data.length} elements`;
  }
  return null;
}

export const safetensorsTarget: Target = {
  name: 'safetensors',
  description: 'parseSafetensors: header length, JSON header, dtypes, shapes, offsets, overlaps',
  partNames: ['weights.safetensors'],
  seeds: async () => safetensorsSeeds(),
  run: (parts, label) => io.parseSafetensors(parts[0]!, label),
  isOwnError: isWeightError,
  checkResult: (r) => checkStateDict((r as io.Safetensors).tensors),
  budget: weightBudget,
};

export const zipTarget: Target = {
  name: 'zip',
  description: 'readZip and read() of every entry: end records, zip64, central directory, local headers, inflate, CRC',
  partNames: ['archive.zip'],
  seeds: async () => zipSeeds(),
  repair: fixZipCrcs,
  run: (parts, label) => {
    const zip = io.readZip(parts[0]!, label);
    return [...zip.entries.keys()].map((name) => zip.read(name).byteLength);
  },
  isOwnError: isWeightError,
  budget: weightBudget,
};

export const pickleTarget: Target = {
  name: 'pickle',
  description: 'unpickle (the safe subset torch.save uses) with a persistent-id loader that returns the id',
  partNames: ['data.pkl'],
  seeds: async () => pickleSeeds(),
  run: (parts, label) => io.unpickle(parts[0]!, { file: label, persistentLoad: (pid) => pid }),
  isOwnError: isWeightError,
  budget: weightBudget,
};

export const torchTarget: Target = {
  name: 'torch',
  description: 'parseTorch (.pth): zip, data.pkl, byteorder, storages, strided views',
  partNames: ['model.pth'],
  seeds: async () => torchSeeds(),
  repair: fixZipCrcs,
  run: (parts, label) => io.parseTorch(parts[0]!, label),
  isOwnError: isWeightError,
  checkResult: (r) => checkStateDict(r as io.StateDict),
  // Plus the reader's checked limit for expanded (stride-0) views.
  budget: (parts) => weightBudget(parts) + MAX_EXPANDED_BYTES,
};

export const tfjsTarget: Target = {
  name: 'tfjs',
  description: 'tfjsShardPaths + parseTfjsModel + kerasToTorch on model.json text and its shards (shard i = the i-th path the manifest lists)',
  partNames: ['model.json', 'shards...'],
  seeds: async () => tfjsSeeds(),
  run: (parts, label) => {
    // As a caller does: the manifest says which shard files to fetch, in order.
    const text = new TextDecoder().decode(parts[0]!);
    const paths = io.tfjsShardPaths(text, label).map((s) => s.path);
    const shards = (path: string) => { const i = paths.indexOf(path); return i < 0 ? undefined : parts[1 + i]; };
    return io.kerasToTorch(io.parseTfjsModel(text, shards, label));
  },
  isOwnError: isWeightError,
  checkResult: (r) => checkStateDict(r as io.StateDict),
  budget: weightBudget,
};
