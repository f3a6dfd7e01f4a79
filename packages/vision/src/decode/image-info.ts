/**
 * Format and declared size of an image from its leading bytes, without decoding it.
 *
 * Datasets call this on every file when they are opened, so that GIFs, text files and bombs are
 * reported once, up front, instead of failing in the middle of an epoch.
 */

import { ImageDecodeError } from '../errors.js';
import { DECODABLE_FORMATS, detectFormat, formatName, type ImageFormat } from './format.js';
import { jpegHeaderOf } from './jpeg.js';
import { checkPixelLimit } from './options.js';
import { pngHeaderOf } from './png.js';

export interface ImageInfo {
  format: ImageFormat;
  /** Stored size (before Exif orientation, which may swap the two). */
  width: number;
  height: number;
}

/** Describes unrecognised content in a way that helps ("looks like text: <!DOCTYPE html>"). */
function describeUnknown(bytes: Uint8Array): string {
  const head = bytes.subarray(0, 24);
  const printable = head.every((b) => b === 9 || b === 10 || b === 13 || (b >= 32 && b < 127));
  if (printable) {
    const text = String.fromCharCode(...head).replace(/\s+/g, ' ').trim();
    return `not an image: looks like text ("${text}${bytes.length > head.length ? '...' : ''}")`;
  }
  const hex = Array.from(head.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join('');
  return `not a recognised image format (first bytes ${hex})`;
}

/** Throws ImageDecodeError for empty files, unknown or unsupported formats, and bad headers. */
export function readImageInfo(bytes: Uint8Array, file: string): ImageInfo {
  if (bytes.length === 0) throw new ImageDecodeError(file, 'empty file (0 bytes)');
  const format = detectFormat(bytes);
  if (format === 'unknown') throw new ImageDecodeError(file, describeUnknown(bytes));
  if (!DECODABLE_FORMATS.includes(format)) {
    throw new ImageDecodeError(file, `${formatName(format)} is not supported (only JPEG and PNG)`);
  }
  const header = format === 'jpeg' ? jpegHeaderOf(bytes, file) : pngHeaderOf(bytes, file);
  return { format, width: header.width, height: header.height };
}

/** readImageInfo plus the pixel limit: what a dataset checks for each image when it is opened. */
export function probeImage(bytes: Uint8Array, file: string, maxPixels: number): ImageInfo {
  const info = readImageInfo(bytes, file);
  checkPixelLimit(file, info.width, info.height, maxPixels);
  return info;
}
