import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeImage } from '../decode/decode.js';
import { TesseraVisionError } from '../errors.js';
import type { RgbImage } from '../image.js';
import { MATPLOTLIB_BLUE } from '../synth/disc-render.js';
import { makeTempDir } from '../testing/temp-dir.js';
import { CountingDataset, countingClassNames } from './counting.js';
import { writeCountingDataset } from '../node/counting-files.js';
import { ImageFolder } from '../node/image-folder.js';
import { splitDataset } from './subset.js';

const temp = makeTempDir();
afterAll(() => temp.remove());

/** Connected components of the pixels where `inside` holds (4- or 8-connected), by flood fill. */
function countComponents(img: RgbImage, inside: (p: number) => boolean, eight: boolean): number {
  const { width, height } = img;
  const seen = new Uint8Array(width * height);
  const steps = eight ? [[1, 0], [-1, 0], [0, 1], [0, -1], [1, 1], [1, -1], [-1, 1], [-1, -1]] : [[1, 0], [-1, 0], [0, 1], [0, -1]];
  let count = 0;
  for (let start = 0; start < width * height; start++) {
    if (seen[start] || !inside(start)) continue;
    count++;
    const stack = [start];
    seen[start] = 1;
    while (stack.length) {
      const p = stack.pop()!;
      const x = p % width;
      const y = (p - x) / width;
      for (const [dx, dy] of steps) {
        const nx = x + dx!;
        const ny = y + dy!;
        if (nx < 0 || ny < 0 || nx >= width || ny >= height) continue;
        const q = ny * width + nx;
        if (!seen[q] && inside(q)) {
          seen[q] = 1;
          stack.push(q);
        }
      }
    }
  }
  return count;
}

/** Coverage of each pixel by a disc, recovered from the red channel (white 255 -> C0's 31). */
function coverageOf(img: RgbImage): Float64Array {
  const [r] = MATPLOTLIB_BLUE;
  return Float64Array.from({ length: img.width * img.height }, (_, p) => (255 - img.data[3 * p]!) / (255 - r));
}

function checkImage(dataset: CountingDataset, index: number): void {
  const n = dataset.count(index);
  const img = dataset.render(index);
  const coverage = coverageOf(img);
  // Every non-white pixel, 4-connected: discs whose edges are >= 2 px apart cannot share an edge.
  expect(countComponents(img, (p) => coverage[p]! > 0, false), `item ${index} (${n} discs), any ink`).toBe(n);
  // At least-half-covered pixels, even 8-connected (diagonal touching counts): still N blobs.
  expect(countComponents(img, (p) => coverage[p]! >= 0.5, true), `item ${index} (${n} discs), half ink`).toBe(n);
  // Antialiased area matches N discs of the radius (coverage-based rendering; the centre-distance
  // approximation is coarser for 1-px discs).
  const { radius, gap, size } = dataset.options;
  const area = coverage.reduce((a, b) => a + b, 0);
  expect(Math.abs(area - n * Math.PI * radius ** 2) / (n * Math.PI * radius ** 2)).toBeLessThan(radius >= 2 ? 0.06 : 0.1);
  // Geometry: inside the plot area (the image less its margins), edges at least `gap` apart.
  const discs = dataset.discs(index);
  expect(discs).toHaveLength(n);
  const lo = dataset.options.margin * size;
  for (const [i, a] of discs.entries()) {
    for (const c of [a.x, a.y]) {
      expect(c - radius).toBeGreaterThanOrEqual(lo);
      expect(c + radius).toBeLessThanOrEqual(size - lo);
    }
    for (const b of discs.slice(i + 1)) expect(Math.hypot(a.x - b.x, a.y - b.y) - 2 * radius).toBeGreaterThanOrEqual(gap);
  }
}

describe('CountingDataset', () => {
  it('draws exactly N non-touching discs for 1-5 (the default set)', () => {
    const dataset = new CountingDataset({ perClass: 40 });
    expect(dataset.length).toBe(5 * 40);
    expect(dataset.classes).toEqual(['1', '2', '3', '4', '5']);
    expect([dataset.label(0), dataset.label(39), dataset.label(40), dataset.label(199)]).toEqual([0, 0, 1, 4]);
    for (let i = 0; i < dataset.length; i += 7) checkImage(dataset, i);
    // Solid interiors are exactly the colour, the background exactly white.
    const img = dataset.render(0);
    const pixels = Array.from({ length: 64 * 64 }, (_, p) => [...img.data.subarray(3 * p, 3 * p + 3)].join());
    expect(pixels).toContain(MATPLOTLIB_BLUE.join());
    expect(pixels).toContain('255,255,255');
  });

  it('leaves the margins white and draws discs size/16 in radius for small counts', () => {
    const dataset = new CountingDataset({ perClass: 30, seed: 4 });
    expect([dataset.options.radius, dataset.options.margin]).toEqual([4, 0.15]);
    const border = Math.floor(0.15 * 64);
    for (let i = 0; i < dataset.length; i += 3) {
      const coverage = coverageOf(dataset.render(i));
      for (let p = 0; p < coverage.length; p++) {
        const x = p % 64;
        const y = (p - x) / 64;
        if (x < border || y < border || x >= 64 - border || y >= 64 - border) expect(coverage[p], `item ${i} pixel ${x},${y}`).toBe(0);
      }
    }
  });

  it('fits 45-50 discs in 64 px with smaller discs, and any range at other sizes', () => {
    const dense = new CountingDataset({ range: [45, 50], perClass: 6, size: 64 });
    expect(dense.classes).toEqual(['45', '46', '47', '48', '49', '50']);
    expect(dense.options.radius).toBeLessThan(4);
    expect(new CountingDataset({ range: [45, 50], perClass: 1, size: 128 }).options.radius).toBeGreaterThanOrEqual(2.5);
    for (let i = 0; i < dense.length; i += 5) checkImage(dense, i);
    const large = new CountingDataset({ range: [8, 12], perClass: 2, size: 128, seed: 3 });
    expect(large.classes).toEqual(['08', '09', '10', '11', '12']); // sorted names stay in numeric order
    for (let i = 0; i < large.length; i++) checkImage(large, i);
  });

  it('is deterministic from the seed, and item images do not depend on perClass', () => {
    const a = new CountingDataset({ perClass: 10, seed: 7 });
    const b = new CountingDataset({ perClass: 10, seed: 7 });
    const c = new CountingDataset({ perClass: 10, seed: 8 });
    const fewer = new CountingDataset({ perClass: 3, seed: 7 });
    expect(Buffer.from(a.render(13).data).equals(Buffer.from(b.render(13).data))).toBe(true);
    expect(Buffer.from(a.render(13).data).equals(Buffer.from(c.render(13).data))).toBe(false);
    // Item 2 of class "2" is index 12 with 10 per class and index 5 with 3 per class.
    expect(Buffer.from(a.render(12).data).equals(Buffer.from(fewer.render(5).data))).toBe(true);
  });

  it('loads at any size, and splits like fastai', async () => {
    const dataset = new CountingDataset({ perClass: 10 });
    const img = await dataset.load(3, 32);
    expect([img.width, img.height]).toEqual([32, 32]);
    const { train, valid } = splitDataset(dataset, { validPct: 0.2, seed: 1 });
    expect([train.length, valid.length]).toEqual([40, 10]);
    expect(new Set([...train.indices, ...valid.indices]).size).toBe(50);
    expect(splitDataset(dataset, { validPct: 0.2, seed: 1 }).valid.indices).toEqual(valid.indices);
  });

  it('refuses layouts that cannot fit, quickly and clearly', () => {
    const started = performance.now();
    expect(() => new CountingDataset({ range: [50, 50], radius: 6, size: 64 })).toThrow(TesseraVisionError);
    expect(() => new CountingDataset({ range: [50, 50], radius: 6, size: 64 })).toThrow(/cannot place 50 non-touching discs/);
    expect(performance.now() - started).toBeLessThan(2000);
    expect(() => new CountingDataset({ range: [3, 1] })).toThrow(/range/);
    expect(() => new CountingDataset({ margin: 0.5 })).toThrow(/margin/);
  });

  it('names classes with zero padding only when digit counts differ', () => {
    expect(countingClassNames([1, 5])).toEqual(['1', '2', '3', '4', '5']);
    expect(countingClassNames([9, 10])).toEqual(['09', '10']);
  });
});

describe('writeCountingDataset', () => {
  it('writes an ImageFolder of PNGs identical to the in-memory images', async () => {
    const out = join(temp.path, 'counting');
    const written = await writeCountingDataset({ range: [1, 3], perClass: 12, size: 32, seed: 5, out });
    expect(written).toEqual({ out, classes: ['1', '2', '3'], files: 36 });
    expect(readdirSync(join(out, '2'))).toHaveLength(12);
    expect(readdirSync(join(out, '2'))[0]).toBe('00.png');
    const memory = new CountingDataset({ range: [1, 3], perClass: 12, size: 32, seed: 5 });
    const file = decodeImage(readFileSync(join(out, '3', '04.png')));
    expect(Buffer.from(file.data).equals(Buffer.from(memory.render(2 * 12 + 4).data))).toBe(true);
    const all = readdirSync(out, { recursive: true }).map(String);
    expect(all.some((name) => name.endsWith('.tmp'))).toBe(false);
    const folder = await ImageFolder.open(out, { validPct: 0.25, seed: 1 });
    expect(folder.classes).toEqual(['1', '2', '3']);
    expect([folder.train.length, folder.valid.length, folder.skipped.length]).toEqual([27, 9, 0]);
  });
});
