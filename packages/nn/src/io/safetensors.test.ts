import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { WeightFileError } from './errors.js';
import { readSafetensors, writeSafetensors } from '../node/weight-files.js';
import { parseSafetensors, serializeSafetensors } from './safetensors.js';
import type { StateDict } from './types.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-safetensors-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function sample(): StateDict {
  return new Map([
    ['conv.weight', { dtype: 'f32', shape: [2, 1, 2, 2], data: Float32Array.from([1, 2, 3, 4, 5, 6, 7, -8.5]) }],
    ['half', { dtype: 'f16', shape: [3], data: Float32Array.from([0.5, -1, 65504]) }],
    ['brain', { dtype: 'bf16', shape: [2], data: Float32Array.from([1.5, -256]) }],
    ['double', { dtype: 'f64', shape: [2], data: Float64Array.from([Math.PI, -1e300]) }],
    ['bn.num_batches_tracked', { dtype: 'i64', shape: [], data: BigInt64Array.from([2n ** 40n]) }],
    ['idx', { dtype: 'i32', shape: [2], data: Int32Array.from([-7, 1 << 30]) }],
    ['mask', { dtype: 'bool', shape: [3], data: Uint8Array.from([1, 0, 1]) }],
    ['empty', { dtype: 'f32', shape: [0, 3], data: new Float32Array(0) }],
  ]);
}

// Builds a file from a header object and a data section, for malformed-header tests.
function fileWith(header: unknown, data = new Uint8Array(16)): Uint8Array {
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([len, json, data]);
}

describe('safetensors', () => {
  it('round-trips every dtype and the metadata through a file', async () => {
    const path = join(dir, 'model.safetensors');
    await writeSafetensors(path, sample(), { format: 'pt', producer: 'tessera' });
    const back = await readSafetensors(path);
    expect(back.metadata).toEqual({ format: 'pt', producer: 'tessera' });
    expect([...back.tensors.keys()]).toEqual([...sample().keys()]);
    for (const [name, t] of sample()) expect(back.tensors.get(name), name).toEqual(t);
    // The atomic writer leaves no temporary file behind.
    expect(readdirSync(dir)).toEqual(['model.safetensors']);
  });

  it('overwrites atomically and keeps the header 8-byte aligned', async () => {
    const path = join(dir, 'over.safetensors');
    await writeSafetensors(path, sample());
    await writeSafetensors(path, new Map([['x', { dtype: 'f32', shape: [1], data: Float32Array.from([9]) }]]));
    const bytes = readFileSync(path);
    expect(Number(bytes.readBigUInt64LE(0)) % 8).toBe(0);
    expect([...(await readSafetensors(path)).tensors.keys()]).toEqual(['x']);
  });

  it('reads the layout other writers produce (f16 data, no metadata)', () => {
    const data = Buffer.from(Uint16Array.from([0x3c00, 0x4000, 0xc200]).buffer);
    const parsed = parseSafetensors(fileWith({ w: { dtype: 'F16', shape: [3], data_offsets: [0, 6] } }, data));
    expect(parsed.metadata).toEqual({});
    expect(parsed.tensors.get('w')).toEqual({ dtype: 'f16', shape: [3], data: Float32Array.from([1, 2, -3]) });
  });

  it('rejects a header that lies about offsets, naming the file and tensor', () => {
    const lying = fileWith({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] }, b: { dtype: 'F32', shape: [2], data_offsets: [8, 16] } });
    expect(() => parseSafetensors(lying, 'lying.safetensors')).toThrow(WeightFileError);
    expect(() => parseSafetensors(lying, 'lying.safetensors')).toThrow(/^lying\.safetensors: tensor '(a|b)'.*overlap/);
    const outside = fileWith({ a: { dtype: 'F32', shape: [8], data_offsets: [0, 32] } });
    expect(() => parseSafetensors(outside, 'f')).toThrow(/tensor 'a': data_offsets \[0, 32\] lie outside the 16-byte data section/);
    const mismatch = fileWith({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 16] } });
    expect(() => parseSafetensors(mismatch, 'f')).toThrow(/tensor 'a'.*span 16 bytes, but F32 \[3\] needs 12/);
  });

  it('rejects truncated files, bad JSON and bad entries', () => {
    const good = serializeSafetensors(sample());
    expect(() => parseSafetensors(good.subarray(0, 5), 't')).toThrow(/too short/);
    expect(() => parseSafetensors(good.subarray(0, 40), 't')).toThrow(/header length \d+ runs past the end/);
    const cut = good.subarray(0, good.length - 3);
    expect(() => parseSafetensors(cut, 't')).toThrow(/lie outside/);
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(5n);
    expect(() => parseSafetensors(Buffer.concat([len, Buffer.from('{"a":')]), 't')).toThrow(/header is not valid JSON/);
    expect(() => parseSafetensors(fileWith([1, 2]), 't')).toThrow(/not a JSON object/);
    expect(() => parseSafetensors(fileWith({ a: { dtype: 'F8_E4M3', shape: [1], data_offsets: [0, 1] } }), 't')).toThrow(/tensor 'a': unsupported dtype "F8_E4M3"/);
    expect(() => parseSafetensors(fileWith({ a: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }), 't')).toThrow(/shape \[-1\]/);
    expect(() => parseSafetensors(fileWith({ __metadata__: { n: 1 } }), 't')).toThrow(/__metadata__ 'n' is not a string/);
  });

  it('refuses to write data that does not match the shape or dtype', async () => {
    const bad: StateDict = new Map([['x', { dtype: 'f32', shape: [3], data: new Float32Array(2) }]]);
    await expect(writeSafetensors(join(dir, 'bad.safetensors'), bad)).rejects.toThrow(/shape \[3\] has 3 elements but data has 2/);
    const wrongType: StateDict = new Map([['x', { dtype: 'i64', shape: [1], data: new Float32Array(1) }]]);
    expect(() => serializeSafetensors(wrongType)).toThrow(/i64 needs its data as BigInt64Array/);
    expect(readdirSync(dir).filter((f) => f.includes('bad'))).toEqual([]);
    writeFileSync(join(dir, 'keep'), '');
  });
});
