import { describe, expect, it } from 'vitest';
import type { RgbImage } from '../image.js';
import { blockColour, blockImage, encodeBaselineJpeg } from '../testing/images.js';
import { exifSegment, withExifOrientation } from '../testing/exif-writer.js';
import { decodeImage } from './decode.js';
import { readExifOrientation } from './exif.js';

/** The TIFF payload of an APP1 segment made by exifSegment. */
function tiffOf(orientation: number, littleEndian: boolean): Uint8Array {
  return exifSegment(orientation, littleEndian).subarray(4 + 6);
}

/**
 * What a viewer shows for each orientation, as a function from displayed block (bx, by) to the
 * stored block, written from the Exif table ("row 0 is at the ..., column 0 is at the ...")
 * independently of the implementation's affine maps.
 */
function storedBlockFor(orientation: number, bx: number, by: number, w: number, h: number): [number, number] {
  switch (orientation) {
    case 1: return [bx, by]; // row 0 top, column 0 left
    case 2: return [w - 1 - bx, by]; // row 0 top, column 0 right
    case 3: return [w - 1 - bx, h - 1 - by]; // row 0 bottom, column 0 right
    case 4: return [bx, h - 1 - by]; // row 0 bottom, column 0 left
    case 5: return [by, bx]; // row 0 left, column 0 top
    case 6: return [by, h - 1 - bx]; // row 0 right, column 0 top
    case 7: return [w - 1 - by, h - 1 - bx]; // row 0 right, column 0 bottom
    case 8: return [w - 1 - by, bx]; // row 0 left, column 0 bottom
    default: throw new Error(String(orientation));
  }
}

describe('Exif orientation', () => {
  it('reads the tag in both byte orders and ignores malformed Exif', () => {
    for (const le of [false, true]) for (let o = 1; o <= 8; o++) expect(readExifOrientation(tiffOf(o, le))).toBe(o);
    expect(readExifOrientation(tiffOf(9, false))).toBe(1);
    expect(readExifOrientation(tiffOf(0, true))).toBe(1);
    expect(readExifOrientation(new Uint8Array(0))).toBe(1);
    expect(readExifOrientation(Uint8Array.from([0x4d, 0x4d, 0, 42, 0xff, 0xff, 0xff, 0xff]))).toBe(1); // IFD offset out of range
    const truncated = tiffOf(6, false).subarray(0, 20); // directory cut off mid-entry
    expect(readExifOrientation(truncated)).toBe(1);
  });

  it('turns JPEGs upright for all eight orientations', () => {
    const W = 4;
    const H = 3;
    const stored: RgbImage = blockImage(W, H);
    const jpegBytes = encodeBaselineJpeg(stored, 100);
    const reference = decodeImage(jpegBytes);
    for (let o = 1; o <= 8; o++) {
      const out = decodeImage(withExifOrientation(jpegBytes, o, o % 2 === 0));
      const swapped = o >= 5;
      expect([out.width, out.height], `orientation ${o}`).toEqual(swapped ? [H * 8, W * 8] : [W * 8, H * 8]);
      const shownW = swapped ? H : W;
      const shownH = swapped ? W : H;
      for (let by = 0; by < shownH; by++) {
        for (let bx = 0; bx < shownW; bx++) {
          const [sx, sy] = storedBlockFor(o, bx, by, W, H);
          expect(blockColour(out, bx, by), `orientation ${o} block ${bx},${by}`).toEqual(blockColour(reference, sx, sy));
        }
      }
    }
  });

  it('can leave the stored orientation when asked', () => {
    const jpegBytes = withExifOrientation(encodeBaselineJpeg(blockImage(4, 2)), 6);
    expect(decodeImage(jpegBytes, { exifOrientation: false }).width).toBe(32);
    expect(decodeImage(jpegBytes).width).toBe(16);
  });
});
