/**
 * Weight-file seeds made by code: safetensors of every dtype, zips (stored, deflated, zip64),
 * torch.save pickles and archives with views and shared storages, TF.js models with
 * quantised weights; plus the real Tiny Darknet TF.js model when present. Each comes with
 * its boundaries: the header end and every tensor's offsets, zip records, shard files.
 */

import { io } from '@tessera/nn';
import { buildZip, type ZipFixtureEntry } from '../../../../packages/nn/src/io/testing/zip-writer.js';
import { PickleWriter, torchStateDictPickle, type FixtureTensor } from '../../../../packages/nn/src/io/testing/pickle-writer.js';
import { kerasLayer, layersModelJson } from '../../../../packages/nn/src/io/testing/keras-model.js';
import { join } from 'node:path';
import type { Seed } from '../target.js';
import { readReal, weightsDir } from './real-files.js';

type StateDict = io.StateDict;

const f32 = (values: number[]) => new Uint8Array(Float32Array.from(values).buffer);

function stateDict(): StateDict {
  return new Map<string, io.RawTensor>([
    ['conv.weight', { dtype: 'f32', shape: [2, 1, 2, 2], data: Float32Array.from({ length: 8 }, (_, i) => i / 8) }],
    ['conv.bias', { dtype: 'f16', shape: [2], data: Float32Array.from([0.5, -2]) }],
    ['bn.running_var', { dtype: 'bf16', shape: [3], data: Float32Array.from([1, 2, 3]) }],
    ['bn.num_batches_tracked', { dtype: 'i64', shape: [], data: BigInt64Array.from([7n]) }],
    ['mask', { dtype: 'bool', shape: [2, 2], data: Uint8Array.from([1, 0, 0, 1]) }],
    ['empty', { dtype: 'i32', shape: [0, 3], data: new Int32Array(0) }],
    ['table', { dtype: 'f64', shape: [2], data: Float64Array.from([1e300, -0]) }],
  ]);
}

/** Header end and every tensor's begin/end, from the (valid) seed's own header. */
export function safetensorsBoundaries(bytes: Uint8Array): number[] {
  const headerLen = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen))) as Record<string, { data_offsets?: number[] }>;
  const out = [0, 8, 8 + headerLen];
  for (const v of Object.values(header)) for (const o of v.data_offsets ?? []) out.push(8 + headerLen + o);
  return out;
}

export function safetensorsSeeds(): Seed[] {
  const withMeta = io.serializeSafetensors(stateDict(), { format: 'pt', note: 'fuzz seed' });
  const small = io.serializeSafetensors(new Map([['w', { dtype: 'f32', shape: [3], data: Float32Array.from([1, 2, 3]) }]]));
  return [
    { name: 'every dtype + metadata', parts: [withMeta], boundaries: [safetensorsBoundaries(withMeta)] },
    { name: 'one f32 tensor', parts: [small], boundaries: [safetensorsBoundaries(small)] },
  ];
}

/** Offsets of every local header, central-directory record and the end records. */
export function zipBoundaries(bytes: Uint8Array): number[] {
  const out = [0, bytes.length - 22];
  for (let i = 0; i + 4 <= bytes.length; i++) {
    if (bytes[i] === 0x50 && bytes[i + 1] === 0x4b && (bytes[i + 2]! <= 7) && bytes[i + 3]! <= 8) {
      out.push(i, i + 10, i + 18, i + 20, i + 24, i + 28, i + 42); // signature, sizes, name length, offset
    }
  }
  return out;
}

export function zipSeeds(): Seed[] {
  const entries: ZipFixtureEntry[] = [
    { name: 'a/data.pkl', data: new TextEncoder().encode('hello, zip') },
    { name: 'a/data/0', data: f32([1, 2, 3, 4, 5, 6]), deflate: true },
    { name: 'a/version', data: new TextEncoder().encode('3\n') },
  ];
  return [
    { name: 'stored + deflated', parts: [buildZip(entries)] },
    { name: 'zip64 records', parts: [buildZip(entries, { zip64: true })] },
  ].map((s) => ({ ...s, boundaries: [zipBoundaries(s.parts[0]!)] }));
}

const TENSORS: FixtureTensor[] = [
  { name: 'conv.weight', storage: 'FloatStorage', key: '0', numel: 8, offset: 0, shape: [2, 1, 2, 2], stride: [4, 4, 2, 1] },
  // A transposed view of the same storage, and a half-precision tensor with an offset.
  { name: 'fc.weight', storage: 'FloatStorage', key: '0', numel: 8, offset: 0, shape: [4, 2], stride: [1, 4] },
  { name: 'fc.bias', storage: 'HalfStorage', key: '1', numel: 4, offset: 1, shape: [2], stride: [1] },
  { name: 'bn.num_batches_tracked', storage: 'LongStorage', key: '2', numel: 1, offset: 0, shape: [], stride: [] },
];

function storages(): Record<string, Uint8Array> {
  return {
    '0': f32([1, 2, 3, 4, 5, 6, 7, 8]),
    '1': new Uint8Array(Uint16Array.from([0x3c00, 0x4000, 0xc000, 0x3800]).buffer),
    '2': new Uint8Array(BigInt64Array.from([5n]).buffer),
  };
}

export function pickleSeeds(): Seed[] {
  const plain = torchStateDictPickle(TENSORS);
  const wrapped = torchStateDictPickle(TENSORS.slice(0, 2), 'state_dict');
  // Other opcodes torch.save pickles use: floats, lists, memo, BUILD on an OrderedDict.
  const misc = new PickleWriter().proto(2).global('collections', 'OrderedDict').emptyTuple().reduce().put(0)
    .mark().str('lr').float(0.01).str('sizes').emptyList().mark().int(1).int(300).int(-70000).appends().str('flag').bool(true)
    .str('none').none().setitems().emptyDict().build().stop().bytes();
  return [
    { name: 'torch state dict pickle', parts: [plain] },
    { name: 'checkpoint with state_dict key', parts: [wrapped] },
    { name: 'floats, lists, memo, BUILD', parts: [misc] },
  ];
}

function torchArchive(byteorder?: string, deflate = false): Uint8Array {
  const entries: ZipFixtureEntry[] = [{ name: 'archive/data.pkl', data: torchStateDictPickle(TENSORS) }];
  if (byteorder) entries.push({ name: 'archive/byteorder', data: new TextEncoder().encode(byteorder) });
  for (const [key, data] of Object.entries(storages())) entries.push({ name: `archive/data/${key}`, data, deflate });
  entries.push({ name: 'archive/version', data: new TextEncoder().encode('3\n') });
  return buildZip(entries);
}

export function torchSeeds(): Seed[] {
  return [
    { name: 'torch.save archive (views, f16, i64)', parts: [torchArchive()] },
    { name: 'with byteorder, deflated storages', parts: [torchArchive('little', true)] },
  ].map((s) => ({ ...s, boundaries: [zipBoundaries(s.parts[0]!)] }));
}

/** A small Keras functional model in TF.js layers format, shards named groupK-shard1of1. */
function smallTfjs(): Uint8Array[] {
  const model = layersModelJson([
    kerasLayer('input_1', 'InputLayer', { batch_input_shape: [null, 2, 2, 2] }),
    kerasLayer('conv', 'Conv2D', { filters: 3, kernel_size: [1, 2] }),
    kerasLayer('dw', 'DepthwiseConv2D', { kernel_size: [1, 1] }),
    kerasLayer('bn', 'BatchNormalization', { epsilon: 0.001 }),
    kerasLayer('fc', 'Dense', { units: 2 }),
  ], [
    { paths: ['group1-shard1of1'], weights: [
      { name: 'conv/kernel', shape: [1, 2, 2, 3], dtype: 'float32' },
      { name: 'conv/bias', shape: [3], dtype: 'float32' },
      { name: 'dw/depthwise_kernel', shape: [1, 1, 3, 1], dtype: 'float32' },
    ] },
    { paths: ['group2-shard1of1'], weights: [
      { name: 'bn/gamma', shape: [3], dtype: 'float32', quantization: { dtype: 'uint8', scale: 0.5, min: -1 } },
      { name: 'bn/beta', shape: [3], dtype: 'float32', quantization: { dtype: 'float16' } },
      { name: 'bn/moving_mean', shape: [3], dtype: 'float32', quantization: { dtype: 'uint16', scale: 0.25, min: 0 } },
      { name: 'bn/moving_variance', shape: [3], dtype: 'float32' },
      { name: 'fc/kernel', shape: [3, 2], dtype: 'float32' },
      { name: 'fc/bias', shape: [2], dtype: 'int32' },
    ] },
  ]);
  const g1 = new Uint8Array([...f32(Array.from({ length: 12 }, (_, i) => i)), ...f32([0.1, 0.2, 0.3]), ...f32([1, 2, 3])]);
  const g2 = new Uint8Array([
    2, 4, 0, // uint8 gamma: 3 bytes, so beta starts unaligned
    ...new Uint8Array(Uint16Array.from([0x3c00, 0xc000, 0x3800]).buffer),
    ...new Uint8Array(Uint16Array.from([4, 8, 12]).buffer),
    ...f32([1, 1, 1]), ...f32([1, 2, 3, 4, 5, 6]), ...new Uint8Array(Int32Array.from([-1, 1]).buffer),
  ]);
  return [new TextEncoder().encode(JSON.stringify(model)), g1, g2];
}

/** Offsets in model.json of every '"' (names, keys) and in each shard of every weight start. */
function tfjsBoundaries(parts: Uint8Array[]): number[][] {
  const json = parts[0]!;
  const quotes: number[] = [];
  for (let i = 0; i < json.length && quotes.length < 4000; i++) if (json[i] === 0x22) quotes.push(i);
  return [quotes, ...parts.slice(1).map((p) => [0, p.length])];
}

export function tfjsSeeds(): Seed[] {
  const seeds: Seed[] = [];
  const small = smallTfjs();
  seeds.push({ name: 'small Keras model, quantised weights', parts: small, boundaries: tfjsBoundaries(small), partWeights: [3, 1, 1] });
  const dir = join(weightsDir(), 'darknet-tiny');
  const json = readReal(join(dir, 'model.json'), 'the real Tiny Darknet TF.js model');
  if (json) {
    const paths = io.tfjsShardPaths(new TextDecoder().decode(json)).map((s) => s.path);
    const shards = paths.map((p) => readReal(join(dir, p), 'a Tiny Darknet shard'));
    if (shards.every((s) => s !== null)) {
      const parts = [json, ...(shards as Uint8Array[])];
      // Mostly model.json: the shards are float data, where any bytes are valid.
      seeds.push({ name: 'darknet-tiny model.json + 31 shards', parts, boundaries: tfjsBoundaries(parts), partWeights: [shards.length * 2, ...shards.map(() => 1)] });
    }
  }
  return seeds;
}

/**
 * Recomputes the CRC of every stored (uncompressed) entry a zip's central directory lists,
 * in both headers, so an edit inside data.pkl reaches the unpickler instead of the CRC check.
 * Best effort: anything that does not parse is left as it is.
 */
export function fixZipCrcs(parts: Uint8Array[]): Uint8Array[] {
  const bytes = parts[0]!.slice();
  const view = new DataView(bytes.buffer);
  const eocd = bytes.length - 22;
  if (eocd < 0 || view.getUint32(eocd, true) !== 0x06054b50) return [bytes];
  let at = view.getUint32(eocd + 16, true);
  for (let i = view.getUint16(eocd + 10, true); i > 0 && at + 46 <= bytes.length; i--) {
    if (view.getUint32(at, true) !== 0x02014b50) break;
    const local = view.getUint32(at + 42, true);
    const size = view.getUint32(at + 20, true);
    if (view.getUint16(at + 10, true) === 0 && local + 30 <= bytes.length) {
      const start = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
      if (start + size <= bytes.length) {
        const crc = io.crc32(bytes.subarray(start, start + size));
        view.setUint32(at + 16, crc, true);
        view.setUint32(local + 14, crc, true);
      }
    }
    at += 46 + view.getUint16(at + 28, true) + view.getUint16(at + 30, true) + view.getUint16(at + 32, true);
  }
  return [bytes];
}
