/**
 * Test-only image makers: deterministic pixel patterns and encoded files of every kind the
 * decoders must handle, plus the bad files they must reject.
 */

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { encodePng } from '../encode/png.js';
import type { RgbImage } from '../image.js';
import { crc32 } from '../util/crc32.js';

/** Smooth colour ramps: JPEG-friendly, and every pixel differs from its neighbours. */
export function gradientImage(width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      data[o] = Math.round((255 * x) / Math.max(1, width - 1));
      data[o + 1] = Math.round((255 * y) / Math.max(1, height - 1));
      data[o + 2] = 128;
    }
  }
  return { width, height, data };
}

/** Solid 8x8 blocks in distinct colours: survives JPEG almost exactly, and shows any flip or turn. */
export function blockImage(blocksX: number, blocksY: number): RgbImage {
  const width = blocksX * 8;
  const height = blocksY * 8;
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const b = Math.floor(y / 8) * blocksX + Math.floor(x / 8);
      const o = (y * width + x) * 3;
      data[o] = (b * 97) % 256;
      data[o + 1] = (b * 53 + 40) % 256;
      data[o + 2] = 255 - ((b * 31) % 256);
    }
  }
  return { width, height, data };
}

/** The colour at the centre of 8x8 block (bx, by) of an image. */
export function blockColour(img: RgbImage, bx: number, by: number): [number, number, number] {
  const o = ((by * 8 + 4) * img.width + bx * 8 + 4) * 3;
  return [img.data[o]!, img.data[o + 1]!, img.data[o + 2]!];
}

/** Baseline JPEG through jpeg-js's encoder (the only kind it writes). */
export function encodeBaselineJpeg(img: RgbImage, quality = 95): Uint8Array {
  const rgba = new Uint8Array(img.width * img.height * 4);
  for (let p = 0; p < img.width * img.height; p++) {
    rgba.set(img.data.subarray(p * 3, p * 3 + 3), p * 4);
    rgba[p * 4 + 3] = 255;
  }
  return jpeg.encode({ width: img.width, height: img.height, data: rgba }, quality).data;
}

export function maxAbsDiff(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Rewrites the frame size in a JPEG's SOF0/SOF2 header (a decompression bomb's header). */
export function withJpegFrameSize(bytes: Uint8Array, width: number, height: number): Uint8Array {
  const out = Uint8Array.from(bytes);
  for (let i = 2; i + 9 < out.length; ) {
    const marker = out[i + 1]!;
    const length = (out[i + 2]! << 8) | out[i + 3]!;
    if (marker === 0xc0 || marker === 0xc2) {
      out[i + 5] = height >> 8;
      out[i + 6] = height & 0xff;
      out[i + 7] = width >> 8;
      out[i + 8] = width & 0xff;
      return out;
    }
    i += 2 + length;
  }
  throw new Error('no SOF0/SOF2 marker found');
}

/** Rewrites the size in a PNG's IHDR (and its CRC, so only the size is wrong). */
export function withPngSize(bytes: Uint8Array, width: number, height: number): Uint8Array {
  const out = Uint8Array.from(bytes);
  const view = new DataView(out.buffer);
  view.setUint32(16, width);
  view.setUint32(20, height);
  view.setUint32(29, crc32(out.subarray(12, 29)));
  return out;
}

/** A minimal GIF89a (1x1), as real folders contain. */
export const TINY_GIF = Uint8Array.from(
  Buffer.from('R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==', 'base64'),
);

/** A RIFF/WEBP header: enough for detection. */
export const TINY_WEBP = Uint8Array.from([...Buffer.from('RIFF'), 26, 0, 0, 0, ...Buffer.from('WEBPVP8 '), 0, 0, 0, 0]);

/** Writes `count` small valid images (alternating JPEG and PNG) into dir; returns their paths. */
export function writeImages(dir: string, count: number, size = 24, seed = 0): string[] {
  mkdirSync(dir, { recursive: true });
  const paths: string[] = [];
  for (let i = 0; i < count; i++) {
    const img = gradientImage(size + ((i + seed) % 5), size + ((i * 3 + seed) % 7));
    img.data[0] = (i * 37 + seed) % 256; // make every file distinct
    const png = i % 2 === 1;
    const path = join(dir, `img${String(i).padStart(3, '0')}.${png ? 'png' : 'jpg'}`);
    writeFileSync(path, png ? encodePng(img) : encodeBaselineJpeg(img));
    paths.push(path);
  }
  return paths;
}
