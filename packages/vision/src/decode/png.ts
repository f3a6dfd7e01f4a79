/**
 * PNG to RGB through pngjs: every colour type (gray, RGB, palette, gray+alpha, RGBA), every bit
 * depth (1..16), interlaced or not, tRNS transparency.
 *
 * pngjs normalises all of these to 8-bit RGBA (16-bit samples are rounded, v*255/65535), so this
 * module only checks the header first and then removes alpha: composited over white by default,
 * or dropped (see DecodeOptions.alpha). Gamma and colour-profile chunks are ignored, as PIL does.
 */

import pngjs from 'pngjs';
import { ImageDecodeError } from '../errors.js';
import type { RgbImage } from '../image.js';
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

function explain(message: string): string {
  if (/unexpected end|end of input|invalid inflate|incorrect header|unexpected eof|buffer/i.test(message)) {
    return `truncated or corrupt image data (${message})`;
  }
  return `corrupt PNG (${message})`;
}

/** RGBA -> RGB. Over white: c*a + 255*(1-a), rounded, in integers. */
function removeAlpha(rgba: Uint8Array, pixels: number, mode: 'white' | 'drop', hasAlpha: boolean): Uint8Array {
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
  let png: { width: number; height: number; data: Uint8Array; alpha: boolean };
  try {
    // pngjs wants a Buffer; this wraps the same memory, no copy.
    png = pngjs.PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (err) {
    throw new ImageDecodeError(file, explain(err instanceof Error ? err.message : String(err)), { cause: err });
  }
  const pixels = png.width * png.height;
  if (png.data.length < pixels * 4) throw new ImageDecodeError(file, 'truncated or corrupt image data (short pixel data)');
  return { width: png.width, height: png.height, data: removeAlpha(png.data, pixels, options.alpha, png.alpha) };
}
