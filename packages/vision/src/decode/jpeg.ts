/**
 * JPEG to RGB through jpeg-js: baseline, extended and progressive; grayscale, YCbCr, RGB, and
 * Adobe CMYK/YCCK; Exif orientation applied.
 *
 * jpeg-js is pure JavaScript (works in workers and browsers, no native build) but slow, which is
 * why decoding happens in worker threads and results are cached. Its own resolution and memory
 * caps are set from our pixel limit as a second line of defence behind the header check.
 */

import jpeg from 'jpeg-js';
import { ImageDecodeError } from '../errors.js';
import type { RgbImage } from '../image.js';
import { readExifOrientation } from './exif.js';
import { JpegHeaderError, readJpegHeader, type JpegHeader } from './jpeg-header.js';
import { checkPixelLimit, type ResolvedDecodeOptions } from './options.js';
import { applyOrientation } from './orientation.js';

/** Reads the header or throws an ImageDecodeError naming the file. */
export function jpegHeaderOf(bytes: Uint8Array, file: string): JpegHeader {
  try {
    return readJpegHeader(bytes);
  } catch (err) {
    if (err instanceof JpegHeaderError) throw new ImageDecodeError(file, err.message);
    throw err;
  }
}

/**
 * jpeg-js applies the YCbCr transform to every 3-component image unless told otherwise; an Adobe
 * marker with transform 0, or libjpeg's 'R','G','B' component ids, say the data is already RGB.
 */
function colorTransformFor(header: JpegHeader): boolean | undefined {
  if (header.components !== 3) return undefined; // 1: gray; 4: jpeg-js follows the Adobe marker
  if (header.adobeTransform === 0) return false;
  const [r, g, b] = header.componentIds;
  if (header.adobeTransform === null && r === 0x52 && g === 0x47 && b === 0x42) return false;
  return undefined;
}

/** jpeg-js messages are terse; say what they mean for a user looking at a file. */
function explain(message: string): string {
  if (/marker was not found|end of|offset is outside/i.test(message)) return `truncated or corrupt image data (${message})`;
  return `corrupt JPEG (${message})`;
}

export function decodeJpeg(bytes: Uint8Array, options: ResolvedDecodeOptions): RgbImage {
  const { file } = options;
  const header = jpegHeaderOf(bytes, file);
  checkPixelLimit(file, header.width, header.height, options.maxPixels);
  // Each 8x8 block of a full-resolution component costs at least one bit of scan data (a
  // Huffman code is 1 to 16 bits), so a file with fewer bits than blocks is truncated whatever
  // its header says. Refusing it here keeps jpeg-js from allocating for the declared size.
  if (Math.ceil(header.width / 8) * Math.ceil(header.height / 8) > 8 * bytes.length) {
    throw new ImageDecodeError(file, `truncated or corrupt image data (a ${header.width}x${header.height} JPEG cannot fit in ${bytes.length} bytes)`);
  }
  if (header.components === 4 && header.adobeTransform === null) {
    throw new ImageDecodeError(file, '4-component (CMYK) JPEG without an Adobe marker is not supported');
  }
  const pixels = header.width * header.height;
  let decoded: { width: number; height: number; data: Uint8Array };
  try {
    decoded = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: false,
      colorTransform: colorTransformFor(header),
      // Tolerant mode accepts the small spec violations common in camera files; real truncation
      // still throws ("marker was not found").
      tolerantDecoding: true,
      maxResolutionInMP: Math.max(1, options.maxPixels / 1e6),
      // Coefficient blocks (4 bytes per sample per component) + component planes + output,
      // with headroom for MCU padding: enough for any image that passed the pixel check.
      maxMemoryUsageInMB: Math.ceil((pixels * (header.components * 6 + 6)) / 2 ** 20) + 64,
    });
  } catch (err) {
    throw new ImageDecodeError(file, explain(err instanceof Error ? err.message : String(err)), { cause: err });
  }
  const image: RgbImage = { width: decoded.width, height: decoded.height, data: decoded.data };
  if (!options.exifOrientation || header.exif === null) return image;
  return applyOrientation(image, readExifOrientation(header.exif));
}
