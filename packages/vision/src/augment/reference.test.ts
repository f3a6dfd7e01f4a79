import { describe, expect, it } from 'vitest';
import { type AugmentBatchParams, type ImageAugment, type PadMode, identityParams, imageParams, logit, neutralDraws, sampleAugmentParams } from './params.js';
import { augmentReference, lightingValue, padCoord } from './reference.js';

function randomBytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

function batch(images: ImageAugment[], src: { height: number; width: number }, out: { height: number; width: number }, padMode: PadMode = 'reflection'): AugmentBatchParams {
  return { srcHeight: src.height, srcWidth: src.width, outHeight: out.height, outWidth: out.width, padMode, images };
}

/** An image that samples source pixel (x + dx, y) for output pixel (x, y) (same size in and out). */
function shifted(size: { height: number; width: number }, dx: number): ImageAugment {
  const img = imageParams(neutralDraws(size), size, size, 'squish');
  return { ...img, matrix: [1, 0, (2 * dx) / (size.width - 1), 0, 1, 0, 0, 0, 1] };
}

describe('padCoord (PyTorch grid_sample, align_corners=True)', () => {
  it('reflects about the edge pixel centres, clamps for border, passes through for zeros', () => {
    expect([-1, -2, -4.5, 5, 6, 7, 11, 13].map((c) => padCoord(c, 5, 'reflection'))).toEqual([1, 2, 4.5, 5, 4, 3, 1, 3]);
    expect([-1, 2.5, 6].map((c) => padCoord(c, 5, 'border'))).toEqual([0, 2.5, 5]);
    expect(padCoord(-1.5, 5, 'zeros')).toBe(-1.5);
    expect(padCoord(3.7, 0, 'reflection')).toBe(0);
  });
});

describe('augmentReference', () => {
  const shape = [2, 5, 7, 3] as const;
  const u8 = randomBytes(2 * 5 * 7 * 3);

  it('identity parameters give back the input / 255 exactly', () => {
    const out = augmentReference(u8, shape, identityParams(2, 5, 7), { normalize: 'none' });
    expect(Array.from(out)).toEqual(Array.from(u8, (v) => Math.fround(v / 255)));
  });

  it('normalises with ImageNet stats by default', () => {
    const out = augmentReference(u8, shape, identityParams(2, 5, 7));
    const mean = [0.485, 0.456, 0.406];
    const std = [0.229, 0.224, 0.225];
    for (const i of [0, 1, 2, 100, 209]) expect(out[i]).toBeCloseTo((u8[i]! / 255 - mean[i % 3]!) / std[i % 3]!, 6);
  });

  it('a horizontal flip mirrors the image', () => {
    const size = { height: 5, width: 7 };
    const flip = imageParams({ ...neutralDraws(size), dihedral: 1 }, size, size, 'squish');
    const out = augmentReference(u8, shape, batch([flip, flip], size, size), { normalize: 'none' });
    for (let b = 0; b < 2; b++) {
      for (let y = 0; y < 5; y++) {
        for (let x = 0; x < 7; x++) {
          for (let c = 0; c < 3; c++) {
            expect(out[((b * 5 + y) * 7 + x) * 3 + c]).toBe(Math.fround(u8[((b * 5 + y) * 7 + (6 - x)) * 3 + c]! / 255));
          }
        }
      }
    }
  });

  it('pads at the borders by reflection, border or zeros', () => {
    const size = { height: 2, width: 6 };
    const img = randomBytes(2 * 6 * 3, 5);
    const expectRow = (mode: PadMode, dx: number, index: (i: number) => number | null): void => {
      const out = augmentReference(img, [1, 2, 6, 3], batch([shifted(size, dx)], size, size, mode), { normalize: 'none' });
      for (let x = 0; x < 6; x++) {
        const i = index(x + dx);
        for (let c = 0; c < 3; c++) {
          const want = i === null ? 0 : img[i * 3 + c]! / 255;
          expect(Math.abs(out[x * 3 + c]! - want)).toBeLessThan(1e-4);
        }
      }
    };
    const reflect = (i: number): number => (i < 0 ? -i : i > 5 ? 10 - i : i);
    expectRow('reflection', -2, reflect);
    expectRow('reflection', 2, reflect);
    expectRow('border', -2, (i) => Math.min(Math.max(i, 0), 5));
    expectRow('border', 3, (i) => Math.min(Math.max(i, 0), 5));
    expectRow('zeros', -2, (i) => (i < 0 || i > 5 ? null : i));
    expectRow('zeros', 2, (i) => (i < 0 || i > 5 ? null : i));
  });

  it('zeros padding fades linearly over the last half pixel', () => {
    const size = { height: 1, width: 4 };
    const white = new Uint8Array(12).fill(255);
    const out = augmentReference(white, [1, 1, 4, 3], batch([shifted(size, -0.25)], size, size, 'zeros'), { normalize: 'none' });
    expect(out[0]).toBeCloseTo(0.75, 5); // x = -0.25: 75% of pixel 0, 25% of the zero outside
    expect(out[3]).toBeCloseTo(1, 5);
  });

  it('applies fastai lighting in logit space, with extremes staying in (0, 1)', () => {
    expect(lightingValue(0.5, logit(0.6), 1)).toBeCloseTo(0.6, 12);
    expect(lightingValue(0.3, 0, 1)).toBeCloseTo(0.3, 12);
    expect(lightingValue(0.7, 0, 2)).toBeCloseTo(1 / (1 + (0.3 / 0.7) ** 2), 12);
    const size = { height: 1, width: 3 };
    const row = new Uint8Array([0, 0, 0, 128, 128, 128, 255, 255, 255]);
    const run = (b: number, c: number): Float32Array => {
      const img = imageParams({ ...neutralDraws(size), brightness: b, contrast: c }, size, size, 'squish');
      return augmentReference(row, [1, 1, 3, 3], batch([img], size, size), { normalize: 'none' });
    };
    const bright = run(0.999, 1);
    expect(bright[0]).toBeLessThan(1e-3); // black stays (nearly) black: logit(1e-7) dominates
    expect(bright[3]).toBeGreaterThan(0.99);
    expect(bright[6]).toBeGreaterThan(0.999);
    const dark = run(0.001, 1);
    expect(dark[3]).toBeLessThan(0.01);
    const flat = run(0.5, 1e-3);
    for (const v of flat) expect(Math.abs(v - 0.5)).toBeLessThan(0.01);
    const hard = run(0.5, 1000);
    expect(hard[0]).toBe(0);
    expect(hard[3]).toBeGreaterThan(0.99);
    expect(hard[6]).toBe(1);
    for (const v of [...bright, ...dark, ...flat, ...hard]) expect(v >= 0 && v <= 1 && Number.isFinite(v)).toBe(true);
  });

  it('validation path = centre crop, pixel for pixel', () => {
    const img = randomBytes(6 * 10 * 3, 9);
    for (const crop of ['randomResized', 'resize'] as const) {
      const p = sampleAugmentParams({ batchSize: 1, height: 6, width: 10, size: 6, train: false, seed: 3, options: { crop, ratio: [1, 1] } });
      const out = augmentReference(img, [1, 6, 10, 3], p, { normalize: 'none' });
      for (let y = 0; y < 6; y++) {
        for (let x = 0; x < 6; x++) {
          for (let c = 0; c < 3; c++) expect(Math.abs(out[(y * 6 + x) * 3 + c]! - img[(y * 10 + x + 2) * 3 + c]! / 255)).toBeLessThan(1e-6);
        }
      }
    }
  });

  it("'resize' crops reflect at the crop's edges and never read outside it", () => {
    const src = { height: 12, width: 20 };
    const img = new Uint8Array(12 * 20 * 3).fill(255);
    const crop = { x: 4, y: 0, width: 12, height: 12 };
    for (let y = 0; y < 12; y++) for (let x = 4; x < 16; x++) for (let c = 0; c < 3; c++) img[(y * 20 + x) * 3 + c] = (x * 7 + y * 3 + c) % 150;
    const out = { height: 9, width: 9 };
    const zoomedOut = imageParams({ ...neutralDraws(src, crop), zoom: 0.5, rotateDeg: 25 }, src, out, 'resize');
    const res = augmentReference(img, [1, 12, 20, 3], batch([zoomedOut], src, out), { normalize: 'none' });
    for (const v of res) expect(v).toBeLessThanOrEqual(150 / 255);
  });

  it('rejects parameters for another batch shape', () => {
    expect(() => augmentReference(u8, shape, identityParams(3, 5, 7))).toThrow(/another batch shape/);
    expect(() => augmentReference(u8, [2, 5, 7, 4], identityParams(2, 5, 7))).toThrow(/\[B, H, W, 3\]/);
  });
});
