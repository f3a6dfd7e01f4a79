import { describe, expect, it } from 'vitest';
import { WeightFileError } from './errors.js';
import { buildZip } from './testing/zip-writer.js';
import { looksLikeZip, readZip } from './zip.js';

const text = (s: string) => new TextEncoder().encode(s);
const entries = [
  { name: 'a/data.pkl', data: text('hello') },
  { name: 'a/data/0', data: new Uint8Array(1000).fill(7), deflate: true },
  { name: 'empty', data: new Uint8Array(0) },
];

describe('zip reader', () => {
  it('reads stored and deflated entries through the central directory', () => {
    const bytes = buildZip(entries);
    expect(looksLikeZip(bytes)).toBe(true);
    const zip = readZip(bytes);
    expect([...zip.entries.keys()]).toEqual(['a/data.pkl', 'a/data/0', 'empty']);
    expect(new TextDecoder().decode(zip.read('a/data.pkl'))).toBe('hello');
    expect(zip.entries.get('a/data/0')!.method).toBe(8);
    expect(zip.read('a/data/0')).toEqual(new Uint8Array(1000).fill(7));
    expect(zip.read('empty').byteLength).toBe(0);
  });

  it('reads zip64 records and extra fields', () => {
    const zip = readZip(buildZip(entries, { zip64: true }));
    expect(zip.entries.get('a/data/0')!.size).toBe(1000);
    expect(zip.read('a/data/0')).toEqual(new Uint8Array(1000).fill(7));
  });

  it('finds the directory behind an archive comment', () => {
    const bytes = Buffer.from(buildZip(entries));
    bytes.writeUInt16LE(3, bytes.length - 2);
    const withComment = Buffer.concat([bytes, Buffer.from('hi!')]);
    expect(new TextDecoder().decode(readZip(withComment).read('a/data.pkl'))).toBe('hello');
  });

  it('gives clear errors for truncated or corrupt archives', () => {
    const bytes = buildZip(entries);
    expect(() => readZip(bytes.subarray(0, bytes.length - 10), 'cut.pth')).toThrow(WeightFileError);
    expect(() => readZip(bytes.subarray(0, bytes.length - 10), 'cut.pth')).toThrow(/^cut\.pth: corrupt or truncated zip: no end-of-central-directory record/);
    // Keep the tail, lose the middle: the directory points past the data that is left.
    const holed = Buffer.concat([bytes.subarray(0, 40), bytes.subarray(bytes.length - 200)]);
    expect(() => readZip(holed, 'h.pth').read('a/data/0')).toThrow(/corrupt or truncated zip/);
    const flipped = Buffer.from(bytes);
    flipped[30 + 'a/data.pkl'.length] ^= 0xff; // first byte of "hello"
    expect(() => readZip(flipped, 'crc.pth').read('a/data.pkl')).toThrow(/entry 'a\/data.pkl' fails its CRC check/);
    expect(() => readZip(bytes).read('nope')).toThrow(/zip has no entry 'nope'/);
    expect(() => readZip(text('not a zip at all, just some text here'))).toThrow(/no end-of-central-directory/);
  });

  it('rejects deflate data that does not inflate', () => {
    const bytes = Buffer.from(buildZip([{ name: 'x', data: new Uint8Array(64).fill(1), deflate: true }]));
    bytes.fill(0xff, 31, 35); // scramble the compressed stream
    expect(() => readZip(bytes, 'bad.zip').read('x')).toThrow(/entry 'x' (does not inflate|holds|fails)/);
  });

  // Found by the fuzzer (tools/fuzz, target zip): a central directory that claims a huge
  // uncompressed size made read() allocate that size before inflating 15 bytes.
  it('refuses a deflated entry that claims more than its compressed bytes can hold, before allocating', () => {
    const bytes = Buffer.from(buildZip([{ name: 'x', data: new Uint8Array(64).fill(1), deflate: true }], { zip64: true }));
    // The zip64 extra field's uncompressed size (first 8-byte value after its 4-byte header).
    const extra = bytes.indexOf(Buffer.from([1, 0, 24, 0]), bytes.indexOf(Buffer.from([0x50, 0x4b, 1, 2])));
    bytes.writeBigUInt64LE(2n ** 40n, extra + 4);
    expect(() => readZip(bytes, 'lying.pth').read('x')).toThrow(WeightFileError);
    expect(() => readZip(bytes, 'lying.pth').read('x')).toThrow(/^lying\.pth: .*entry 'x' claims 1099511627776 bytes/);
  });
});
