/**
 * PNG to RGB: the same decoder in Node, in worker threads and in a browser (only the inflate differs:
 * Node's zlib in Node, fflate in a browser; see #inflate in package.json): every colour type (gray, RGB, palette, gray+alpha, RGBA), every bit
 * depth (1..16), interlaced (Adam7) or not, all five row filters, tRNS transparency.
 *
 * Samples are normalised to 8-bit RGBA the way pngjs (the decoder this replaced) does: 16-bit and
 * low-bit samples scaled with rounding (v*255/max), a tRNS colour key making the pixel (0,0,0,0).
 * Then alpha is removed: composited over white by default, or dropped (see DecodeOptions.alpha).
 * Gamma and colour-profile chunks are ignored, as PIL does. The header is checked (size limit
 * included) before anything is inflated, and inflating stops once it has the bytes the image needs.
 *
 * Kept rather than replaced by pngjs or fast-png, with measured reasons (docs/architecture.md,
 * "Libraries"): both can inflate whatever a file holds (a 195 KB file becomes 200 MB), pngjs fills
 * rows missing from a short stream with uninitialised memory, and in Node this one is the fastest
 * of the three. One decoder for Node and the browser also means the same pixels in both.
 */

import { inflateAtMost } from '#inflate';
import { ImageDecodeError } from '../errors.js';
import type { RgbImage } from '../image.js';
import { concatBytes } from '../util/bytes.js';
import { crc32 } from '../util/crc32.js';
import { checkPixelLimit, type ResolvedDecodeOptions } from './options.js';
import { PngHeaderError, readPngHeader, type PngHeader } from './png-header.js';

export function pngHeaderOf(bytes: Uint8Array, file: string): PngHeader {
  try {
    return readPngHeader(bytes);
  } catch (err) {
    if (err instanceof PngHeaderError) throw new ImageDecodeError(file, err.message);
    throw err;
  }
}

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const MAX_DEFLATE_RATIO = 1032;

/** Adam7 passes: x start, y start, x step, y step. */
const ADAM7 = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]] as const;

interface Chunks {
  idat: Uint8Array;
  palette: Uint8Array | null;
  trns: Uint8Array | null;
}

class PngCorrupt extends Error {}

function corrupt(message: string): never {
  throw new PngCorrupt(message);
}

/** Walks the chunks after IHDR: IDAT payloads joined, PLTE and tRNS kept, CRCs checked. */
function readChunks(bytes: Uint8Array): Chunks {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const idats: Uint8Array[] = [];
  let palette: Uint8Array | null = null;
  let trns: Uint8Array | null = null;
  let at = 8;
  for (;;) {
    if (at + 8 > bytes.length) return corrupt('unexpected end of file before IEND');
    const length = view.getUint32(at);
    const type = String.fromCharCode(bytes[at + 4]!, bytes[at + 5]!, bytes[at + 6]!, bytes[at + 7]!);
    const end = at + 12 + length;
    if (end > bytes.length) {
      // A file cut off in its image data: say truncated, like a short read.
      return corrupt(`unexpected end of file in the ${type} chunk`);
    }
    const data = bytes.subarray(at + 8, at + 8 + length);
    if (crc32(bytes.subarray(at + 4, at + 8 + length)) !== view.getUint32(at + 8 + length)) corrupt(`CRC error in the ${type} chunk`);
    if (type === 'IDAT') idats.push(data);
    else if (type === 'PLTE') palette = data;
    else if (type === 'tRNS') trns = data;
    else if (type === 'IEND') break;
    else if ((bytes[at + 4]! & 0x20) === 0 && type !== 'IHDR') corrupt(`unknown critical chunk ${type}`);
    at = end;
  }
  if (idats.length === 0) corrupt('no image data (IDAT)');
  const idat = idats.length === 1 ? idats[0]! : concatBytes(idats);
  return { idat, palette, trns };
}

interface Pass {
  x0: number;
  y0: number;
  dx: number;
  dy: number;
  width: number;
  height: number;
  rowBytes: number;
}

function passesOf(h: PngHeader, bitsPerPixel: number): Pass[] {
  const grid = h.interlaced ? ADAM7 : ([[0, 0, 1, 1]] as const);
  return grid
    .map(([x0, y0, dx, dy]) => {
      const width = Math.max(0, Math.ceil((h.width - x0) / dx));
      const height = Math.max(0, Math.ceil((h.height - y0) / dy));
      return { x0, y0, dx, dy, width, height, rowBytes: Math.ceil((width * bitsPerPixel) / 8) };
    })
    .filter((p) => p.width > 0 && p.height > 0); // an empty Adam7 pass has no scanlines at all
}

/** Undoes the row filters (`raw` holds filter byte + row, row after row); returns the rows. */
function unfilter(raw: Uint8Array, at: number, pass: Pass, bpp: number): Uint8Array {
  const { rowBytes, height } = pass;
  const out = new Uint8Array(rowBytes * height);
  // One loop per filter type (not a switch per byte): this is where a large PNG spends its time.
  for (let y = 0; y < height; y++) {
    const filter = raw[at + y * (rowBytes + 1)]!;
    const src = at + y * (rowBytes + 1) + 1;
    const row = y * rowBytes;
    const up = row - rowBytes;
    const first = y === 0;
    if (filter === 0) {
      out.set(raw.subarray(src, src + rowBytes), row);
    } else if (filter === 1) {
      for (let i = 0; i < rowBytes; i++) out[row + i] = (raw[src + i]! + (i >= bpp ? out[row + i - bpp]! : 0)) & 0xff;
    } else if (filter === 2) {
      if (first) out.set(raw.subarray(src, src + rowBytes), row);
      else for (let i = 0; i < rowBytes; i++) out[row + i] = (raw[src + i]! + out[up + i]!) & 0xff;
    } else if (filter === 3) {
      for (let i = 0; i < rowBytes; i++) {
        const a = i >= bpp ? out[row + i - bpp]! : 0;
        const b = first ? 0 : out[up + i]!;
        out[row + i] = (raw[src + i]! + ((a + b) >> 1)) & 0xff;
      }
    } else if (filter === 4) {
      for (let i = 0; i < rowBytes; i++) {
        const a = i >= bpp ? out[row + i - bpp]! : 0;
        const b = first ? 0 : out[up + i]!;
        const c = !first && i >= bpp ? out[up + i - bpp]! : 0;
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        out[row + i] = (raw[src + i]! + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c)) & 0xff;
      }
    } else {
      return corrupt(`invalid filter type ${filter}`);
    }
  }
  return out;
}

/** Decodes to 8-bit RGBA (pngjs's normalisation); `hasAlpha` says whether any alpha may be below 255. */
function decodeRgba(bytes: Uint8Array, h: PngHeader): { rgba: Uint8Array; hasAlpha: boolean } {
  const { idat, palette, trns } = readChunks(bytes);
  const channels = CHANNELS[h.colorType]!;
  const bitsPerPixel = channels * h.bitDepth;
  const bpp = Math.max(1, bitsPerPixel >> 3); // filter distance in bytes
  const passes = passesOf(h, bitsPerPixel);
  const need = passes.reduce((n, p) => n + (p.rowBytes + 1) * p.height, 0);
  // Deflate expands at most 1032:1 (a 258-byte match in two bits): data too short to hold the
  // image is truncated, and is refused before the buffer for the declared size is allocated.
  if (need > idat.length * MAX_DEFLATE_RATIO + 1024) {
    corrupt(`unexpected end of image data (${idat.length} compressed bytes cannot hold the ${need} bytes of a ${h.width}x${h.height} image)`);
  }
  let raw: Uint8Array;
  try {
    raw = inflateAtMost(idat, need);
  } catch (err) {
    return corrupt(`invalid image data: ${(err as Error).message}`);
  }
  if (raw.length < need) corrupt(`unexpected end of image data (${raw.length} of ${need} bytes)`);

  if (h.colorType === 3 && !palette) corrupt('palette image without a PLTE chunk');
  const maxSample = (1 << h.bitDepth) - 1;
  const scale = (v: number) => (h.bitDepth === 8 ? v : Math.floor((v * 255) / maxSample + 0.5));
  // tRNS for gray/RGB: the transparent colour, compared on the stored (unscaled) samples.
  const key = trns && (h.colorType === 0 || h.colorType === 2)
    ? Array.from({ length: h.colorType === 0 ? 1 : 3 }, (_, c) => ((trns[2 * c] ?? 0) << 8) | (trns[2 * c + 1] ?? 0))
    : null;
  const hasAlpha = h.colorType === 4 || h.colorType === 6 || trns !== null;

  const rgba = new Uint8Array(h.width * h.height * 4);
  const sample = new Array<number>(channels);
  let at = 0;
  for (const pass of passes) {
    const rows = unfilter(raw, at, pass, bpp);
    at += (pass.rowBytes + 1) * pass.height;
    if (h.bitDepth === 8 && (h.colorType === 2 || h.colorType === 6) && !key) {
      // The common case (photos, our own files): bytes straight across, no per-sample work.
      for (let y = 0; y < pass.height; y++) {
        for (let x = 0, s = y * pass.rowBytes; x < pass.width; x++, s += channels) {
          const o = ((pass.y0 + y * pass.dy) * h.width + pass.x0 + x * pass.dx) * 4;
          rgba[o] = rows[s]!;
          rgba[o + 1] = rows[s + 1]!;
          rgba[o + 2] = rows[s + 2]!;
          rgba[o + 3] = channels === 4 ? rows[s + 3]! : 255;
        }
      }
      continue;
    }
    for (let y = 0; y < pass.height; y++) {
      const row = y * pass.rowBytes;
      for (let x = 0; x < pass.width; x++) {
        for (let c = 0; c < channels; c++) {
          const k = x * channels + c;
          if (h.bitDepth === 8) sample[c] = rows[row + k]!;
          else if (h.bitDepth === 16) sample[c] = (rows[row + 2 * k]! << 8) | rows[row + 2 * k + 1]!;
          else {
            const bit = k * h.bitDepth;
            sample[c] = (rows[row + (bit >> 3)]! >> (8 - h.bitDepth - (bit & 7))) & maxSample;
          }
        }
        const o = ((pass.y0 + y * pass.dy) * h.width + pass.x0 + x * pass.dx) * 4;
        if (h.colorType === 3) {
          const i = sample[0]!;
          if (3 * i + 2 >= palette!.length) corrupt(`index ${i} not in palette`);
          rgba[o] = palette![3 * i]!;
          rgba[o + 1] = palette![3 * i + 1]!;
          rgba[o + 2] = palette![3 * i + 2]!;
          rgba[o + 3] = trns && i < trns.length ? trns[i]! : 255;
          continue;
        }
        if (key && key.every((v, c) => v === sample[c])) continue; // stays (0, 0, 0, 0)
        const gray = channels <= 2;
        rgba[o] = scale(sample[0]!);
        rgba[o + 1] = scale(sample[gray ? 0 : 1]!);
        rgba[o + 2] = scale(sample[gray ? 0 : 2]!);
        rgba[o + 3] = channels === 2 ? scale(sample[1]!) : channels === 4 ? scale(sample[3]!) : 255;
      }
    }
  }
  return { rgba, hasAlpha };
}

/** RGBA -> RGB. Over white: c*a + 255*(1-a), rounded, in integers. */
export function removeAlpha(rgba: Uint8Array | Uint8ClampedArray, pixels: number, mode: 'white' | 'drop', hasAlpha = true): Uint8Array {
  const rgb = new Uint8Array(pixels * 3);
  const composite = mode === 'white' && hasAlpha;
  for (let p = 0, s = 0, d = 0; p < pixels; p++, s += 4, d += 3) {
    if (composite) {
      const a = rgba[s + 3]!;
      const white = 255 * (255 - a);
      rgb[d] = ((rgba[s]! * a + white + 127) / 255) | 0;
      rgb[d + 1] = ((rgba[s + 1]! * a + white + 127) / 255) | 0;
      rgb[d + 2] = ((rgba[s + 2]! * a + white + 127) / 255) | 0;
    } else {
      rgb[d] = rgba[s]!;
      rgb[d + 1] = rgba[s + 1]!;
      rgb[d + 2] = rgba[s + 2]!;
    }
  }
  return rgb;
}

export function decodePng(bytes: Uint8Array, options: ResolvedDecodeOptions): RgbImage {
  const { file } = options;
  const header = pngHeaderOf(bytes, file);
  checkPixelLimit(file, header.width, header.height, options.maxPixels);
  let decoded: { rgba: Uint8Array; hasAlpha: boolean };
  try {
    decoded = decodeRgba(bytes, header);
  } catch (err) {
    if (!(err instanceof PngCorrupt)) throw err;
    const truncated = /unexpected end/.test(err.message);
    throw new ImageDecodeError(file, truncated ? `truncated or corrupt image data (${err.message})` : `corrupt PNG (${err.message})`, { cause: err });
  }
  const pixels = header.width * header.height;
  return { width: header.width, height: header.height, data: removeAlpha(decoded.rgba, pixels, options.alpha, decoded.hasAlpha) };
}
