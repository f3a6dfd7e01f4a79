/**
 * Image files: read (I/O failures become ImageDecodeError, so callers handle one error type) and
 * decode by content.
 */

import { readFile } from 'node:fs/promises';
import { decodeImage } from '../decode/decode.js';
import type { DecodeOptions } from '../decode/options.js';
import { ImageDecodeError } from '../errors.js';
import type { RgbImage } from '../image.js';

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
