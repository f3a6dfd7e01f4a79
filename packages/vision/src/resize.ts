/**
 * CPU resampling of RGB images: bilinear with antialiasing, and TF's align-corners bilinear.
 *
 * Shrinking a 2592-px photo to 256 px with plain bilinear reads 4 of every ~100 source pixels
 * and aliases badly; here the triangle filter's support grows with the shrink factor (as in PIL
 * and torchvision's `antialias=True`), so every source pixel contributes. The filter is applied
 * separably with precomputed per-axis weights: cost ~ (src rows x dst cols x taps) + (dst pixels
 * x taps), a few tens of milliseconds for a photo.
 *
 * Coordinates: 'bilinear' aligns pixel centres (out pixel i covers source [i*s, (i+1)*s)), as PIL,
 * torchvision and TF's half_pixel_centers do. 'align-corners' maps the first and last pixel
 * centres onto each other: source = i*(in-1)/(out-1), TF's resizeBilinear(alignCorners=true) and
 * Tiny Darknet's reference preprocessing; it is never antialiased (TF does not antialias it).
 * Taps that fall outside the image are dropped and the rest renormalised (PIL's edge rule).
 */

import { createImage, type RgbImage } from './image.js';

export type ResizeMode = 'bilinear' | 'align-corners';

export interface ResizeOptions {
  /** Default 'bilinear'. */
  mode?: ResizeMode;
  /** Widen the filter by the shrink factor when shrinking (default true). Ignored by 'align-corners'. */
  antialias?: boolean;
}

/** A source rectangle in pixel units; may be fractional (centre crops of odd sizes are). */
export interface Region {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** For each output index: first source index, tap count, and taps' weights (summing to 1). */
interface AxisWeights {
  start: Int32Array;
  count: Int32Array;
  weights: Float32Array; // out * maxTaps, row i holds output i's weights
  maxTaps: number;
}

function triangleWeights(inSize: number, from: number, span: number, outSize: number, antialias: boolean): AxisWeights {
  const scale = span / outSize;
  // Filter half-width in source pixels: 1 for magnification, the shrink factor when antialiasing.
  const support = antialias && scale > 1 ? scale : 1;
  const maxTaps = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float32Array(outSize * maxTaps);
  for (let i = 0; i < outSize; i++) {
    const centre = from + (i + 0.5) * scale; // in continuous coordinates; pixel j's centre is j+0.5
    const lo = Math.max(0, Math.floor(centre - support - 0.5));
    const hi = Math.min(inSize - 1, Math.ceil(centre + support - 0.5));
    let total = 0;
    let n = 0;
    let first = -1;
    for (let j = lo; j <= hi; j++) {
      const w = 1 - Math.abs((j + 0.5 - centre) / support);
      if (w <= 0) {
        if (first >= 0) break; // past the support on the right
        continue;
      }
      if (first < 0) first = j;
      weights[i * maxTaps + n++] = w;
      total += w;
    }
    if (n === 0) {
      // Centre beyond the image (only for regions reaching outside it): take the nearest edge pixel.
      first = Math.min(inSize - 1, Math.max(0, Math.floor(centre)));
      weights[i * maxTaps] = 1;
      n = 1;
      total = 1;
    }
    for (let k = 0; k < n; k++) weights[i * maxTaps + k]! /= total;
    start[i] = first;
    count[i] = n;
  }
  return { start, count, weights, maxTaps };
}

function alignCornersWeights(inSize: number, from: number, span: number, outSize: number): AxisWeights {
  const step = outSize > 1 ? (span - 1) / (outSize - 1) : 0;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float32Array(outSize * 2);
  for (let i = 0; i < outSize; i++) {
    const c = Math.min(inSize - 1, Math.max(0, from + i * step));
    const lo = Math.floor(c);
    const frac = c - lo;
    start[i] = lo;
    if (frac > 0 && lo + 1 < inSize) {
      count[i] = 2;
      weights[2 * i] = 1 - frac;
      weights[2 * i + 1] = frac;
    } else {
      count[i] = 1;
      weights[2 * i] = 1;
    }
  }
  return { start, count, weights, maxTaps: 2 };
}

function axisWeights(inSize: number, from: number, span: number, outSize: number, options: ResizeOptions): AxisWeights {
  return options.mode === 'align-corners'
    ? alignCornersWeights(inSize, from, span, outSize)
    : triangleWeights(inSize, from, span, outSize, options.antialias ?? true);
}

function checkSize(width: number, height: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new RangeError(`resize target must be positive integers, got ${width}x${height}`);
  }
}

/** Resamples `region` of `img` to width x height. */
export function resizeRegion(img: RgbImage, region: Region, width: number, height: number, options: ResizeOptions = {}): RgbImage {
  checkSize(width, height);
  if (!(region.width > 0 && region.height > 0)) throw new RangeError(`empty resize region ${JSON.stringify(region)}`);
  const xs = axisWeights(img.width, region.x, region.width, width, options);
  const ys = axisWeights(img.height, region.y, region.height, height, options);

  // Horizontal pass over only the source rows the vertical pass will read.
  const rowLo = ys.start[0]!;
  const rowHi = ys.start[height - 1]! + ys.count[height - 1]! - 1;
  const rows = rowHi - rowLo + 1;
  const tmp = new Float32Array(rows * width * 3);
  const src = img.data;
  const srcStride = img.width * 3;
  for (let r = 0; r < rows; r++) {
    const rowBase = (rowLo + r) * srcStride;
    let t = r * width * 3;
    for (let x = 0; x < width; x++) {
      const n = xs.count[x]!;
      const wBase = x * xs.maxTaps;
      let s = rowBase + xs.start[x]! * 3;
      let red = 0;
      let green = 0;
      let blue = 0;
      for (let k = 0; k < n; k++, s += 3) {
        const w = xs.weights[wBase + k]!;
        red += src[s]! * w;
        green += src[s + 1]! * w;
        blue += src[s + 2]! * w;
      }
      tmp[t++] = red;
      tmp[t++] = green;
      tmp[t++] = blue;
    }
  }

  // Vertical pass, rounding to the nearest integer (clamped: weights are positive, so only
  // floating-point error can step outside 0..255).
  const out = createImage(width, height);
  const dst = out.data;
  const tmpStride = width * 3;
  let o = 0;
  for (let y = 0; y < height; y++) {
    const n = ys.count[y]!;
    const wBase = y * ys.maxTaps;
    const base = (ys.start[y]! - rowLo) * tmpStride;
    for (let c = 0; c < tmpStride; c++) {
      let acc = 0;
      for (let k = 0, t = base + c; k < n; k++, t += tmpStride) acc += tmp[t]! * ys.weights[wBase + k]!;
      dst[o++] = acc <= 0 ? 0 : acc >= 255 ? 255 : (acc + 0.5) | 0;
    }
  }
  return out;
}

/** Resizes the whole image to width x height (aspect ratio not kept: "squish"). */
export function resize(img: RgbImage, width: number, height: number, options: ResizeOptions = {}): RgbImage {
  return resizeRegion(img, { x: 0, y: 0, width: img.width, height: img.height }, width, height, options);
}

/**
 * Scales so the shorter side becomes `shorter`, keeping the aspect ratio. The longer side is
 * truncated (torchvision's Resize(int) rule), so results line up with that reference.
 */
export function resizeShorterSide(img: RgbImage, shorter: number, options: ResizeOptions = {}): RgbImage {
  const { width: w, height: h } = img;
  const [outW, outH] = w <= h ? [shorter, Math.max(1, Math.floor((shorter * h) / w))] : [Math.max(1, Math.floor((shorter * w) / h)), shorter];
  return resize(img, outW, outH, options);
}

/** The largest centred region of img with the aspect ratio of width x height. */
export function centredCoverRegion(img: RgbImage, width: number, height: number): Region {
  const scale = Math.max(width / img.width, height / img.height);
  const rw = Math.min(img.width, width / scale);
  const rh = Math.min(img.height, height / scale);
  return { x: (img.width - rw) / 2, y: (img.height - rh) / 2, width: rw, height: rh };
}

/**
 * "Resize the shorter side, then centre-crop" in one resampling: the centred region with the
 * target's aspect ratio is resampled straight to width x height. Same picture as the two-step
 * version without rounding the intermediate size, and no work spent on pixels cropped away.
 */
export function resizeAndCentreCrop(img: RgbImage, width: number, height: number, options: ResizeOptions = {}): RgbImage {
  checkSize(width, height);
  return resizeRegion(img, centredCoverRegion(img, width, height), width, height, options);
}
