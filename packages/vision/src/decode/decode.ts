/**
 * The entry point: bytes in, upright 8-bit RGB out, or an ImageDecodeError that names the file and
 * the reason. The decoder is chosen by content, never by extension. Pure JavaScript: it runs in a
 * browser too (file paths are @tessera/vision/node's decodeImageFile).
 */

import type { RgbImage } from '../image.js';
import { readImageInfo } from './image-info.js';
import { decodeJpeg } from './jpeg.js';
import { resolveDecodeOptions, type DecodeOptions } from './options.js';
import { decodePng } from './png.js';

export function decodeImage(bytes: Uint8Array, options: DecodeOptions = {}): RgbImage {
  const resolved = resolveDecodeOptions(options);
  // Validates format and header (and names unsupported formats) before choosing a decoder.
  const { format } = readImageInfo(bytes, resolved.file);
  return format === 'jpeg' ? decodeJpeg(bytes, resolved) : decodePng(bytes, resolved);
}
