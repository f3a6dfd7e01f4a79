/**
 * Model files: a safetensors file (PyTorch names and layouts) whose metadata says
 * how to rebuild and feed the model — architecture, whether it carries fastai's
 * head, class names, input size and preprocessing. `modelToBytes` / `modelFromBytes`
 * make and read them in memory (a browser download or upload); the Node entry's
 * `saveModel` / `loadModel` write and read the same bytes as files.
 */
import { TesseraError } from '@tessera/tensor';
import type { Module } from './module.js';
import { ResNet, type ResNetArch } from './models/resnet.js';
import { DarknetTiny } from './models/darknet.js';
import { createVisionModel } from './models/vision-model.js';
import { exportStateDict, loadStateDict } from './weights.js';
import {
  kerasToTorch, parseSafetensors, parseTfjsModel, safetensorsChunks, serializeSafetensors,
  type StateDict, type TfjsShards,
} from './io/index.js';
import { darknetKeysFromKeras } from './models/darknet-keys.js';

export type Arch = ResNetArch | 'darknet-tiny';
export const ARCHS: readonly Arch[] = ['resnet18', 'resnet34', 'resnet50', 'darknet-tiny'];

/** How images must be prepared for the model. */
export interface Preprocess {
  size: number;
  /** 'imagenet': subtract ImageNet mean / divide std; 'none': RGB in [0, 1]. */
  normalize: 'imagenet' | 'none';
  /** 'crop': resize the shorter side then centre-crop; 'align-corners': squash with align-corners bilinear. */
  resize: 'crop' | 'align-corners';
}

export interface ModelMeta {
  arch: Arch;
  /** 'classifier': the network as published (ImageNet head); 'vision': body + fastai's head. */
  kind: 'classifier' | 'vision';
  classes: string[];
  preprocess: Preprocess;
}

export function defaultPreprocess(arch: Arch): Preprocess {
  return arch === 'darknet-tiny'
    ? { size: 224, normalize: 'none', resize: 'align-corners' }
    : { size: 224, normalize: 'imagenet', resize: 'crop' };
}

export function checkArch(name: string): Arch {
  if (!(ARCHS as readonly string[]).includes(name)) {
    throw new TesseraError(`unknown architecture '${name}' (available: ${ARCHS.join(', ')})`);
  }
  return name as Arch;
}

/** The published network for an architecture, with `numClasses` outputs. */
export function createNetwork(arch: Arch, numClasses = 1000): ResNet | DarknetTiny {
  return arch === 'darknet-tiny' ? new DarknetTiny(numClasses) : new ResNet(arch, numClasses);
}

export function buildModel(meta: ModelMeta): Module {
  if (meta.kind === 'classifier') return createNetwork(meta.arch, meta.classes.length);
  return createVisionModel(createNetwork(meta.arch), meta.classes.length);
}

/** The safetensors metadata of a model file. */
export function encodeMeta(meta: ModelMeta): Record<string, string> {
  return {
    format: 'tessera-model-1',
    layout: 'pytorch',
    arch: meta.arch,
    kind: meta.kind,
    classes: JSON.stringify(meta.classes),
    preprocess: JSON.stringify(meta.preprocess),
  };
}

export function decodeMeta(md: Record<string, string>, file: string): ModelMeta {
  if (md.format !== 'tessera-model-1') {
    throw new TesseraError(
      `${file} is not a Tessera model file (no 'tessera-model-1' metadata); convert weights first with 'pnpm convert <in> <out.safetensors> --arch NAME'`,
    );
  }
  try {
    const meta: ModelMeta = {
      arch: checkArch(md.arch ?? ''),
      kind: md.kind === 'vision' ? 'vision' : 'classifier',
      classes: JSON.parse(md.classes ?? '[]') as string[],
      preprocess: JSON.parse(md.preprocess ?? '{}') as Preprocess,
    };
    checkMetaValues(meta);
    return meta;
  } catch (e) {
    throw new TesseraError(`${file}: unreadable model metadata (${(e as Error).message})`);
  }
}

/** The JSON values a file holds may be anything: throws unless they are what a model needs. */
function checkMetaValues({ classes, preprocess: p }: ModelMeta): void {
  if (!Array.isArray(classes) || classes.length === 0 || !classes.every((c) => typeof c === 'string')) {
    throw new Error(`classes must be a non-empty list of names, got ${JSON.stringify(classes)}`);
  }
  const ok = typeof p === 'object' && p !== null && Number.isSafeInteger(p.size) && p.size >= 1 &&
    (p.normalize === 'imagenet' || p.normalize === 'none') && (p.resize === 'crop' || p.resize === 'align-corners');
  if (!ok) throw new Error(`preprocess must be {size, normalize: imagenet|none, resize: crop|align-corners}, got ${JSON.stringify(p)}`);
}

/** A model file's bytes: the model's weights (read back from the GPU) with `meta`. */
export async function modelToBytes(model: Module, meta: ModelMeta): Promise<Uint8Array> {
  return serializeSafetensors(await exportStateDict(model), encodeMeta(meta));
}

/** A model file's bytes from a PyTorch-layout state dict (e.g. converted weights), as chunks to stream. */
export function stateDictModelChunks(sd: StateDict, meta: ModelMeta): Iterable<Uint8Array> {
  return safetensorsChunks(sd, encodeMeta(meta));
}

/** Rebuilds the model a model file describes and loads its weights strictly; `name` names the source in errors. */
export function modelFromBytes(bytes: Uint8Array, name = '<model bytes>'): { model: Module; meta: ModelMeta } {
  const { tensors, metadata } = parseSafetensors(bytes, name);
  const meta = decodeMeta(metadata, name);
  const model = buildModel(meta);
  try {
    loadStateDict(model, tensors, { source: name });
  } catch (err) {
    model.dispose(); // its GPU buffers would otherwise wait for the garbage collector
    throw err;
  }
  return { model, meta };
}

/**
 * ImageNet weights read from any format, keyed for `arch`'s network: the TF.js Tiny
 * Darknet's Keras names (conv2d_1…) become DarknetTiny's (features.0…).
 */
export function pretrainedKeys(arch: Arch, sd: StateDict): StateDict {
  return arch === 'darknet-tiny' && sd.has('conv2d_1.weight') ? darknetKeysFromKeras(sd) : sd;
}

/** The Tiny Darknet's state dict (DarknetTiny names, PyTorch layouts) from its TF.js model.json and shards. */
export function darknetTinyFromTfjs(modelJson: string | object, shards: TfjsShards, source = 'model.json'): StateDict {
  return darknetKeysFromKeras(kerasToTorch(parseTfjsModel(modelJson, shards, source)));
}

/**
 * Loads ImageNet weights (PyTorch names, see pretrainedKeys) into a freshly built
 * network. The classifier is left out, since fastai's head replaces it (and the class
 * count may differ); every other weight must be there with its shape, or this throws
 * a TesseraError saying how many did not fit.
 */
export function loadPretrained(net: ResNet | DarknetTiny, arch: Arch, weights: StateDict, source: string): void {
  const sd = new Map(pretrainedKeys(arch, weights));
  const head = arch === 'darknet-tiny' ? 'classifier.' : 'fc.';
  for (const k of [...sd.keys()]) if (k.startsWith(head)) sd.delete(k);
  const report = loadStateDict(net, sd, { strict: false, source });
  const missing = report.missing.filter((k) => !k.startsWith(head));
  if (missing.length || report.unexpected.length || report.wrongShape.length) {
    throw new TesseraError(
      `${source} does not hold ${arch} weights (${missing.length} missing, ${report.unexpected.length} unexpected, ` +
        `${report.wrongShape.length} of the wrong shape, e.g. ${[...missing, ...report.unexpected, ...report.wrongShape.map((w) => w.key)].slice(0, 3).join(', ')})`,
    );
  }
}
