/**
 * Test-only PNG assembly from chunks, so the tests can write exactly the file they need (any
 * colour type, bit depth, a lying header). Users' PNGs are written by encode/png.ts (fast-png).
 */
import { concatBytes } from '../util/bytes.js';
import { crc32 } from '../util/crc32.js';

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** One chunk: length, type, data, CRC of type + data. */
export function pngChunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** A whole PNG file from its IHDR fields, IDAT payload (already compressed) and any chunks before IDAT. */
export function pngFile(
  ihdr: { width: number; height: number; bitDepth: number; colorType: number; interlaced?: boolean },
  idat: Uint8Array,
  extra: readonly Uint8Array[] = [],
): Uint8Array {
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, ihdr.width);
  view.setUint32(4, ihdr.height);
  header[8] = ihdr.bitDepth;
  header[9] = ihdr.colorType;
  header[12] = ihdr.interlaced ? 1 : 0;
  return concatBytes([Uint8Array.from(SIGNATURE), pngChunk('IHDR', header), ...extra, pngChunk('IDAT', idat), pngChunk('IEND', new Uint8Array(0))]);
}
