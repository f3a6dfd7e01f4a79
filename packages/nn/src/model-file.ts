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
import { bodyLayers, createVisionModel } from './models/vision-model.js';
import { exportStateDict, loadStateDict } from './weights.js';
import {
  kerasToTorch, parseSafetensors, parseTfjsModel, safetensorsChunks, serializeSafetensors, toFloat32,
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

/**
 * A model file's architecture: one Tessera builds, or 'graph' — an imported network (ONNX)
 * whose structure travels in the file (`ModelMeta.graph`) and which the package that
 * registered `registerGraphModels` (@tessera/onnx) rebuilds.
 */
export type ModelArch = Arch | 'graph';

export interface ModelMeta {
  arch: ModelArch;
  /** For arch 'graph': the structure (@tessera/onnx's encoding); the weights are the file's tensors. */
  graph?: string;
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

/** Builds an imported network from a model file's `graph` (kind and classes as in `meta`). */
export type GraphModelBuilder = (meta: ModelMeta) => Module;
let graphModels: GraphModelBuilder | null = null;

/** Lets a model file with arch 'graph' be rebuilt (@tessera/onnx registers itself when loaded). */
export function registerGraphModels(builder: GraphModelBuilder): void {
  graphModels = builder;
}

export function buildModel(meta: ModelMeta): Module {
  if (meta.arch === 'graph') {
    if (!graphModels) throw new TesseraError(`this model file holds an imported (ONNX) network; load @tessera/onnx to read it`);
    return graphModels(meta);
  }
  if (meta.kind === 'classifier') return createNetwork(meta.arch, meta.classes.length);
  return createVisionModel(createNetwork(meta.arch), meta.classes.length);
}

/** The safetensors metadata of a model file. */
export function encodeMeta(meta: ModelMeta): Record<string, string> {
  return {
    format: 'tessera-model-1',
    layout: 'pytorch',
    arch: meta.arch,
    ...(meta.graph ? { graph: meta.graph } : {}),
    kind: meta.kind,
    classes: JSON.stringify(meta.classes),
    preprocess: JSON.stringify(meta.preprocess),
  };
}

/** The largest input size a model file may ask for (ImageNet models use 224; 4096² is already 200 MB a batch). */
export const MAX_MODEL_INPUT_SIZE = 4096;

export function decodeMeta(md: Record<string, string>, file: string): ModelMeta {
  if (md.format !== 'tessera-model-1') {
    throw new TesseraError(
      `${file} is not a Tessera model file (no 'tessera-model-1' metadata); convert weights first with 'pnpm convert <in> <out.safetensors> --arch NAME'`,
    );
  }
  let meta: ModelMeta;
  try {
    meta = {
      arch: md.arch === 'graph' ? 'graph' : checkArch(md.arch ?? ''),
      ...(md.arch === 'graph' ? { graph: md.graph ?? '' } : {}),
      kind: md.kind === 'vision' ? 'vision' : 'classifier',
      classes: JSON.parse(md.classes ?? '[]') as string[],
      preprocess: JSON.parse(md.preprocess ?? '{}') as Preprocess,
    };
  } catch (e) {
    throw new TesseraError(`${file}: unreadable model metadata (${(e as Error).message})`);
  }
  // Checked here, so that a hostile or garbled file fails with its name instead of deep in a resize.
  const bad = (what: string) => new TesseraError(`${file}: unreadable model metadata: ${what}`);
  const c = meta.classes;
  if (!Array.isArray(c) || c.length === 0 || !c.every((x) => typeof x === 'string')) throw bad('classes must be a non-empty list of names');
  const p = meta.preprocess as Partial<Preprocess> | null;
  const size = p?.size;
  if (typeof size !== 'number' || !Number.isInteger(size) || size < 1 || size > MAX_MODEL_INPUT_SIZE) {
    throw bad(`preprocess.size is ${JSON.stringify(size)}; it must be a whole number of pixels from 1 to ${MAX_MODEL_INPUT_SIZE}`);
  }
  if (p!.normalize !== 'imagenet' && p!.normalize !== 'none') throw bad(`preprocess.normalize is ${JSON.stringify(p!.normalize)}; expected 'imagenet' or 'none'`);
  if (p!.resize !== 'crop' && p!.resize !== 'align-corners') throw bad(`preprocess.resize is ${JSON.stringify(p!.resize)}; expected 'crop' or 'align-corners'`);
  return meta;
}

/**
 * Says what a file that is not a safetensors model file is, when its first bytes tell: a PyTorch
 * .pth (a zip or a legacy pickle) or a TF.js model.json. Null when it may be safetensors.
 */
export function foreignModelFormat(bytes: Uint8Array, name: string): string | null {
  const zip = bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
  if (zip || bytes[0] === 0x80) return 'a PyTorch checkpoint (torch.save)';
  let i = 0;
  while (i < bytes.length && i < 64 && (bytes[i] === 0x20 || bytes[i] === 0x0a || bytes[i] === 0x0d || bytes[i] === 0x09)) i++;
  if (bytes[i] === 0x7b || name.endsWith('.json')) return 'a TF.js model (model.json)';
  return null;
}

/** Counts NaN and ±Inf values in a model's float tensors (a diverged run's weights). */
function countNonFinite(tensors: StateDict): { bad: number; total: number; key: string | null } {
  let bad = 0;
  let total = 0;
  let key: string | null = null;
  for (const [k, t] of tensors) {
    if (t.dtype !== 'f32' && t.dtype !== 'f16' && t.dtype !== 'bf16' && t.dtype !== 'f64') continue;
    const v = toFloat32(t);
    total += v.length;
    for (let i = 0; i < v.length; i++) {
      if (!Number.isFinite(v[i]!)) {
        bad++;
        key ??= k;
      }
    }
  }
  return { bad, total, key };
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
  const foreign = foreignModelFormat(bytes, name);
  if (foreign) {
    throw new TesseraError(
      `${name} is ${foreign}, not a Tessera model file: convert it first with 'pnpm convert ${name} model.safetensors --arch NAME [--labels FILE]'`,
    );
  }
  const { tensors, metadata } = parseSafetensors(bytes, name);
  const meta = decodeMeta(metadata, name);
  const nonFinite = countNonFinite(tensors);
  if (nonFinite.bad) {
    throw new TesseraError(
      `${name}: ${nonFinite.bad} of ${nonFinite.total} weights are NaN or infinite (first in '${nonFinite.key}'): ` +
        'the training that wrote it diverged; train again with a lower --lr (tessera lr-find suggests one)',
    );
  }
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

/**
 * The body of a vision model file (`kind: 'vision'`, what `tessera train` writes: keys
 * `0.<i>.…` for body layer i, `1.…` for fastai's head) under the network's own names, so it
 * can seed a new fine-tuning; the head is left out. Keys that name no body layer are kept
 * as they are, for loadPretrained to report.
 */
export function visionBodyAsNetwork(net: ResNet | DarknetTiny, sd: StateDict): StateDict {
  const paths = new Map(net.namedModules().map(([path, m]) => [m, path]));
  const prefixes = bodyLayers(net).map((m) => paths.get(m));
  const out: StateDict = new Map();
  for (const [key, t] of sd) {
    if (key.startsWith('1.')) continue;
    const m = /^0\.(\d+)\.(.+)$/.exec(key);
    const prefix = m ? prefixes[Number(m[1])] : undefined;
    out.set(m && prefix ? `${prefix}.${m[2]}` : key, t);
  }
  return out;
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
