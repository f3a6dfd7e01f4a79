// Reads TF.js layers models: model.json holds a Keras topology and a weightsManifest
// of groups, each group's weights packed back to back across its shard files (in
// `paths` order). Returns the weights under their TF.js names plus the layer list, so a
// model builder can map Keras layers and layouts (see keras-layout.ts) onto its own.
// Everything here works on bytes already in memory (a browser's files, a fetch); the
// Node entry's readTfjsModel reads model.json and its shards from a folder.

import { concatBytes } from './bytes.js';
import { decodeElements } from './codec.js';
import { WeightFileError } from './errors.js';
import { f16ToF32 } from './half.js';
import { numel, type DType, type RawTensor, type StateDict } from './types.js';

/** One Keras layer from the topology. */
export interface KerasLayer {
  name: string;
  /** Keras class, e.g. "Conv2D", "BatchNormalization", "Dense". */
  className: string;
  /** The layer's Keras config (filters, kernel_size, epsilon, ...), as stored. */
  config: Record<string, unknown>;
  /** Functional-model wiring, as stored (absent for Sequential models). */
  inboundNodes?: unknown;
}

export interface TfjsModel {
  /** The model.json path, for error messages. */
  source: string;
  /** Weights by TF.js name ("conv2d_1/kernel"), in Keras layouts (HWIO kernels, [in,out] dense). */
  weights: StateDict;
  layers: KerasLayer[];
  /** The top-level Keras class ("Model", "Sequential", "Functional"). */
  modelClass: string;
  kerasVersion?: string;
  /** The raw modelTopology, for anything the fields above leave out. */
  topology: Record<string, unknown>;
}

interface ManifestWeight {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string; scale?: number; min?: number; original_dtype?: string };
}

const TFJS_DTYPES: Record<string, DType> = { float32: 'f32', int32: 'i32', bool: 'bool' };
const QUANT_BYTES: Record<string, number> = { uint8: 1, uint16: 2, float16: 2 };

/** Where a model's weight shards come from: by manifest path ("group1-shard1of1"). */
export type TfjsShards = ReadonlyMap<string, Uint8Array> | ((path: string) => Uint8Array | undefined);

/** One shard named by the manifest: its group and its path as written there. */
export interface TfjsShardRef {
  group: number;
  path: string;
}

type Fail = (msg: string) => never;

interface Manifest {
  json: Record<string, unknown>;
  topology: Record<string, unknown>;
  groups: { paths: string[]; weights: unknown[] }[];
}

function readManifest(modelJson: string | object, fail: Fail): Manifest {
  let json: unknown = modelJson;
  if (typeof modelJson === 'string') {
    try {
      json = JSON.parse(modelJson);
    } catch (err) {
      return fail(`model.json is not valid JSON: ${(err as Error).message}`);
    }
  }
  if (!isObject(json)) return fail('model.json is not a JSON object');
  if (json['format'] === 'graph-model') fail('this is a TF.js graph model; only layers models (Keras topology) are supported');
  const topology = json['modelTopology'];
  if (!isObject(topology)) return fail('model.json has no modelTopology');
  const manifest = json['weightsManifest'];
  if (!Array.isArray(manifest)) return fail('model.json has no weightsManifest list');
  const groups = manifest.map((group, g) => {
    if (!isObject(group) || !Array.isArray(group['paths']) || !Array.isArray(group['weights'])) {
      return fail(`weightsManifest group ${g} needs "paths" and "weights" lists`);
    }
    for (const p of group['paths'] as unknown[]) if (typeof p !== 'string') fail(`group ${g} has a non-string path`);
    return { paths: group['paths'] as string[], weights: group['weights'] as unknown[] };
  });
  return { json, topology, groups };
}

/** The shard files a model.json lists, in reading order (what a caller must supply to parseTfjsModel). */
export function tfjsShardPaths(modelJson: string | object, source = 'model.json'): TfjsShardRef[] {
  const fail = (msg: string): never => { throw new WeightFileError(source, msg); };
  return readManifest(modelJson, fail).groups.flatMap((group, g) => group.paths.map((path) => ({ group: g, path })));
}

/**
 * Parses a TF.js layers model from its model.json (text or parsed) and its weight shards
 * (by manifest path); `source` names the model in errors.
 */
export function parseTfjsModel(modelJson: string | object, shards: TfjsShards, source = 'model.json'): TfjsModel {
  const fail = (msg: string): never => { throw new WeightFileError(source, msg); };
  const { topology, groups } = readManifest(modelJson, fail);
  const { modelClass, layers } = parseTopology(topology, fail);
  const shardOf = typeof shards === 'function' ? shards : (path: string) => shards.get(path);
  const weights: StateDict = new Map();
  for (const [g, group] of groups.entries()) {
    const parts = group.paths.map((path) => shardOf(path) ?? fail(`weight shard '${path}' (group ${g}) is missing`));
    const buffer = parts.length === 1 ? parts[0]! : concatBytes(parts);
    let offset = 0;
    for (const w of group.weights) {
      const spec = checkWeight(w, g, fail);
      const { tensor, bytes } = decodeWeight(spec, buffer, offset, g, fail);
      if (weights.has(spec.name)) fail(`weight '${spec.name}' appears twice in the manifest`);
      weights.set(spec.name, tensor);
      offset += bytes;
    }
    if (offset !== buffer.byteLength) {
      fail(`group ${g} shards hold ${buffer.byteLength} bytes but its weights use ${offset}: manifest and shards disagree`);
    }
  }
  return { source, weights, layers, modelClass, kerasVersion: strOrUndefined(topology['keras_version']), topology };
}

// Keras saves either {model_config: {class_name, config}} (converted from .h5) or
// {class_name, config} directly (tfjs-layers' own save); Sequential configs in old Keras
// are a bare list of layers.
function parseTopology(topology: Record<string, unknown>, fail: Fail): { modelClass: string; layers: KerasLayer[] } {
  const model = isObject(topology['model_config']) ? topology['model_config'] : topology;
  const modelClass = strOrUndefined(model['class_name']) ?? fail('modelTopology has no class_name');
  const config = model['config'];
  const rawLayers = Array.isArray(config) ? config : isObject(config) && Array.isArray(config['layers']) ? config['layers'] : undefined;
  if (!rawLayers) return fail('modelTopology has no layer list');
  const layers = rawLayers.map((raw, i): KerasLayer => {
    if (!isObject(raw) || !isObject(raw['config']) || typeof raw['class_name'] !== 'string') fail(`layer ${i} needs class_name and config`);
    const l = raw as Record<string, unknown>;
    const cfg = l['config'] as Record<string, unknown>;
    const name = strOrUndefined(l['name']) ?? strOrUndefined(cfg['name']) ?? fail(`layer ${i} has no name`);
    const layer: KerasLayer = { name, className: l['class_name'] as string, config: cfg };
    if (l['inbound_nodes'] !== undefined) layer.inboundNodes = l['inbound_nodes'];
    return layer;
  });
  return { modelClass, layers };
}

function checkWeight(w: unknown, g: number, fail: (msg: string) => never): ManifestWeight {
  if (!isObject(w) || typeof w['name'] !== 'string' || typeof w['dtype'] !== 'string' || !Array.isArray(w['shape']) ||
      !w['shape'].every((d) => Number.isSafeInteger(d) && d >= 0)) {
    return fail(`group ${g} has a weight entry without a valid name/shape/dtype: ${JSON.stringify(w)}`);
  }
  return w as unknown as ManifestWeight;
}

function decodeWeight(w: ManifestWeight, buffer: Uint8Array, offset: number, g: number, fail: (msg: string) => never): { tensor: RawTensor; bytes: number } {
  const count = numel(w.shape);
  const where = `weight '${w.name}' (group ${g})`;
  const q = w.quantization;
  const dtype = TFJS_DTYPES[q?.original_dtype ?? w.dtype];
  if (!dtype) return fail(`${where}: unsupported dtype ${q?.original_dtype ?? w.dtype}`);
  const itemBytes = q ? QUANT_BYTES[q.dtype] : dtype === 'bool' ? 1 : 4;
  if (!itemBytes) return fail(`${where}: unsupported quantization dtype ${q!.dtype}`);
  const bytes = count * itemBytes;
  if (offset + bytes > buffer.byteLength) {
    fail(`${where} needs bytes ${offset}..${offset + bytes} but the group's shards hold only ${buffer.byteLength}`);
  }
  const slice = buffer.subarray(offset, offset + bytes);
  if (!q) return { tensor: { dtype, shape: [...w.shape], data: decodeElements(dtype, slice) }, bytes };

  // Quantised weights: float16 is a plain narrowing; uint8/uint16 are affine (q*scale + min).
  let values: Float32Array;
  if (q.dtype === 'float16') {
    values = f16ToF32(new Uint16Array(new Uint8Array(slice).buffer));
  } else {
    if (typeof q.scale !== 'number' || typeof q.min !== 'number') return fail(`${where}: ${q.dtype} quantization needs scale and min`);
    const ints = q.dtype === 'uint8' ? slice : new Uint16Array(new Uint8Array(slice).buffer);
    values = new Float32Array(count);
    for (let i = 0; i < count; i++) values[i] = ints[i]! * q.scale + q.min;
  }
  const data = dtype === 'f32' ? values : dtype === 'i32' ? Int32Array.from(values, Math.round) : Uint8Array.from(values, (v) => (v ? 1 : 0));
  return { tensor: { dtype, shape: [...w.shape], data }, bytes };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function strOrUndefined(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}
