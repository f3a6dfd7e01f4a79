/**
 * Draws filled discs of one colour on white with analytic antialiasing.
 *
 * A pixel's coverage is approximated by its centre's signed distance to the circle,
 * clamp(radius + 0.5 - distance, 0, 1): exact for straight edges and within a few percent for
 * these radii, and cheap. The look matches matplotlib's scatter plot of filled markers, which is
 * how the fastai lesson's counting images were made.
 */

import { createImage, type RgbImage } from '../image.js';
import type { Disc } from './disc-layout.js';

/** matplotlib's default first colour, 'C0' (#1f77b4). */
export const MATPLOTLIB_BLUE: readonly [number, number, number] = [0x1f, 0x77, 0xb4];

export function renderDiscs(size: number, discs: readonly Disc[], radius: number, colour: readonly [number, number, number] = MATPLOTLIB_BLUE): RgbImage {
  const coverage = new Float32Array(size * size);
  for (const { x: cx, y: cy } of discs) {
    const x0 = Math.max(0, Math.floor(cx - radius - 1));
    const x1 = Math.min(size - 1, Math.ceil(cx + radius + 1));
    const y0 = Math.max(0, Math.floor(cy - radius - 1));
    const y1 = Math.min(size - 1, Math.ceil(cy + radius + 1));
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        const d = Math.hypot(x + 0.5 - cx, y + 0.5 - cy);
        const c = Math.min(1, Math.max(0, radius + 0.5 - d));
        // Discs never overlap, but max() keeps a shared rim pixel from exceeding full coverage.
        if (c > coverage[y * size + x]!) coverage[y * size + x] = c;
      }
    }
  }
  const img = createImage(size, size);
  const [r, g, b] = colour;
  for (let p = 0, o = 0; p < coverage.length; p++, o += 3) {
    const c = coverage[p]!;
    img.data[o] = Math.round(255 + (r - 255) * c);
    img.data[o + 1] = Math.round(255 + (g - 255) * c);
    img.data[o + 2] = Math.round(255 + (b - 255) * c);
  }
  return img;
}
