// Both inflates behind #inflate (Node's zlib, and fflate for the browser) on the same inputs: the
// same bytes out, the rest ignored, short streams short, and data past the image never inflated far.
import { zlibSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../random.js';
import { inflateAtMost as inflateBrowser } from './inflate.browser.js';
import { inflateAtMost as inflateNode } from './inflate.node.js';

const rand = mulberry32(3);
const noisy = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i % 7 === 0 ? rand() * 256 : i) & 0xff);

describe.each([['browser (fflate)', inflateBrowser], ['node (zlib)', inflateNode]] as const)('inflateAtMost, %s', (_, inflate) => {
  it('gives the bytes back, from short input in one call and long input in slices', () => {
    for (const n of [1, 1000, 300_000]) {
      const data = noisy(n);
      expect(Buffer.from(inflate(zlibSync(data, { level: 0 }), n)).equals(Buffer.from(data)), `${n} bytes`).toBe(true);
      expect(Buffer.from(inflate(zlibSync(data), n)).equals(Buffer.from(data)), `${n} bytes`).toBe(true);
    }
  });

  it('keeps the first `need` bytes of a longer stream, and returns a short stream short', () => {
    const data = noisy(5000);
    expect(Buffer.from(inflate(zlibSync(data), 1234)).equals(Buffer.from(data.subarray(0, 1234)))).toBe(true);
    expect(inflate(zlibSync(data), 8000).length).toBe(5000);
  });

  it('stops early on a stream far longer than the image', () => {
    // 32 KB that inflate to 32 MB, whose second half is garbage: inflating all of it fails there,
    // so getting the first 100 bytes back proves the inflate stopped long before (no timing).
    const bomb = zlibSync(new Uint8Array(32 << 20), { level: 1 });
    bomb.fill(0xff, bomb.length >> 1);
    expect(() => inflate(bomb, 32 << 20)).toThrow(/invalid/);
    expect(Array.from(inflate(bomb, 100))).toEqual(new Array(100).fill(0));
  });

  it('throws on data that is not zlib', () => {
    expect(() => inflate(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]), 10)).toThrow();
  });
});
