import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { unzlibSync, zlibSync } from 'fflate';
import pngjs from 'pngjs';
import { ImageDecodeError } from '../errors.js';
import { mulberry32 } from '../random.js';
import { encodePng } from '../encode/png.js';
import {
  TINY_GIF, TINY_WEBP, encodeBaselineJpeg, gradientImage, maxAbsDiff, withJpegFrameSize, withPngSize,
} from '../testing/images.js';
import { writeJpeg, writeRgbJpeg } from '../testing/jpeg-writer.js';
import { pngFile } from '../testing/png-chunks.js';
import { writePng } from '../testing/png-writer.js';
import { makeTempDir } from '../testing/temp-dir.js';
import { decodeImage } from './decode.js';
import { decodeImageFile } from '../node/read-image.js';
import { detectFormat } from './format.js';
import { probeImageFile } from '../node/probe.js';

const temp = makeTempDir();
afterAll(() => temp.remove());

/** Runs `fn` and returns the ImageDecodeError it throws (failing the test if it does not). */
function decodeError(fn: () => unknown): ImageDecodeError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ImageDecodeError);
    return err as ImageDecodeError;
  }
  throw new Error('expected an ImageDecodeError');
}

async function decodeErrorAsync(promise: Promise<unknown>): Promise<ImageDecodeError> {
  const err = await promise.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(ImageDecodeError);
  return err as ImageDecodeError;
}

describe('JPEG', () => {
  const img = gradientImage(37, 21); // sizes that are not multiples of 8 or 16

  it('decodes baseline JPEG (jpeg-js encoder) close to the original', () => {
    const out = decodeImage(encodeBaselineJpeg(img, 95));
    expect([out.width, out.height]).toEqual([37, 21]);
    expect(out.data.length).toBe(37 * 21 * 3);
    expect(maxAbsDiff(out.data, img.data)).toBeLessThan(24); // 4:2:0 chroma at q95
  });

  it('decodes baseline and progressive (SOF2) JPEG to the same pixels', () => {
    const baseline = writeRgbJpeg(img.width, img.height, img.data, false);
    const progressive = writeRgbJpeg(img.width, img.height, img.data, true);
    expect(progressive.includes(0xc2)).toBe(true);
    const a = decodeImage(baseline);
    const b = decodeImage(progressive);
    expect(maxAbsDiff(a.data, b.data)).toBe(0);
    expect(maxAbsDiff(a.data, img.data)).toBeLessThanOrEqual(6);
  });

  it('decodes grayscale JPEG (baseline and progressive) to equal R, G and B', () => {
    const gray = new Uint8Array(30 * 17).map((_, i) => (i * 5) % 256);
    for (const progressive of [false, true]) {
      const out = decodeImage(writeJpeg({ width: 30, height: 17, planes: [gray], progressive }));
      for (let p = 0; p < gray.length; p++) {
        expect(out.data[3 * p]).toBe(out.data[3 * p + 1]);
        expect(out.data[3 * p]).toBe(out.data[3 * p + 2]);
      }
      let err = 0;
      for (let p = 0; p < gray.length; p++) err = Math.max(err, Math.abs(out.data[3 * p]! - gray[p]!));
      expect(err).toBeLessThanOrEqual(4);
    }
  });

  it('decodes Adobe CMYK and YCCK JPEG (inverted CMYK, as Photoshop writes it)', () => {
    const [c, m, y, k] = [30, 200, 100, 50];
    const expected = [c, m, y].map((v) => Math.round(((255 - v) * (255 - k)) / 255));
    const cmyk = [c, m, y, k].map((v) => new Uint8Array(16 * 16).fill(255 - v));
    const fromCmyk = decodeImage(writeJpeg({ width: 16, height: 16, planes: cmyk, adobeTransform: 0 }));
    // YCCK stores the ink values of C, M, Y as a YCbCr triple (jpeg-js's convention), K inverted.
    const ycc = [
      0.299 * c + 0.587 * m + 0.114 * y,
      -0.168736 * c - 0.331264 * m + 0.5 * y + 128,
      0.5 * c - 0.418688 * m - 0.081312 * y + 128,
    ].map((v) => new Uint8Array(16 * 16).fill(Math.round(v)));
    const fromYcck = decodeImage(writeJpeg({ width: 16, height: 16, planes: [...ycc, new Uint8Array(256).fill(255 - k)], adobeTransform: 2 }));
    for (const out of [fromCmyk, fromYcck]) {
      expect(out.data.length).toBe(16 * 16 * 3);
      for (let ch = 0; ch < 3; ch++) expect(Math.abs(out.data[ch]! - expected[ch]!)).toBeLessThanOrEqual(3);
    }
  });

  it('keeps RGB-coded JPEG (Adobe transform 0, 3 components) as RGB', () => {
    const rgbPlanes = [200, 30, 90].map((v) => new Uint8Array(64).fill(v));
    const out = decodeImage(writeJpeg({ width: 8, height: 8, planes: rgbPlanes, adobeTransform: 0 }));
    expect([...out.data.subarray(0, 3)].map((v, i) => Math.abs(v - [200, 30, 90][i]!) <= 2)).toEqual([true, true, true]);
  });

  it('rejects CMYK without an Adobe marker with a clear reason', () => {
    const planes = [0, 0, 0, 0].map(() => new Uint8Array(64));
    const bytes = writeJpeg({ width: 8, height: 8, planes });
    // writeJpeg adds JFIF when no Adobe transform is given: a 4-component JFIF file.
    expect(decodeError(() => decodeImage(bytes, { file: 'cmyk.jpg' })).reason).toMatch(/CMYK.*Adobe/);
  });
});

describe('PNG', () => {
  it('decodes RGB and RGBA; alpha composited on white by default, dropped on request', () => {
    const rgba = [255, 0, 0, 255, 0, 0, 255, 0, 0, 255, 0, 128];
    const bytes = writePng({ width: 3, height: 1, colorType: 6, bitDepth: 8, samples: rgba });
    expect([...decodeImage(bytes).data]).toEqual([255, 0, 0, 255, 255, 255, 127, 255, 127]);
    expect([...decodeImage(bytes, { alpha: 'drop' }).data]).toEqual([255, 0, 0, 0, 0, 255, 0, 255, 0]);
    const rgb = writePng({ width: 2, height: 1, colorType: 2, bitDepth: 8, samples: [1, 2, 3, 4, 5, 6] });
    expect([...decodeImage(rgb).data]).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('decodes palette PNG (2-bit and 8-bit) with tRNS transparency', () => {
    const palette = [[0, 0, 0], [255, 0, 0], [0, 0, 255]] as const;
    const two = writePng({ width: 3, height: 1, colorType: 3, bitDepth: 2, samples: [0, 1, 2], palette: [...palette], transparency: [255, 255, 0] });
    expect([...decodeImage(two).data]).toEqual([0, 0, 0, 255, 0, 0, 255, 255, 255]);
    expect([...decodeImage(two, { alpha: 'drop' }).data]).toEqual([0, 0, 0, 255, 0, 0, 0, 0, 255]);
    const eight = writePng({ width: 2, height: 1, colorType: 3, bitDepth: 8, samples: [2, 1], palette: [...palette] });
    expect([...decodeImage(eight).data]).toEqual([0, 0, 255, 255, 0, 0]);
  });

  it('reduces 16-bit samples to 8 bits with rounding', () => {
    const samples = [65535, 0, 257 * 100, 32896, 128, 65535]; // 2 RGB pixels
    const out = decodeImage(writePng({ width: 2, height: 1, colorType: 2, bitDepth: 16, samples }));
    expect([...out.data]).toEqual([255, 0, 100, 128, 0, 255]);
    const rgba16 = decodeImage(writePng({ width: 1, height: 1, colorType: 6, bitDepth: 16, samples: [0, 0, 0, 0] }));
    expect([...rgba16.data]).toEqual([255, 255, 255]); // fully transparent -> white
  });

  it('decodes grayscale at 1, 4, 8 and 16 bits, and gray+alpha', () => {
    expect([...decodeImage(writePng({ width: 2, height: 1, colorType: 0, bitDepth: 1, samples: [1, 0] })).data]).toEqual([255, 255, 255, 0, 0, 0]);
    expect([...decodeImage(writePng({ width: 2, height: 1, colorType: 0, bitDepth: 4, samples: [15, 5] })).data]).toEqual([255, 255, 255, 85, 85, 85]);
    expect([...decodeImage(writePng({ width: 1, height: 1, colorType: 0, bitDepth: 8, samples: [77] })).data]).toEqual([77, 77, 77]);
    expect([...decodeImage(writePng({ width: 1, height: 1, colorType: 0, bitDepth: 16, samples: [257 * 9] })).data]).toEqual([9, 9, 9]);
    expect([...decodeImage(writePng({ width: 1, height: 1, colorType: 4, bitDepth: 8, samples: [0, 0] })).data]).toEqual([255, 255, 255]);
  });

  it('decodes Adam7-interlaced PNG, including tRNS colour-key transparency', () => {
    const img = gradientImage(13, 11);
    const samples = Array.from(img.data);
    samples.splice(0, 3, 10, 20, 30); // the first pixel gets the transparent key colour
    const bytes = writePng({ width: 13, height: 11, colorType: 2, bitDepth: 8, samples, interlaced: true, transparency: [10, 20, 30] });
    const out = decodeImage(bytes);
    expect([...out.data.subarray(0, 3)]).toEqual([255, 255, 255]);
    expect(maxAbsDiff(out.data.subarray(3), img.data.subarray(3))).toBe(0);
    const gray = writePng({ width: 9, height: 5, colorType: 0, bitDepth: 2, samples: Array.from({ length: 45 }, (_, i) => i % 4), interlaced: true });
    expect([...decodeImage(gray).data.filter((_, i) => i % 3 === 0)]).toEqual(Array.from({ length: 45 }, (_, i) => (i % 4) * 85));
  });

  it('undoes all five row filters: matches pngjs on files pngjs wrote with its adaptive filtering', () => {
    const rand = mulberry32(5);
    for (const [colorType, bitDepth, inputHasAlpha] of [[2, 8, false], [6, 8, true], [0, 8, false], [4, 8, true], [2, 16, false], [6, 16, true]] as const) {
      const width = 23;
      const height = 17;
      const png = new pngjs.PNG({ width, height, colorType, bitDepth, inputHasAlpha });
      // Smooth ramps with noise make every filter type win somewhere.
      for (let i = 0; i < width * height * 4; i++) png.data[i] = (((i >> 2) % width) * 9 + (i & 3) * 40 + Math.floor(rand() * 6)) & 0xff;
      if (!inputHasAlpha) for (let i = 3; i < png.data.length; i += 4) png.data[i] = 255;
      const bytes = new Uint8Array(pngjs.PNG.sync.write(png, { colorType, bitDepth, inputHasAlpha }));
      const reference = pngjs.PNG.sync.read(Buffer.from(bytes));
      for (const alpha of ['white', 'drop'] as const) {
        const ours = decodeImage(bytes, { alpha });
        const rgba = Uint8Array.from(reference.data);
        const expected = Array.from({ length: width * height * 3 }, (_, k) => {
          const p = Math.floor(k / 3) * 4;
          const a = rgba[p + 3]!;
          const v = rgba[p + (k % 3)]!;
          return alpha === 'drop' ? v : ((v * a + 255 * (255 - a) + 127) / 255) | 0;
        });
        expect(maxAbsDiff(ours.data, Uint8Array.from(expected)), `type ${colorType}, ${bitDepth} bits, ${alpha}`).toBe(0);
      }
    }
  });

  // Why Tessera keeps its own PNG decoder (docs/architecture.md): pngjs returns this first file as
  // an image with zeroed rows; pngjs (interlaced: it fails after allocating all of it) and fast-png
  // (it returns the image) inflate all of the second into memory. Ours inflates into a buffer of
  // the image's size and stops there.
  it('refuses image data that stops short, and never inflates more than the image needs', () => {
    const [w, h] = [16, 16];
    const rows = new Uint8Array((w * 3 + 1) * h).map((_, i) => (i % (w * 3 + 1) === 0 ? 0 : i & 0xff));
    const short = pngFile({ width: w, height: h, bitDepth: 8, colorType: 2 }, zlibSync(rows.subarray(0, rows.length / 2)));
    expect(decodeError(() => decodeImage(short, { file: 'short.png' })).reason).toMatch(/^truncated or corrupt image data \(unexpected end of image data/);
    for (const interlaced of [false, true]) {
      // 16 MB of zeros where a 16x16 image's 784 bytes of rows belong, in a 16 KB file, with the
      // second half of the zlib stream garbage: inflating all of it (what the libraries do) fails
      // there, so an image back proves the decoder stopped once it had the image's bytes (no timing).
      const data = zlibSync(new Uint8Array(16 << 20), { level: 1 });
      data.fill(0xff, data.length >> 1);
      expect(() => unzlibSync(data)).toThrow(/invalid/);
      const bomb = pngFile({ width: w, height: h, bitDepth: 8, colorType: 2, interlaced }, data);
      expect(bomb.length).toBeLessThan(20_000);
      const img = decodeImage(bomb);
      expect([img.width, img.height, Math.max(...img.data)]).toEqual([w, h, 0]); // the first rows' worth of zeros: black
    }
  });

  it('round-trips our own PNG encoder exactly', () => {
    const img = gradientImage(19, 7);
    expect(maxAbsDiff(decodeImage(encodePng(img)).data, img.data)).toBe(0);
  });
});

describe('format detection and bad files', () => {
  it('chooses the decoder by content, not by file name', async () => {
    const path = join(temp.path, 'really-a-png.jpg');
    writeFileSync(path, encodePng(gradientImage(5, 4)));
    expect((await decodeImageFile(path)).width).toBe(5);
    expect(detectFormat(TINY_GIF)).toBe('gif');
    expect(detectFormat(TINY_WEBP)).toBe('webp');
  });

  it('names the file and the reason for every undecodable file', async () => {
    const jpegBytes = encodeBaselineJpeg(gradientImage(64, 48));
    const pngBytes = encodePng(gradientImage(64, 48));
    const corrupt = Uint8Array.from(jpegBytes);
    for (let i = Math.floor(corrupt.length / 2); i < corrupt.length - 2; i++) corrupt[i] = 0xff; // markers where data should be
    const cases: Array<[string, Uint8Array, RegExp]> = [
      ['empty.jpg', new Uint8Array(0), /empty file/],
      ['notes.jpg', new TextEncoder().encode('<!DOCTYPE html><html>not found</html>'), /looks like text/],
      ['binary.jpg', Uint8Array.from([0, 1, 2, 3, 250, 251, 252, 253, 9]), /not a recognised image format/],
      ['anim.gif', TINY_GIF, /GIF is not supported/],
      ['photo.webp', TINY_WEBP, /WebP is not supported/],
      ['half.jpg', jpegBytes.subarray(0, Math.floor(jpegBytes.length / 2)), /truncated/],
      ['head.jpg', jpegBytes.subarray(0, 40), /truncated/],
      ['corrupt.jpg', corrupt, /corrupt|truncated/],
      ['half.png', pngBytes.subarray(0, Math.floor(pngBytes.length / 2)), /truncated|corrupt/],
      ['head.png', pngBytes.subarray(0, 20), /truncated/],
    ];
    for (const [name, bytes, reason] of cases) {
      const path = join(temp.path, name);
      writeFileSync(path, bytes);
      const err = await decodeErrorAsync(decodeImageFile(path));
      expect(err.file).toBe(path);
      expect(err.reason, name).toMatch(reason);
      expect(err.message).toContain(path);
    }
    const missing = await decodeErrorAsync(decodeImageFile(join(temp.path, 'nope.jpg')));
    expect(missing.reason).toBe('file not found');
  });

  it('refuses decompression bombs from the header, before allocating', async () => {
    const jpegBomb = withJpegFrameSize(encodeBaselineJpeg(gradientImage(16, 16)), 60000, 60000);
    const pngBomb = withPngSize(encodePng(gradientImage(16, 16)), 100000, 100000);
    for (const bomb of [jpegBomb, pngBomb]) {
      const started = performance.now();
      const err = decodeError(() => decodeImage(bomb, { file: 'bomb' }));
      expect(err.reason).toMatch(/exceeds the limit of 100\.0 MP/);
      expect(performance.now() - started).toBeLessThan(1000); // decoding 3.6 gigapixels would take minutes (or fail to allocate)
    }
    // The limit is configurable, both ways.
    const normal = encodeBaselineJpeg(gradientImage(40, 30));
    expect(decodeError(() => decodeImage(normal, { maxPixels: 1000 })).reason).toMatch(/40x30/);
    expect(decodeImage(normal, { maxPixels: 1200 }).width).toBe(40);
    // The header probe used when opening folders applies the same limit.
    const path = join(temp.path, 'bomb.png');
    writeFileSync(path, pngBomb);
    expect((await decodeErrorAsync(probeImageFile(path))).reason).toMatch(/exceeds the limit/);
  });

  // Found while setting the fuzzer's allocation budgets (tools/fuzz): a small file whose header
  // declares a large image under the limit made the decoders allocate for the declared size
  // (jpeg-js ~1 GB and 38 s for 81 MP, the PNG inflate buffer ~240 MB) before finding the data missing.
  it('refuses a header the file is far too small to hold, before allocating for it', () => {
    const jpegLie = withJpegFrameSize(encodeBaselineJpeg(gradientImage(16, 16)), 9000, 9000);
    const pngLie = withPngSize(encodePng(gradientImage(16, 16)), 9000, 9000);
    for (const [lie, reason] of [[jpegLie, /a 9000x9000 JPEG cannot fit in \d+ bytes/], [pngLie, /\d+ compressed bytes cannot hold the \d+ bytes of a 9000x9000 image/]] as const) {
      const started = performance.now();
      const err = decodeError(() => decodeImage(lie, { file: 'lie' }));
      expect(err.reason).toMatch(/^truncated or corrupt image data/);
      expect(err.reason).toMatch(reason);
      expect(performance.now() - started).toBeLessThan(1000);
    }
  });

  it('probes the header without decoding, reading past a large Exif block', async () => {
    const jpegBytes = encodeBaselineJpeg(gradientImage(33, 20));
    // A 200 KB APP1 block pushes the frame header beyond the probe's first read.
    const filler = new Uint8Array(65533).fill(0x20);
    const segment = (body: Uint8Array) => Uint8Array.from([0xff, 0xe2, (body.length + 2) >> 8, (body.length + 2) & 0xff, ...body]);
    const padded = Uint8Array.from([...jpegBytes.subarray(0, 2), ...segment(filler), ...segment(filler), ...segment(filler), ...jpegBytes.subarray(2)]);
    const path = join(temp.path, 'big-exif.jpg');
    writeFileSync(path, padded);
    expect(await probeImageFile(path)).toEqual({ format: 'jpeg', width: 33, height: 20 });
    expect((await decodeImageFile(path)).height).toBe(20);
  });
});
