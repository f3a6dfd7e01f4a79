/**
 * Decode options shared by every format, and the pixel-count guard against decompression bombs.
 *
 * A 100-byte file can declare a 65535x65535 frame; decoding it would try to allocate ~13 GB. The
 * guard compares the header's declared size with `maxPixels` before any pixel buffer exists.
 */

import { ImageDecodeError } from '../errors.js';

/** 100 megapixels: well above any camera photo (a 2592-px photo is 5 MP), far below a bomb. */
export const DEFAULT_MAX_PIXELS = 100_000_000;

export interface DecodeOptions {
  /** Refuse images whose header declares more pixels than this. Default {@link DEFAULT_MAX_PIXELS}. */
  maxPixels?: number;
  /**
   * How transparent PNG pixels become RGB. 'white' (default) composites over white, so transparent
   * areas look as they do in a browser; 'drop' ignores alpha and keeps the stored colour, which is
   * what PIL's `convert('RGB')` does (fully transparent pixels may then be black or arbitrary).
   */
  alpha?: 'white' | 'drop';
  /** Turn JPEGs upright from their Exif orientation tag (default true, like PIL's exif_transpose). */
  exifOrientation?: boolean;
  /** Name used in error messages when decoding bytes that did not come from a path. */
  file?: string;
}

/** Decode options for a dataset's items, which survive structured cloning (no `file`: each item names its own). */
export type FileDecodeOptions = Omit<DecodeOptions, 'file'>;

export interface ResolvedDecodeOptions {
  maxPixels: number;
  alpha: 'white' | 'drop';
  exifOrientation: boolean;
  file: string;
}

export function resolveDecodeOptions(options: DecodeOptions = {}): ResolvedDecodeOptions {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (!(maxPixels > 0)) throw new RangeError(`maxPixels must be positive, got ${maxPixels}`);
  return {
    maxPixels,
    alpha: options.alpha ?? 'white',
    exifOrientation: options.exifOrientation ?? true,
    file: options.file ?? '<bytes>',
  };
}

/** Throws ImageDecodeError when a declared size exceeds the limit. */
export function checkPixelLimit(file: string, width: number, height: number, maxPixels: number): void {
  if (width * height > maxPixels) {
    const mp = (n: number) => `${(n / 1e6).toFixed(1)} MP`;
    throw new ImageDecodeError(
      file,
      `declared size ${width}x${height} (${mp(width * height)}) exceeds the limit of ${mp(maxPixels)}; ` +
        'raise maxPixels if this image is genuine',
    );
  }
}
