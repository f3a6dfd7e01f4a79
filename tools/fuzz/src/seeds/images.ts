/**
 * Image seeds made by code (every JPEG and PNG variant the decoders support, small so a case
 * is fast) plus the real files, each with its structure boundaries: JPEG marker segments and
 * PNG chunks, where the length fields are.
 */

import { exifSegment, withExifOrientation } from '../../../../packages/vision/src/testing/exif-writer.js';
import { blockImage, encodeBaselineJpeg, gradientImage, TINY_GIF, TINY_WEBP } from '../../../../packages/vision/src/testing/images.js';
import { rgbToYcbcrPlanes, writeJpeg, writeRgbJpeg } from '../../../../packages/vision/src/testing/jpeg-writer.js';
import { writePng } from '../../../../packages/vision/src/testing/png-writer.js';
import type { Seed } from '../target.js';
import { realGif, realJpegs } from './real-files.js';

/** Offsets of each marker (0xFF xx) up to the first scan, then a spread through the scan. */
export function jpegBoundaries(bytes: Uint8Array): number[] {
  const out = [0, 2];
  let at = 2;
  while (at + 4 <= bytes.length && bytes[at] === 0xff) {
    const marker = bytes[at + 1]!;
    out.push(at, at + 2);
    if (marker === 0xda) break;
    at += 2 + ((bytes[at + 2]! << 8) | bytes[at + 3]!);
  }
  out.push(bytes.length - 2); // EOI
  return out;
}

/** Offsets of each chunk's length, type, data and CRC. */
export function pngBoundaries(bytes: Uint8Array): number[] {
  const out = [0, 8];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 8; at + 8 <= bytes.length; ) {
    const length = view.getUint32(at);
    out.push(at, at + 4, at + 8, at + 8 + length);
    at += 12 + length;
  }
  return out;
}

const one = (name: string, bytes: Uint8Array, boundaries: number[]): Seed => ({ name, parts: [bytes], boundaries: [boundaries] });

export function jpegSeeds(): Seed[] {
  const rgb = gradientImage(24, 16);
  const planes = rgbToYcbcrPlanes(16, 16, blockImage(2, 2).data);
  const gray = gradientImage(16, 8).data.filter((_, i) => i % 3 === 0);
  const made: [string, Uint8Array][] = [
    ['baseline 24x16 (jpeg-js)', encodeBaselineJpeg(rgb, 80)],
    ['baseline 16x16, Exif orientation 6', withExifOrientation(encodeBaselineJpeg(blockImage(2, 2)), 6)],
    ['baseline, little-endian Exif orientation 8', withExifOrientation(encodeBaselineJpeg(gradientImage(9, 7)), 8, true)],
    ['progressive 16x16', writeRgbJpeg(16, 16, blockImage(2, 2).data, true)],
    ['grayscale 16x8', writeJpeg({ width: 16, height: 8, planes: [gray] })],
    ['Adobe YCCK 16x16', writeJpeg({ width: 16, height: 16, planes: [...planes, planes[0]!], adobeTransform: 2 })],
    ['Adobe RGB 16x16', writeJpeg({ width: 16, height: 16, planes, adobeTransform: 0 })],
  ];
  const real = realJpegs(2).map((f): [string, Uint8Array] => [f.name, f.bytes]);
  return [...made, ...real].map(([name, bytes]) => one(name, bytes, jpegBoundaries(bytes)));
}

export function pngSeeds(): Seed[] {
  const ramp = (n: number, max: number) => Array.from({ length: n }, (_, i) => (i * 37) % (max + 1));
  const made: [string, Uint8Array][] = [
    ['RGB 8-bit 7x5', writePng({ width: 7, height: 5, colorType: 2, bitDepth: 8, samples: ramp(7 * 5 * 3, 255) })],
    ['RGBA 8-bit interlaced 9x9', writePng({ width: 9, height: 9, colorType: 6, bitDepth: 8, samples: ramp(9 * 9 * 4, 255), interlaced: true })],
    ['palette 4-bit with tRNS 6x4', writePng({
      width: 6, height: 4, colorType: 3, bitDepth: 4, samples: ramp(24, 3),
      palette: [[255, 0, 0], [0, 255, 0], [0, 0, 255], [9, 9, 9]], transparency: [0, 128],
    })],
    ['gray 16-bit with tRNS 5x3', writePng({ width: 5, height: 3, colorType: 0, bitDepth: 16, samples: ramp(15, 65535), transparency: [37] })],
    ['gray 1-bit interlaced 11x6', writePng({ width: 11, height: 6, colorType: 0, bitDepth: 1, samples: ramp(66, 1), interlaced: true })],
    ['gray+alpha 16-bit 4x4', writePng({ width: 4, height: 4, colorType: 4, bitDepth: 16, samples: ramp(32, 65535) })],
  ];
  return made.map(([name, bytes]) => one(name, bytes, pngBoundaries(bytes)));
}

/** Every format the detector names: the decodable ones and the GIF/WebP it must refuse by name. */
export function formatSeeds(): Seed[] {
  const gif = realGif();
  return [
    ...jpegSeeds().slice(0, 3),
    ...pngSeeds().slice(0, 3),
    one('GIF 1x1', TINY_GIF, [0, 6]),
    one('WebP header', TINY_WEBP, [0, 4, 8, 12]),
    ...(gif ? [one(gif.name, gif.bytes, [0, 6, 10, 13])] : []),
  ];
}

/** Exif TIFF payloads (what follows "Exif\0\0" in APP1), both byte orders. */
export function exifSeeds(): Seed[] {
  return [1, 3, 6, 8].flatMap((o) => [false, true].map((little): Seed => {
    const tiff = exifSegment(o, little).subarray(10); // FF E1, length, "Exif\0\0"
    return { name: `orientation ${o} ${little ? 'II' : 'MM'}`, parts: [tiff], boundaries: [[0, 2, 4, 8, 10, 22, 34]] };
  }));
}
