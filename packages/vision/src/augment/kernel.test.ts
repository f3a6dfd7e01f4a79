import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initDevice, tidy } from '@tessera/tensor';
import pngjs from 'pngjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { augmentBatch, uploadBatch } from './kernel.js';
import { type AugmentBatchParams, type NormalizeSpec, type PadMode, identityParams, imageParams, neutralDraws, sampleAugmentParams } from './params.js';
import { showBatch } from '../node/pictures.js';
import { augmentReference } from './reference.js';

function randomBytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

async function onGpu(u8: Uint8Array, shape: [number, number, number, number], params: AugmentBatchParams, normalize: NormalizeSpec = 'none'): Promise<Float32Array> {
  const packed = uploadBatch(u8, shape);
  const out = augmentBatch(packed, params, { normalize });
  expect(out.shape).toEqual([shape[0], params.outHeight, params.outWidth, 3]);
  const data = (await out.toArray()) as Float32Array;
  packed.dispose();
  out.dispose();
  return data;
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

beforeAll(async () => {
  await initDevice();
});

describe('augment kernel (GPU) vs CPU twin', () => {
  const cases: { name: string; shape: [number, number, number, number]; size: number | [number, number]; pad: PadMode; crop: 'randomResized' | 'resize' | 'squish'; normalize: NormalizeSpec }[] = [
    { name: 'odd sizes, H != W, S = 11, reflection', shape: [3, 13, 17, 3], size: 11, pad: 'reflection', crop: 'randomResized', normalize: 'none' },
    { name: 'batch of 1, zeros padding, non-square output', shape: [1, 9, 6, 3], size: [7, 10], pad: 'zeros', crop: 'squish', normalize: 'none' },
    { name: 'border padding, resize crop, ImageNet stats', shape: [2, 20, 15, 3], size: 13, pad: 'border', crop: 'resize', normalize: 'imagenet' },
    { name: 'upsampling a 1-pixel-high image', shape: [2, 1, 5, 3], size: 6, pad: 'reflection', crop: 'squish', normalize: 'none' },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const [B, H, W] = c.shape;
      const u8 = randomBytes(B * H * W * 3, B * 31 + H);
      for (const seed of [1, 2]) {
        const params = sampleAugmentParams({
          batchSize: B, height: H, width: W, size: c.size, train: true, seed,
          options: { crop: c.crop, padMode: c.pad, pAffine: 1, pLighting: 1, maxZoom: 1.5, minZoom: 0.6, maxRotate: 30 },
        });
        const gpu = await onGpu(u8, c.shape, params, c.normalize);
        const cpu = augmentReference(u8, c.shape, params, { normalize: c.normalize });
        // Within float rounding; the contract is 1/255 (in [0, 1] units; ImageNet stats scale by ~1/0.225).
        expect(maxDiff(gpu, cpu)).toBeLessThan(c.normalize === 'none' ? 2e-4 : 1e-3);
      }
    });
  }

  it('handles images smaller than their slot (per-image windows)', async () => {
    const shape: [number, number, number, number] = [2, 8, 8, 3];
    const u8 = randomBytes(2 * 8 * 8 * 3, 77);
    const params = sampleAugmentParams({ batchSize: 2, height: 8, width: 8, size: 5, train: true, seed: 4, imageSizes: [{ height: 8, width: 8 }, { height: 3, width: 5 }] });
    expect(maxDiff(await onGpu(u8, shape, params), augmentReference(u8, shape, params, { normalize: 'none' }))).toBeLessThan(2e-4);
  });
});

describe('augment kernel (GPU) behaviour', () => {
  it('identity parameters give back the input exactly (u8 / 255)', async () => {
    const shape: [number, number, number, number] = [2, 7, 5, 3]; // 210 bytes: not a multiple of 4
    const u8 = randomBytes(211, 3).subarray(1); // a view at an odd byte offset
    const out = await onGpu(u8, shape, identityParams(2, 7, 5));
    for (let i = 0; i < u8.length; i++) expect(Math.abs(out[i]! - u8[i]! / 255)).toBeLessThan(1e-6);
  });

  it('a flip gives the mirrored image', async () => {
    const shape: [number, number, number, number] = [1, 3, 9, 3];
    const u8 = randomBytes(81, 8);
    const size = { height: 3, width: 9 };
    const flip = imageParams({ ...neutralDraws(size), dihedral: 1 }, size, size, 'squish');
    const params = { srcHeight: 3, srcWidth: 9, outHeight: 3, outWidth: 9, padMode: 'reflection' as const, images: [flip] };
    const out = await onGpu(u8, shape, params);
    for (let y = 0; y < 3; y++) {
      for (let x = 0; x < 9; x++) {
        for (let c = 0; c < 3; c++) expect(Math.abs(out[(y * 9 + x) * 3 + c]! - u8[(y * 9 + 8 - x) * 3 + c]! / 255)).toBeLessThan(1e-6);
      }
    }
  });

  it('validation = centre crop; same seed, same pixels', async () => {
    const shape: [number, number, number, number] = [2, 6, 10, 3];
    const u8 = randomBytes(360, 12);
    const valid = sampleAugmentParams({ batchSize: 2, height: 6, width: 10, size: 6, train: false, seed: 0, options: { ratio: [1, 1] } });
    const out = await onGpu(u8, shape, valid);
    for (let b = 0; b < 2; b++) {
      for (let y = 0; y < 6; y++) {
        for (let x = 0; x < 6; x++) {
          for (let c = 0; c < 3; c++) expect(Math.abs(out[((b * 6 + y) * 6 + x) * 3 + c]! - u8[((b * 6 + y) * 10 + x + 2) * 3 + c]! / 255)).toBeLessThan(1e-6);
        }
      }
    }
    const train = (seed: number): AugmentBatchParams => sampleAugmentParams({ batchSize: 2, height: 6, width: 10, size: 6, train: true, seed });
    const a = await onGpu(u8, shape, train(5));
    const b = await onGpu(u8, shape, train(5));
    const c = await onGpu(u8, shape, train(6));
    expect(Array.from(b)).toEqual(Array.from(a));
    expect(maxDiff(a, c)).toBeGreaterThan(0.01);
  });

  it('keeps tensors inside tidy() and validates shapes', () => {
    const u8 = randomBytes(12, 1);
    const out = tidy(() => {
      const packed = uploadBatch(u8, [1, 2, 2, 3]);
      return augmentBatch(packed, identityParams(1, 2, 2));
    });
    expect(out.isDisposed).toBe(false);
    out.dispose();
    expect(() => uploadBatch(u8, [1, 2, 2, 4])).toThrow(/\[B, H, W, 3\]/);
    expect(() => uploadBatch(u8, [1, 3, 2, 3])).toThrow(/needs 18 bytes/);
    const packed = uploadBatch(u8, [1, 2, 2, 3]);
    expect(() => augmentBatch(packed, identityParams(2, 2, 2))).toThrow(/parameters for 2 images/);
    packed.dispose();
  });
});

describe('augment -> showBatch', () => {
  it('de-normalises a GPU batch back to the original pixels', async () => {
    const u8 = randomBytes(2 * 6 * 5 * 3, 21);
    const packed = uploadBatch(u8, [2, 6, 5, 3]);
    const x = augmentBatch(packed, identityParams(2, 6, 5)); // ImageNet-normalised
    const dir = await mkdtemp(join(tmpdir(), 'tessera-aug-'));
    try {
      const path = join(dir, 'batch.png');
      await showBatch(x, ['a', 'b'], path, { ncols: 2, gap: 0 });
      const png = pngjs.PNG.sync.read(await readFile(path));
      const labelH = 18; // 12-px labels (pictures/grid.ts)
      for (let b = 0; b < 2; b++) {
        for (let y = 0; y < 6; y++) {
          for (let xx = 0; xx < 5; xx++) {
            const o = ((y + labelH) * png.width + b * 5 + xx) * 4;
            for (let c = 0; c < 3; c++) expect(Math.abs(png.data[o + c]! - u8[((b * 6 + y) * 5 + xx) * 3 + c]!)).toBeLessThanOrEqual(0);
          }
        }
      }
    } finally {
      packed.dispose();
      x.dispose();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
