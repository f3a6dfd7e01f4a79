import { describe, expect, it } from 'vitest';
import {
  AUGMENT_DEFAULTS,
  type AugmentDraws,
  augmentOptions,
  centreRatioCrop,
  findCoeffs,
  imageParams,
  matMul3,
  neutralDraws,
  packParams,
  pixelMatrix,
  pyRound,
  randomResizedCrop,
  resizeCrop,
  sampleAugmentParams,
  warpMatrix,
} from './params.js';
import { createPrng, mixSeeds } from './prng.js';

const apply = (m: readonly number[], x: number, y: number): [number, number] => {
  const z = m[6]! * x + m[7]! * y + m[8]!;
  return [(m[0]! * x + m[1]! * y + m[2]!) / z, (m[3]! * x + m[4]! * y + m[5]!) / z];
};

function sampleMany(n: number, options = {}, size = 224, src = { height: 300, width: 400 }): AugmentDraws[] {
  const p = sampleAugmentParams({ batchSize: n, height: src.height, width: src.width, size, train: true, seed: 1234, options });
  return p.images.map((i) => i.draws);
}

const frac = (xs: boolean[]): number => xs.filter(Boolean).length / xs.length;

describe('prng', () => {
  it('is deterministic and roughly uniform', () => {
    const a = createPrng(42);
    const b = createPrng(42);
    const xs = Array.from({ length: 10000 }, () => a.next());
    expect(xs.slice(0, 5)).toEqual(Array.from({ length: 5 }, () => b.next()));
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.01);
    expect(mixSeeds(1, 2)).not.toBe(mixSeeds(2, 1));
    expect(mixSeeds(2 ** 40)).not.toBe(mixSeeds(0));
  });
});

describe('fastai helpers', () => {
  it('rounds halves to even like Python', () => {
    expect([0.5, 1.5, 2.5, 3.5, 2.4999, 2.5001, 7].map(pyRound)).toEqual([0, 2, 2, 4, 2, 3, 7]);
  });

  it('find_coeffs maps the target points onto the original ones', () => {
    const [x, y] = [0.13, -0.07];
    const m = warpMatrix(x, y);
    const orig = [[-1, -1], [-1, 1], [1, -1], [1, 1]];
    const targ = [[-1 - y, -1 - x], [-1 + y, 1 + x], [1 + y, -1 + x], [1 - y, 1 - x]];
    targ.forEach(([tx, ty], i) => {
      const [px, py] = apply(m, tx!, ty!);
      expect(px).toBeCloseTo(orig[i]![0]!, 12);
      expect(py).toBeCloseTo(orig[i]![1]!, 12);
    });
    expect(warpMatrix(0, 0)).toEqual([1, 0, 0, 0, 1, 0, 0, 0, 1]);
    const general = findCoeffs([[0, 0], [1, 0], [0, 1], [1, 1]], [[0, 0], [2, 0], [0, 2], [2, 2]]);
    expect(apply(general, 2, 2)[0]).toBeCloseTo(1, 12);
  });

  it('composes flip @ rotate @ zoom, aspect-corrects, then applies the warp (fastai order)', () => {
    const size = { height: 100, width: 200 };
    const d: AugmentDraws = { ...neutralDraws(size), dihedral: 1, rotateDeg: 30, zoom: 1.25, zoomCol: 0.2, zoomRow: 0.9, warpX: 0.1, warpY: -0.05 };
    const img = imageParams(d, size, size, 'squish');
    const t = (30 * Math.PI) / 180;
    const s = 1 / 1.25;
    const F = [-1, 0, 0, 0, 1, 0, 0, 0, 1];
    const R = [Math.cos(t), Math.sin(t), 0, -Math.sin(t), Math.cos(t), 0, 0, 0, 1];
    const Z = [s, 0, (1 - s) * (2 * 0.2 - 1), 0, s, (1 - s) * (2 * 0.9 - 1), 0, 0, 1];
    const M = matMul3(matMul3(F, R), Z);
    M[1]! *= 100 / 200;
    M[3]! *= 200 / 100;
    // fastai: grid = affine_grid(M) then apply_perspective(grid, coeffs).
    for (const [qx, qy] of [[-1, -1], [0.3, 0.8], [1, -0.2]] as const) {
      const [ax, ay] = apply(M, qx, qy);
      const expected = apply(warpMatrix(0.1, -0.05), ax, ay);
      const got = apply(img.matrix, qx, qy);
      expect(got[0]).toBeCloseTo(expected[0], 12);
      expect(got[1]).toBeCloseTo(expected[1], 12);
    }
  });

  it('random resized crop folds the crop after the affine step', () => {
    const size = { height: 50, width: 80 };
    const crop = { x: 10, y: 5, width: 30, height: 20 };
    const img = imageParams({ ...neutralDraws(size, crop), rotateDeg: 0 }, size, { height: 8, width: 8 }, 'randomResized');
    // Output corners land on the crop's corner pixel centres.
    const toPix = (n: number, len: number): number => ((n + 1) / 2) * (len - 1);
    const [x0, y0] = apply(img.matrix, -1, -1);
    const [x1, y1] = apply(img.matrix, 1, 1);
    expect(toPix(x0, 80)).toBeCloseTo(10, 10);
    expect(toPix(y0, 50)).toBeCloseTo(5, 10);
    expect(toPix(x1, 80)).toBeCloseTo(39, 10);
    expect(toPix(y1, 50)).toBeCloseTo(24, 10);
    expect(img.window).toEqual({ x: 0, y: 0, width: 80, height: 50 });
    // Pixel matrix: output pixel (7, 7) -> source pixel (39, 24).
    const pm = pixelMatrix(img, 8, 8);
    expect(apply(pm, 7, 7)[0]).toBeCloseTo(39, 9);
    expect(apply(pm, 0, 0)[1]).toBeCloseTo(5, 9);
  });

  it('identity and flips are integer-exact in f32 pixel units', () => {
    const size = { height: 37, width: 224 };
    const p = packParams({ srcHeight: 37, srcWidth: 224, outHeight: 37, outWidth: 224, padMode: 'reflection', images: [imageParams(neutralDraws(size), size, size, 'squish'), imageParams({ ...neutralDraws(size), dihedral: 1 }, size, size, 'squish')] });
    expect(Array.from(p.subarray(0, 9))).toEqual([1, 0, 0, 0, 1, 0, 0, 0, 1]);
    expect(Array.from(p.subarray(16, 25))).toEqual([-1, 0, 223, 0, 1, 0, 0, 0, 1]);
    expect(p[15]).toBe(0); // no lighting
  });
});

describe('crops', () => {
  it('fastai Resize crop: largest crop of the output aspect, random in training, centred in validation', () => {
    expect(resizeCrop({ width: 500, height: 375 }, 224, 224, 0.5, 0.5)).toEqual({ x: 62, y: 0, width: 375, height: 375 });
    expect(resizeCrop({ width: 500, height: 375 }, 224, 224, 1, 0.3)).toEqual({ x: 125, y: 0, width: 375, height: 375 });
    expect(resizeCrop({ width: 300, height: 600 }, 100, 50, 0.5, 0.5)).toEqual({ x: 0, y: 225, width: 300, height: 150 });
  });

  it('RandomResizedCrop falls back to the centre crop after 10 failed attempts', () => {
    // No crop with ratio >= 3 and area >= 90% fits a square image.
    const c = randomResizedCrop(createPrng(1), { width: 90, height: 90 }, { minScale: 0.9, maxScale: 1, ratio: [3, 4] });
    expect(c).toEqual(centreRatioCrop({ width: 90, height: 90 }, [3, 4]));
    expect(c).toEqual({ x: 0, y: 30, width: 90, height: 30 });
  });

  it('RandomResizedCrop draws areas in [minScale, maxScale] and ratios in range', () => {
    const size = { height: 300, width: 400 };
    const draws = sampleMany(2000, { minScale: 0.08 });
    let fallbacks = 0;
    for (const d of draws) {
      const { x, y, width, height } = d.crop;
      expect(x >= 0 && y >= 0 && x + width <= size.width && y + height <= size.height).toBe(true);
      const area = (width * height) / (size.width * size.height);
      expect(area).toBeGreaterThan(0.08 * 0.97);
      if (width === 400 && height === 300) fallbacks++;
      else {
        expect(width / height).toBeGreaterThan((3 / 4) * 0.97);
        expect(width / height).toBeLessThan((4 / 3) * 1.03);
      }
    }
    expect(fallbacks).toBeLessThan(40);
    // Lesson 1: min_scale 0.75, ratio (1, 1): squares of 75%..100% of the area.
    for (const d of sampleMany(300, { minScale: 0.75, ratio: [1, 1] }, 224, { height: 460, width: 460 })) {
      expect(d.crop.width).toBe(d.crop.height);
      expect(d.crop.width).toBeGreaterThanOrEqual(398);
    }
  });
});

describe('sampleAugmentParams', () => {
  it('is deterministic from the seed, per image, whatever the batch size', () => {
    const args = { batchSize: 8, height: 64, width: 48, size: 32, train: true, seed: 7 } as const;
    const a = sampleAugmentParams(args);
    const b = sampleAugmentParams(args);
    expect(b).toEqual(a);
    const c = sampleAugmentParams({ ...args, seed: 8 });
    expect(c.images[0]!.matrix).not.toEqual(a.images[0]!.matrix);
    const small = sampleAugmentParams({ ...args, batchSize: 3 });
    expect(small.images).toEqual(a.images.slice(0, 3));
  });

  it('matches fastai aug_transforms distributions', () => {
    const n = 4000;
    const draws = sampleMany(n);
    const tol = 3 * Math.sqrt((0.25 * 0.75) / n) + 0.005;
    expect(Math.abs(frac(draws.map((d) => d.dihedral === 1)) - 0.5)).toBeLessThan(3 * Math.sqrt(0.25 / n) + 0.005);
    expect(draws.every((d) => d.dihedral === 0 || d.dihedral === 1)).toBe(true);
    expect(draws.every((d) => Math.abs(d.rotateDeg) <= 10)).toBe(true);
    expect(Math.abs(frac(draws.map((d) => d.rotateDeg !== 0)) - 0.75)).toBeLessThan(tol);
    const rot = draws.filter((d) => d.rotateDeg !== 0).map((d) => d.rotateDeg);
    expect(Math.max(...rot)).toBeGreaterThan(9.8);
    expect(Math.min(...rot)).toBeLessThan(-9.8);
    expect(draws.every((d) => d.zoom >= 1 && d.zoom <= 1.1 && d.zoomCol >= 0 && d.zoomCol < 1)).toBe(true);
    expect(Math.abs(frac(draws.map((d) => d.zoom !== 1)) - 0.75)).toBeLessThan(tol);
    expect(draws.every((d) => Math.abs(d.warpX) <= 0.2 && Math.abs(d.warpY) <= 0.2)).toBe(true);
    expect(Math.abs(frac(draws.map((d) => d.warpX !== 0)) - 0.75)).toBeLessThan(tol);
    expect(Math.abs(frac(draws.map((d) => d.warpY !== 0)) - 0.75)).toBeLessThan(tol);
    // Warp axes are masked independently: both applied ~ 0.75^2.
    expect(Math.abs(frac(draws.map((d) => d.warpX !== 0 && d.warpY !== 0)) - 0.5625)).toBeLessThan(tol);
    expect(draws.every((d) => d.brightness >= 0.4 && d.brightness <= 0.6)).toBe(true);
    expect(Math.abs(frac(draws.map((d) => d.brightness !== 0.5)) - 0.75)).toBeLessThan(tol);
    expect(draws.every((d) => d.contrast >= 0.8 - 1e-12 && d.contrast <= 1.25 + 1e-12)).toBe(true);
    expect(Math.abs(frac(draws.map((d) => d.contrast !== 1)) - 0.75)).toBeLessThan(tol);
    // log(contrast) is uniform: its mean is ~0.
    const lc = draws.filter((d) => d.contrast !== 1).map((d) => Math.log(d.contrast));
    expect(Math.abs(lc.reduce((s, x) => s + x, 0) / lc.length)).toBeLessThan(0.01);
  });

  it('respects the options (mult, probabilities, flipVert, switches)', () => {
    const none = sampleMany(200, { doFlip: false, maxRotate: 0, maxZoom: 1, maxWarp: 0, maxLighting: 0 });
    for (const d of none) {
      expect([d.dihedral, d.rotateDeg, d.zoom, d.warpX, d.warpY, d.brightness, d.contrast]).toEqual([0, 0, 1, 0, 0, 0.5, 1]);
    }
    const always = sampleMany(500, { pAffine: 1, pLighting: 1, mult: 2 });
    expect(always.every((d) => d.rotateDeg !== 0 && Math.abs(d.rotateDeg) <= 20)).toBe(true);
    expect(always.some((d) => Math.abs(d.rotateDeg) > 10)).toBe(true);
    expect(always.every((d) => d.brightness !== 0.5 && d.brightness >= 0.3 && d.brightness <= 0.7)).toBe(true);
    const dihedral = sampleMany(4000, { flipVert: true });
    const counts = new Array(8).fill(0) as number[];
    for (const d of dihedral) counts[d.dihedral]!++;
    // k = 0 with probability 0.5 + 0.5/8, each other k with 0.5/8.
    expect(Math.abs(counts[0]! / 4000 - 0.5625)).toBeLessThan(0.03);
    for (let k = 1; k < 8; k++) expect(Math.abs(counts[k]! / 4000 - 0.0625)).toBeLessThan(0.015);
    expect(() => augmentOptions({ pAffine: 1.5 })).toThrow(/pAffine/);
    expect(() => augmentOptions({ minScale: 0 })).toThrow(/minScale/);
    expect(AUGMENT_DEFAULTS.ratio).toEqual([0.75, 4 / 3]);
  });

  it('validation = the deterministic crop only, no augmentation', () => {
    const args = { batchSize: 4, height: 60, width: 100, size: 32, train: false, seed: 1 } as const;
    const rrc = sampleAugmentParams(args);
    for (const img of rrc.images) {
      expect(img.draws).toEqual(neutralDraws({ height: 60, width: 100 }, { x: 10, y: 0, width: 80, height: 60 }));
      expect(img.brightnessLogit).toBe(0);
      expect(img.contrast).toBe(1);
    }
    const square = sampleAugmentParams({ ...args, options: { ratio: [1, 1] } });
    expect(square.images[0]!.draws.crop).toEqual({ x: 20, y: 0, width: 60, height: 60 });
    const resize = sampleAugmentParams({ ...args, options: { crop: 'resize' } });
    expect(resize.images[0]!.window).toEqual({ x: 20, y: 0, width: 60, height: 60 });
    expect(resize.images[0]!.matrix).toEqual([1, 0, 0, 0, 1, 0, 0, 0, 1]);
    expect(sampleAugmentParams({ ...args, seed: 99 })).toEqual(rrc);
  });

  it('validates its arguments', () => {
    const base = { batchSize: 2, height: 10, width: 10, size: 8, train: true, seed: 0 };
    expect(() => sampleAugmentParams({ ...base, batchSize: 0 })).toThrow(/batchSize/);
    expect(() => sampleAugmentParams({ ...base, size: 0 })).toThrow(/output size/);
    expect(() => sampleAugmentParams({ ...base, imageSizes: [{ height: 10, width: 10 }] })).toThrow(/image sizes/);
    expect(() => sampleAugmentParams({ ...base, imageSizes: [{ height: 10, width: 10 }, { height: 11, width: 5 }] })).toThrow(/slot/);
    const p = sampleAugmentParams({ ...base, imageSizes: [{ height: 10, width: 10 }, { height: 6, width: 4 }] });
    expect(p.images[1]!.window).toEqual({ x: 0, y: 0, width: 4, height: 6 });
  });
});
