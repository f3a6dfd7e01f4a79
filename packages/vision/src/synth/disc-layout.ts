/**
 * Places N equal discs in a square so that none touch: every pair of edges at least `gap`
 * pixels apart, every disc wholly inside the plot area (the image less `margin` pixels on each
 * side, as a matplotlib scatter plot leaves room around its axes).
 *
 * Random sequential placement: propose uniform centres, keep those far enough from the rest.
 * Near the packing limit a layout can get stuck; then it starts over, still drawing from the same
 * seeded stream, so the result stays a pure function of the seed.
 */

import { TesseraVisionError } from '../errors.js';
import type { Random } from '../random.js';

export interface Disc {
  x: number;
  y: number;
}

export interface DiscLayoutOptions {
  count: number;
  /** Image side in pixels. */
  size: number;
  radius: number;
  /** Minimum distance between the edges of two discs, in pixels. */
  gap: number;
  /** Pixels on each side of the image that no disc reaches. Default 0. */
  margin?: number;
}

const TRIES_PER_DISC = 1000;
const RESTARTS = 50;
/** Densest packing of equal circles (hexagonal) covers pi/sqrt(12) of the plane. */
const HEXAGONAL_DENSITY = Math.PI / Math.sqrt(12);

export function placeDiscs({ count, size, radius, gap, margin = 0 }: DiscLayoutOptions, random: Random): Disc[] {
  // Half a pixel more keeps the antialiased rim inside the plot area too.
  const lo = margin + radius + 0.5;
  const span = size - 2 * lo;
  if (span < 0) throw new TesseraVisionError(`a disc of radius ${radius} does not fit in a ${size}-px image with ${margin}-px margins`);
  const plot = size - 2 * margin;
  const minDistanceSq = (2 * radius + gap) ** 2;
  // Each disc claims a circle of radius r + gap/2 that no other claim overlaps; if even a perfect
  // hexagonal packing (with a border allowance) cannot hold them, fail at once instead of retrying.
  const claimed = count * Math.PI * (radius + gap / 2) ** 2;
  if (claimed > HEXAGONAL_DENSITY * (plot + gap) ** 2) throw impossible(count, size, radius, gap);
  for (let restart = 0; restart < RESTARTS; restart++) {
    const discs: Disc[] = [];
    let tries = 0;
    while (discs.length < count && tries < TRIES_PER_DISC) {
      tries++;
      const x = lo + random() * span;
      const y = lo + random() * span;
      if (discs.every((d) => (d.x - x) ** 2 + (d.y - y) ** 2 >= minDistanceSq)) {
        discs.push({ x, y });
        tries = 0;
      }
    }
    if (discs.length === count) return discs;
  }
  throw impossible(count, size, radius, gap);
}

function impossible(count: number, size: number, radius: number, gap: number): TesseraVisionError {
  return new TesseraVisionError(
    `cannot place ${count} non-touching discs of radius ${radius} (gap ${gap}) in a ${size}-px image; ` +
      'use a larger size or a smaller radius',
  );
}
