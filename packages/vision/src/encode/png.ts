/**
 * RGB image to PNG bytes (8-bit truecolour, no alpha), for writing synthetic datasets and
 * pictures that any tool can open.
 */

import pngjs from 'pngjs';
import type { RgbImage } from '../image.js';

export function encodePng(img: RgbImage): Uint8Array {
  const png = new pngjs.PNG({ width: img.width, height: img.height });
  // With inputHasAlpha false pngjs reads `data` as packed RGB; this wraps, not copies, the pixels.
  png.data = Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength);
  return pngjs.PNG.sync.write(png, { colorType: 2, inputHasAlpha: false });
}
