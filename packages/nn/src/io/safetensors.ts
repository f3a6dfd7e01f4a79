// safetensors read/write: an 8-byte little-endian header length, a JSON header
// ({name: {dtype, shape, data_offsets}}, optional "__metadata__" string map), then raw
// little-endian tensor bytes. It is Tessera's own checkpoint format, so the reader
// trusts nothing: every offset and size is checked before a byte is decoded.

import { concatBytes } from './bytes.js';
import { decodeElements, encodeElements } from './codec.js';
import { WeightFileError } from './errors.js';
import { DTYPE_BYTES, numel, type DType, type StateDict } from './types.js';

export interface Safetensors {
  tensors: StateDict;
  /** The header's `__metadata__` (free-form strings), `{}` when absent. */
  metadata: Record<string, string>;
}

const TO_FILE_DTYPE: Record<DType, string> = {
  f64: 'F64', f32: 'F32', f16: 'F16', bf16: 'BF16', i64: 'I64', i32: 'I32', i16: 'I16', i8: 'I8', u8: 'U8', bool: 'BOOL',
};
const FROM_FILE_DTYPE = new Map(Object.entries(TO_FILE_DTYPE).map(([k, v]) => [v, k as DType]));

// The reference implementation refuses headers above 100 MB; so do we, so that a
// corrupt length cannot make us allocate gigabytes before failing.
const MAX_HEADER_BYTES = 100_000_000;

/** Parses safetensors bytes; `file` names the source in errors. */
export function parseSafetensors(bytes: Uint8Array, file = '<buffer>'): Safetensors {
  const fail = (msg: string): never => { throw new WeightFileError(file, msg); };
  if (bytes.byteLength < 8) fail(`${bytes.byteLength} bytes is too short for a safetensors header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = view.getBigUint64(0, true);
  if (headerLen > BigInt(bytes.byteLength - 8)) {
    fail(`header length ${headerLen} runs past the end of the file (${bytes.byteLength} bytes): truncated or not safetensors`);
  }
  if (headerLen > BigInt(MAX_HEADER_BYTES)) fail(`header length ${headerLen} exceeds ${MAX_HEADER_BYTES} bytes`);
  const dataStart = 8 + Number(headerLen);
  const data = bytes.subarray(dataStart);

  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, dataStart)));
  } catch (err) {
    fail(`header is not valid JSON: ${(err as Error).message}`);
  }
  if (!isPlainObject(header)) return fail('header is not a JSON object');

  const metadata = parseMetadata(header['__metadata__'], fail);
  const entries: { name: string; dtype: DType; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const where = `tensor '${name}'`;
    if (!isPlainObject(raw)) fail(`${where}: header entry is not an object`);
    const entry = raw as Record<string, unknown>;
    const dtype = FROM_FILE_DTYPE.get(entry['dtype'] as string);
    if (!dtype) fail(`${where}: unsupported dtype ${JSON.stringify(entry['dtype'])}`);
    const shape = entry['shape'];
    if (!Array.isArray(shape) || !shape.every(isCount)) fail(`${where}: shape ${JSON.stringify(shape)} is not a list of sizes`);
    const offsets = entry['data_offsets'];
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) {
      fail(`${where}: data_offsets ${JSON.stringify(offsets)} is not [begin, end]`);
    }
    const [begin, end] = offsets as [number, number];
    if (begin > end || end > data.byteLength) {
      fail(`${where}: data_offsets [${begin}, ${end}] lie outside the ${data.byteLength}-byte data section`);
    }
    const need = numel(shape as number[]) * DTYPE_BYTES[dtype!];
    if (end - begin !== need) {
      fail(`${where}: data_offsets [${begin}, ${end}] span ${end - begin} bytes, but ${TO_FILE_DTYPE[dtype!]} ${JSON.stringify(shape)} needs ${need}`);
    }
    entries.push({ name, dtype: dtype!, shape: shape as number[], begin, end });
  }

  // Tensors come back in data order: that is the writer's insertion order, and JSON
  // key order is not reliable (integer-like keys are reordered by JSON.parse).
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let prev: (typeof entries)[number] | undefined;
  for (const e of entries) {
    if (e.begin === e.end) continue;
    if (prev && e.begin < prev.end) {
      fail(`tensor '${e.name}': data_offsets [${e.begin}, ${e.end}] overlap tensor '${prev.name}' [${prev.begin}, ${prev.end}]`);
    }
    prev = e;
  }

  const tensors: StateDict = new Map();
  for (const e of entries) {
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data: decodeElements(e.dtype, data.subarray(e.begin, e.end)) });
  }
  return { tensors, metadata };
}

/** Serialises tensors (in map order) and metadata to safetensors bytes. */
export function serializeSafetensors(tensors: StateDict, metadata: Record<string, string> = {}): Uint8Array {
  return concatBytes(safetensorsChunks(tensors, metadata));
}

/**
 * The safetensors bytes as a sequence of chunks: the header (checked and built at once,
 * so a bad tensor throws before anything is yielded), then each tensor's data, encoded
 * one at a time when asked for. Writers stream these to keep peak memory near the
 * largest tensor. A chunk may view a tensor's own memory: do not modify it.
 */
export function safetensorsChunks(tensors: StateDict, metadata: Record<string, string> = {}): Iterable<Uint8Array> {
  const header = encodeHeader(tensors, metadata);
  return {
    *[Symbol.iterator]() {
      yield header;
      for (const t of tensors.values()) yield encodeElements(t);
    },
  };
}

// Builds the length prefix + JSON header, padded with spaces to a multiple of 8 bytes
// like the reference writer, so the data section starts 8-byte aligned.
function encodeHeader(tensors: StateDict, metadata: Record<string, string>): Uint8Array {
  const fields: string[] = [];
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== 'string') throw new TypeError(`safetensors metadata '${k}' must be a string, got ${typeof v}`);
  }
  if (Object.keys(metadata).length > 0) fields.push(`"__metadata__":${JSON.stringify(metadata)}`);
  let offset = 0;
  for (const [name, t] of tensors) {
    const count = numel(t.shape);
    if (t.data.length !== count) {
      throw new RangeError(`tensor '${name}': shape ${JSON.stringify(t.shape)} has ${count} elements but data has ${t.data.length}`);
    }
    const size = count * DTYPE_BYTES[t.dtype];
    const entry = { dtype: TO_FILE_DTYPE[t.dtype], shape: t.shape, data_offsets: [offset, offset + size] };
    fields.push(`${JSON.stringify(name)}:${JSON.stringify(entry)}`);
    offset += size;
  }
  const json = new TextEncoder().encode(`{${fields.join(',')}}`);
  const padded = json.length + ((8 - (json.length % 8)) % 8);
  const out = new Uint8Array(8 + padded).fill(0x20, 8 + json.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(json, 8);
  return out;
}

function parseMetadata(raw: unknown, fail: (msg: string) => never): Record<string, string> {
  if (raw === undefined) return {};
  if (!isPlainObject(raw)) fail('__metadata__ is not an object');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    if (typeof v !== 'string') fail(`__metadata__ '${k}' is not a string`);
    out[k] = v as string;
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isCount(v: unknown): v is number {
  return Number.isSafeInteger(v) && (v as number) >= 0;
}
