/**
 * RGB image to PNG bytes (8-bit truecolour, no alpha), for synthetic datasets and the images
 * embedded in the pictures' SVG. fast-png (pure JavaScript over fflate) rather than pngjs, which
 * needs Node's zlib and streams: this runs in the browser too, and one encoder everywhere writes
 * the same bytes everywhere.
 */
import { encode } from 'fast-png';
import type { RgbImage } from '../image.js';

export function encodePng(img: RgbImage): Uint8Array {
  return encode({ width: img.width, height: img.height, data: img.data, channels: 3, depth: 8 });
}
