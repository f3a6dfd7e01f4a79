/**
 * Pixel-exact crops (no resampling).
 */

import { createImage, type RgbImage } from './image.js';

export function crop(img: RgbImage, x: number, y: number, width: number, height: number): RgbImage {
  if (![x, y, width, height].every(Number.isInteger) || x < 0 || y < 0 || width <= 0 || height <= 0 || x + width > img.width || y + height > img.height) {
    throw new RangeError(`crop ${width}x${height} at (${x}, ${y}) does not fit in a ${img.width}x${img.height} image`);
  }
  const out = createImage(width, height);
  const rowBytes = width * 3;
  for (let r = 0; r < height; r++) {
    const s = ((y + r) * img.width + x) * 3;
    out.data.set(img.data.subarray(s, s + rowBytes), r * rowBytes);
  }
  return out;
}

/** Centre crop; when the margin is odd the extra pixel is left on the right/bottom (floor). */
export function centreCrop(img: RgbImage, width: number, height: number): RgbImage {
  return crop(img, Math.floor((img.width - width) / 2), Math.floor((img.height - height) / 2), width, height);
}
