/**
 * Image files: read (I/O failures become ImageDecodeError, so callers handle one error type) and
 * decode by content.
 */

import { FileReadError, readFileChecked } from '@tessera/tensor/node';
import { decodeImage } from '../decode/decode.js';
import type { DecodeOptions } from '../decode/options.js';
import { ImageDecodeError } from '../errors.js';
import type { RgbImage } from '../image.js';

/**
 * The largest image file read. Far above any photo (a 100-megapixel JPEG is ~50 MiB); the
 * decoders refuse decompression bombs separately, by pixel count.
 */
export const MAX_IMAGE_FILE_BYTES = 512 * 2 ** 20;

/**
 * Reads an image file, turning I/O failures into ImageDecodeError so callers handle one error
 * type. Only regular files of at most MAX_IMAGE_FILE_BYTES: `/dev/zero` or a FIFO would
 * otherwise be read until memory runs out.
 */
export async function readImageBytes(path: string): Promise<Uint8Array> {
  try {
    return await readFileChecked(path, { maxBytes: MAX_IMAGE_FILE_BYTES, what: 'image' });
  } catch (err) {
    if (err instanceof FileReadError) throw new ImageDecodeError(path, err.reason, { cause: err });
    throw err;
  }
}

export async function decodeImageFile(path: string, options: Omit<DecodeOptions, 'file'> = {}): Promise<RgbImage> {
  const bytes = await readImageBytes(path);
  return decodeImage(bytes, { ...options, file: path });
}
