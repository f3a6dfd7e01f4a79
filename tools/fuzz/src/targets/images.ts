/**
 * Image targets: format detection and header probe, JPEG and PNG decoding, Exif orientation.
 * Decoding runs with maxPixels at 1 MP (the decoders' checked limit), so a header that
 * declares more is refused and the allocation budget can be tight: a decode may use
 * BYTES_PER_PIXEL bytes per pixel the file can hold (see jpegPixels, pngPixels) plus a
 * multiple of the file size.
 */

import { decodeImage, ImageDecodeError, readExifOrientation, readImageInfo } from '@tessera/vision';
import { exifSeeds, formatSeeds, jpegSeeds, pngSeeds } from '../seeds/images.js';
import { MiB, type Target } from '../target.js';
import { crc32 } from '../../../../packages/vision/src/util/crc32.js';

/** Recomputes every whole chunk's CRC, so a mutated PNG gets past the CRC check. */
function fixPngCrcs(parts: Uint8Array[]): Uint8Array[] {
  const bytes = parts[0]!.slice();
  const view = new DataView(bytes.buffer);
  for (let at = 8; at + 12 <= bytes.length; ) {
    const end = at + 12 + view.getUint32(at);
    if (end > bytes.length) break;
    view.setUint32(end - 4, crc32(bytes.subarray(at + 4, end - 4)));
    at = end;
  }
  return [bytes];
}

/** The decoders' checked limit during fuzzing. */
export const FUZZ_MAX_PIXELS = 2 ** 20;
/**
 * jpeg-js keeps a 64-coefficient Int32 block per 8x8 per component (4 bytes/sample), an
 * 8-bit plane per component and the output; PNG keeps the inflated rows (up to 8 bytes per
 * pixel at 16-bit RGBA), RGBA and RGB. The guard counts every request cumulatively, so this
 * is a budget for the sum, not the peak.
 */
const BYTES_PER_PIXEL = 64;

/**
 * Pixels a file of `size` bytes may make a decoder allocate for: the pixel limit, and below
 * it what the data can hold. A JPEG block costs at least one bit (so 512 pixels a byte); a
 * PNG's deflate stream expands at most 1032:1, and a 1-bit pixel takes 1/8 byte.
 */
const jpegPixels = (size: number) => Math.min(FUZZ_MAX_PIXELS, 512 * size);
const pngPixels = (size: number) => Math.min(FUZZ_MAX_PIXELS, 8 * 1032 * size);

const imageBudget = (pixels: (size: number) => number) => (parts: Uint8Array[]) =>
  64 * parts[0]!.byteLength + BYTES_PER_PIXEL * pixels(parts[0]!.byteLength) + 2 * MiB;

function checkImage(result: unknown): string | null {
  const img = result as { width: number; height: number; data: Uint8Array };
  if (!Number.isInteger(img.width) || !Number.isInteger(img.height) || img.width < 1 || img.height < 1) {
    return `size ${img.width}x${img.height}`;
  }
  if (img.width * img.height > FUZZ_MAX_PIXELS) return `${img.width}x${img.height} is over maxPixels`;
  if (!(img.data instanceof Uint8Array) || img.data.length !== img.width * img.height * 3) {
    return `data holds ${img.data?.length} bytes for ${img.width}x${img.height} RGB`;
  }
  return null;
}

const isImageError = (err: unknown) => err instanceof ImageDecodeError;

const decodeWith = (parts: Uint8Array[], label: string) => decodeImage(parts[0]!, { file: label, maxPixels: FUZZ_MAX_PIXELS });

export const jpegTarget: Target = {
  name: 'jpeg',
  description: 'decodeImage (JPEG: header walk, jpeg-js, Exif orientation) on baseline/progressive/gray/CMYK files and real photos',
  partNames: ['image.jpg'],
  seeds: async () => jpegSeeds(),
  run: decodeWith,
  isOwnError: isImageError,
  checkResult: checkImage,
  budget: imageBudget(jpegPixels),
};

export const pngTarget: Target = {
  name: 'png',
  description: 'decodeImage (PNG: chunks, CRCs, inflate, filters, Adam7, palettes, tRNS) on every colour type',
  partNames: ['image.png'],
  seeds: async () => pngSeeds(),
  repair: fixPngCrcs,
  run: decodeWith,
  isOwnError: isImageError,
  checkResult: checkImage,
  budget: imageBudget(pngPixels),
};

export const formatTarget: Target = {
  name: 'image-format',
  description: 'readImageInfo (magic-byte detection incl. GIF/WebP refusal, JPEG/PNG header size) on all image seeds and the hymenoptera GIF',
  partNames: ['image'],
  seeds: async () => formatSeeds(),
  run: (parts, label) => readImageInfo(parts[0]!, label),
  isOwnError: isImageError,
  checkResult: (result) => {
    const info = result as { format: string; width: number; height: number };
    if (info.format !== 'jpeg' && info.format !== 'png') return `format ${info.format} returned instead of refused`;
    return Number.isInteger(info.width) && Number.isInteger(info.height) && info.width > 0 && info.height > 0
      ? null : `size ${info.width}x${info.height}`;
  },
  // A header probe reads; it has no business allocating more than the file.
  budget: (parts) => 4 * parts[0]!.byteLength + 64 * 1024,
};

export const exifTarget: Target = {
  name: 'exif',
  description: 'readExifOrientation on Exif TIFF payloads (never throws: malformed Exif means orientation 1)',
  partNames: ['exif.tiff'],
  seeds: async () => exifSeeds(),
  run: (parts) => readExifOrientation(parts[0]!),
  isOwnError: () => false,
  checkResult: (result) => (Number.isInteger(result) && (result as number) >= 1 && (result as number) <= 8 ? null : `orientation ${String(result)}`),
  budget: () => 64 * 1024,
};
