/**
 * Turns an image upright according to its Exif orientation (all eight cases).
 *
 * Each case is written as "which stored pixel lands at displayed (x, y)", straight from the Exif
 * definition of where the stored 0th row and 0th column belong. Every case is affine, so the
 * copy loop walks the source with two constant strides instead of calling a function per pixel
 * (a 12-megapixel photo would otherwise allocate millions of temporaries).
 */

import type { RgbImage } from '../image.js';
import type { ExifOrientation } from './exif.js';

/** sx = ax*x + bx*y + cx and sy = ay*x + by*y + cy, with c terms in units of (w-1) or (h-1). */
interface SourceMap {
  ax: number; bx: number; cxW: boolean;
  ay: number; by: number; cyH: boolean;
}

const SOURCE: Record<Exclude<ExifOrientation, 1>, SourceMap> = {
  2: { ax: -1, bx: 0, cxW: true, ay: 0, by: 1, cyH: false }, // mirrored left-right: (w-1-x, y)
  3: { ax: -1, bx: 0, cxW: true, ay: 0, by: -1, cyH: true }, // rotated 180°: (w-1-x, h-1-y)
  4: { ax: 1, bx: 0, cxW: false, ay: 0, by: -1, cyH: true }, // mirrored top-bottom: (x, h-1-y)
  5: { ax: 0, bx: 1, cxW: false, ay: 1, by: 0, cyH: false }, // transposed: (y, x)
  6: { ax: 0, bx: 1, cxW: false, ay: -1, by: 0, cyH: true }, // needs 90° clockwise: (y, h-1-x)
  7: { ax: 0, bx: -1, cxW: true, ay: -1, by: 0, cyH: true }, // transversed: (w-1-y, h-1-x)
  8: { ax: 0, bx: -1, cxW: true, ay: 1, by: 0, cyH: false }, // needs 90° anticlockwise: (w-1-y, x)
};

export function applyOrientation(img: RgbImage, orientation: ExifOrientation): RgbImage {
  if (orientation === 1) return img;
  const { width: w, height: h, data: src } = img;
  const swaps = orientation >= 5; // 5..8 exchange width and height
  const outW = swaps ? h : w;
  const outH = swaps ? w : h;
  const m = SOURCE[orientation];
  // Pixel index of the source, as base + x*stepX + y*stepY.
  const stepX = m.ay * w + m.ax;
  const stepY = m.by * w + m.bx;
  const base = (m.cyH ? h - 1 : 0) * w + (m.cxW ? w - 1 : 0);
  const out = new Uint8Array(src.length);
  let o = 0;
  for (let y = 0; y < outH; y++) {
    let p = base + y * stepY;
    for (let x = 0; x < outW; x++, p += stepX) {
      const s = p * 3;
      out[o++] = src[s]!;
      out[o++] = src[s + 1]!;
      out[o++] = src[s + 2]!;
    }
  }
  return { width: outW, height: outH, data: out };
}
