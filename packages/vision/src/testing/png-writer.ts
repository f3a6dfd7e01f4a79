/**
 * Test-only PNG writer for every colour type and bit depth (pngjs cannot write palette or
 * low-bit images), so the decoder tests can build exactly the file they need.
 */

import { zlibSync } from 'fflate';
import { pngChunk, pngFile } from './png-chunks.js';

export interface PngSpec {
  width: number;
  height: number;
  /** 0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA. */
  colorType: 0 | 2 | 3 | 4 | 6;
  bitDepth: 1 | 2 | 4 | 8 | 16;
  /** Raw samples, row-major, channels interleaved, each in [0, 2^bitDepth). */
  samples: ArrayLike<number>;
  /** RGB triples for colour type 3. */
  palette?: ReadonlyArray<readonly [number, number, number]>;
  /** tRNS payload: per-palette alpha (type 3) or the transparent sample value(s) (types 0/2). */
  transparency?: readonly number[];
  /** Adam7 interlacing. */
  interlaced?: boolean;
}

const CHANNELS = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 } as const;

/** Adam7 passes: x start, y start, x step, y step. */
const ADAM7 = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]] as const;

/** Scanlines (filter byte 0 + packed samples) for the pixels (x, y) of a (sub)image. */
function packRows(xs: number[], ys: number[], spec: PngSpec, channels: number): number[] {
  const { width, bitDepth, samples } = spec;
  if (xs.length === 0 || ys.length === 0) return []; // an empty Adam7 pass has no scanlines at all
  const rowBytes = Math.ceil((xs.length * channels * bitDepth) / 8);
  const out: number[] = [];
  for (const y of ys) {
    const row = new Uint8Array(rowBytes);
    xs.forEach((x, i) => {
      for (let c = 0; c < channels; c++) {
        const v = samples[(y * width + x) * channels + c]!;
        const k = i * channels + c;
        if (bitDepth === 16) {
          row[2 * k] = v >> 8;
          row[2 * k + 1] = v & 0xff;
        } else if (bitDepth === 8) {
          row[k] = v;
        } else {
          const bit = k * bitDepth;
          row[bit >> 3]! |= v << (8 - bitDepth - (bit & 7));
        }
      }
    });
    out.push(0, ...row);
  }
  return out;
}

export function writePng(spec: PngSpec): Uint8Array {
  const { width, height, colorType, bitDepth } = spec;
  const channels = CHANNELS[colorType];
  const range = (start: number, end: number, step: number) => Array.from({ length: Math.max(0, Math.ceil((end - start) / step)) }, (_, i) => start + i * step);
  const raw = Uint8Array.from(
    spec.interlaced
      ? ADAM7.flatMap(([x0, y0, dx, dy]) => packRows(range(x0, width, dx), range(y0, height, dy), spec, channels))
      : packRows(range(0, width, 1), range(0, height, 1), spec, channels),
  );
  const extra: Uint8Array[] = [];
  if (spec.palette) extra.push(pngChunk('PLTE', Uint8Array.from(spec.palette.flat())));
  if (spec.transparency) {
    const t = spec.transparency;
    // Gray/RGB tRNS values are 16-bit fields whatever the depth; palette alphas are bytes.
    const data = colorType === 3 ? Uint8Array.from(t) : Uint8Array.from(t.flatMap((v) => [v >> 8, v & 0xff]));
    extra.push(pngChunk('tRNS', data));
  }
  return pngFile({ width, height, bitDepth, colorType, interlaced: spec.interlaced }, zlibSync(raw), extra);
}
