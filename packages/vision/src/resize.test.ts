import { describe, expect, it } from 'vitest';
import { centreCrop, crop } from './crop.js';
import type { RgbImage } from './image.js';
import { mulberry32 } from './random.js';
import { resize, resizeAndCentreCrop, resizeRegion, resizeShorterSide, type Region } from './resize.js';
import { fitImage } from './target.js';

function randomImage(width: number, height: number, seed: number): RgbImage {
  const random = mulberry32(seed);
  return { width, height, data: Uint8Array.from({ length: width * height * 3 }, () => Math.floor(random() * 256)) };
}

function gray(width: number, height: number, values: number[]): RgbImage {
  return { width, height, data: Uint8Array.from(values.flatMap((v) => [v, v, v])) };
}

function channel0(img: RgbImage): number[] {
  return Array.from({ length: img.width * img.height }, (_, p) => img.data[3 * p]!);
}

/**
 * Reference resampler written the slow, obvious way: every output pixel is a weighted sum over
 * every source pixel, weight = triangle(dx) * triangle(dy) with the support scaled by the shrink
 * factor, normalised over the pixels inside the image.
 */
function referenceResize(img: RgbImage, region: Region, width: number, height: number, antialias: boolean): RgbImage {
  const sx = region.width / width;
  const sy = region.height / height;
  const supX = antialias ? Math.max(1, sx) : 1;
  const supY = antialias ? Math.max(1, sy) : 1;
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const cx = region.x + (x + 0.5) * sx;
      const cy = region.y + (y + 0.5) * sy;
      const acc = [0, 0, 0];
      let total = 0;
      for (let j = 0; j < img.height; j++) {
        const wy = Math.max(0, 1 - Math.abs((j + 0.5 - cy) / supY));
        if (wy === 0) continue;
        for (let i = 0; i < img.width; i++) {
          const wx = Math.max(0, 1 - Math.abs((i + 0.5 - cx) / supX));
          if (wx === 0) continue;
          const w = wx * wy;
          total += w;
          for (let c = 0; c < 3; c++) acc[c]! += img.data[(j * img.width + i) * 3 + c]! * w;
        }
      }
      for (let c = 0; c < 3; c++) out[(y * width + x) * 3 + c] = Math.round(acc[c]! / total);
    }
  }
  return { width, height, data: out };
}

/** TF's resizeBilinear(alignCorners=true), straight from its definition. */
function referenceAlignCorners(img: RgbImage, width: number, height: number): RgbImage {
  const out = new Uint8Array(width * height * 3);
  const scaleX = width > 1 ? (img.width - 1) / (width - 1) : 0;
  const scaleY = height > 1 ? (img.height - 1) / (height - 1) : 0;
  for (let y = 0; y < height; y++) {
    const fy = y * scaleY;
    const top = Math.floor(fy);
    const bottom = Math.min(img.height - 1, Math.ceil(fy));
    for (let x = 0; x < width; x++) {
      const fx = x * scaleX;
      const left = Math.floor(fx);
      const right = Math.min(img.width - 1, Math.ceil(fx));
      for (let c = 0; c < 3; c++) {
        const at = (px: number, py: number) => img.data[(py * img.width + px) * 3 + c]!;
        const t = at(left, top) + (at(right, top) - at(left, top)) * (fx - left);
        const b = at(left, bottom) + (at(right, bottom) - at(left, bottom)) * (fx - left);
        out[(y * width + x) * 3 + c] = Math.round(t + (b - t) * (fy - top));
      }
    }
  }
  return { width, height, data: out };
}

function maxDiff(a: RgbImage, b: RgbImage): number {
  expect([a.width, a.height]).toEqual([b.width, b.height]);
  let m = 0;
  for (let i = 0; i < a.data.length; i++) m = Math.max(m, Math.abs(a.data[i]! - b.data[i]!));
  return m;
}

describe('bilinear resize', () => {
  it('matches known values', () => {
    // Magnify 2 -> 4: half-pixel centres give 0, 25, 75, 100 (torch align_corners=False, PIL).
    expect(channel0(resize(gray(2, 1, [0, 100]), 4, 1))).toEqual([0, 25, 75, 100]);
    // Shrink 4 -> 2 with antialias (support 2): around centre 1.0 weights .75/.75/.25 -> 125/1.75 = 71.4;
    // around centre 3.0 weights .25/.75/.75 -> 366.25/1.75 = 209.3.
    expect(channel0(resize(gray(4, 1, [0, 100, 200, 255]), 2, 1))).toEqual([71, 209]);
    // Without antialias only the two nearest pixels count.
    expect(channel0(resize(gray(4, 1, [0, 100, 200, 255]), 2, 1, { antialias: false }))).toEqual([50, 228]);
  });

  it('is the identity at the same size and keeps constant images constant', () => {
    const img = randomImage(13, 9, 1);
    expect(maxDiff(resize(img, 13, 9), img)).toBe(0);
    const flat = { width: 50, height: 40, data: new Uint8Array(50 * 40 * 3).fill(77) };
    for (const [w, h] of [[7, 5], [120, 99], [50, 3]]) expect(new Set(resize(flat, w!, h!).data)).toEqual(new Set([77]));
  });

  it('agrees with a brute-force reference when shrinking and enlarging', () => {
    const img = randomImage(41, 29, 2);
    const cases: Array<[number, number, boolean]> = [[10, 7, true], [10, 7, false], [17, 30, true], [80, 61, true], [41, 3, true], [5, 29, false]];
    for (const [w, h, antialias] of cases) {
      const full = { x: 0, y: 0, width: 41, height: 29 };
      expect(maxDiff(resize(img, w, h, { antialias }), referenceResize(img, full, w, h, antialias)), `${w}x${h} aa=${antialias}`).toBeLessThanOrEqual(1);
    }
    const region = { x: 3.5, y: 2.25, width: 30, height: 20 };
    expect(maxDiff(resizeRegion(img, region, 12, 8), referenceResize(img, region, 12, 8, true))).toBeLessThanOrEqual(1);
  });

  it('antialiases: fine stripes shrink to flat grey instead of aliasing', () => {
    const stripes = gray(64, 1, Array.from({ length: 64 }, (_, i) => (i % 2) * 255));
    const smooth = channel0(resize(stripes, 5, 1));
    const aliased = channel0(resize(stripes, 5, 1, { antialias: false }));
    expect(Math.max(...smooth) - Math.min(...smooth)).toBeLessThanOrEqual(12);
    expect(Math.max(...aliased) - Math.min(...aliased)).toBeGreaterThan(100);
  });

  it('shrinks a 2592-px photo-sized image quickly', () => {
    const big = randomImage(2592, 1944, 3);
    const started = performance.now();
    const small = resize(big, 256, 192);
    expect([small.width, small.height]).toEqual([256, 192]);
    // Typically ~60 ms; generous because the test machine is shared.
    expect(performance.now() - started).toBeLessThan(2000);
    // Averaging ~100 random pixels per output: values pull towards the mean (127.5).
    const values = channel0(small);
    expect(Math.max(...values.map((v) => Math.abs(v - 127.5)))).toBeLessThan(40);
  });
});

describe('align-corners resize (TF alignCorners=true)', () => {
  it('matches known values: corners kept, midpoints averaged', () => {
    const out = resize(gray(2, 2, [0, 100, 200, 255]), 3, 3, { mode: 'align-corners' });
    expect(channel0(out)).toEqual([0, 50, 100, 100, 139, 178, 200, 228, 255]);
  });

  it('agrees with the TF definition for shrinking and enlarging', () => {
    const img = randomImage(37, 23, 4);
    for (const [w, h] of [[224, 224], [10, 6], [37, 23], [1, 5]]) {
      expect(maxDiff(resize(img, w!, h!, { mode: 'align-corners' }), referenceAlignCorners(img, w!, h!)), `${w}x${h}`).toBeLessThanOrEqual(1);
    }
  });
});

describe('crops', () => {
  it('crops exactly and centres with the odd pixel right/bottom', () => {
    const img = gray(5, 4, Array.from({ length: 20 }, (_, i) => i));
    expect(channel0(crop(img, 1, 2, 2, 2))).toEqual([11, 12, 16, 17]);
    expect(channel0(centreCrop(img, 3, 2))).toEqual([6, 7, 8, 11, 12, 13]);
    expect(() => crop(img, 4, 0, 2, 1)).toThrow(RangeError);
  });

  it('resizes the shorter side keeping the aspect ratio (torchvision rule)', () => {
    const img = randomImage(300, 200, 5);
    const out = resizeShorterSide(img, 150);
    expect([out.width, out.height]).toEqual([225, 150]);
    const tall = resizeShorterSide(randomImage(100, 333, 6), 64);
    expect([tall.width, tall.height]).toEqual([64, 213]);
  });

  it('resizeAndCentreCrop equals resize-shorter-side then centre-crop', () => {
    const img = randomImage(40, 20, 7);
    // Sizes that divide evenly: the fused version must match the two-step one exactly (filter taps
    // near the crop edge read pixels outside the crop, as they do when the whole image is resized).
    expect(maxDiff(resizeAndCentreCrop(img, 10, 10), centreCrop(resizeShorterSide(img, 10), 10, 10))).toBe(0);
    // Uneven sizes: the two-step version rounds the intermediate size and the crop offset to whole
    // pixels; the fused one resamples the exact centred square (here 31x31 starting at x = 7).
    const odd = randomImage(45, 31, 9);
    expect(maxDiff(resizeAndCentreCrop(odd, 7, 7), resizeRegion(odd, { x: 7, y: 0, width: 31, height: 31 }, 7, 7))).toBe(0);
  });

  it('fitImage crops or squishes to the exact target', () => {
    const img = randomImage(64, 32, 8);
    const cropped = fitImage(img, 16);
    const squished = fitImage(img, { width: 16, height: 16, fit: 'squish' });
    expect([cropped.width, cropped.height, squished.width, squished.height]).toEqual([16, 16, 16, 16]);
    expect(maxDiff(cropped, resizeAndCentreCrop(img, 16, 16))).toBe(0);
    expect(maxDiff(squished, resize(img, 16, 16))).toBe(0);
    expect(fitImage(img, { width: 64, height: 32 })).toBe(img); // already the right size: no copy
  });
});
