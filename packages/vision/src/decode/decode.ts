/**
 * Entry points: bytes or a file path in, upright 8-bit RGB out, or an ImageDecodeError that names
 * the file and the reason. The decoder is chosen by content, never by extension.
 */

import { readFile } from 'node:fs/promises';
import { ImageDecodeError } from '../errors.js';
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

/** Reads a file, turning I/O failures into ImageDecodeError so callers handle one error type. */
export async function readImageBytes(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'is a directory' : `cannot read (${code ?? String(err)})`;
    throw new ImageDecodeError(path, why, { cause: err });
  }
}

export async function decodeImageFile(path: string, options: Omit<DecodeOptions, 'file'> = {}): Promise<RgbImage> {
  const bytes = await readImageBytes(path);
  return decodeImage(bytes, { ...options, file: path });
}
