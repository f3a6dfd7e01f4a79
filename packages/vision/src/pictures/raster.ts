/**
 * A minimal RGB drawing surface for generated pictures (batch grids, charts): encoded to PNG, or
 * widened to RGBA for a canvas's ImageData. (@tessera/vision/node's writePng writes the PNG to a
 * file atomically.)
 */
import { encodePng } from '../encode/png.js';

export type Rgb = readonly [number, number, number];

export const WHITE: Rgb = [255, 255, 255];
export const BLACK: Rgb = [0, 0, 0];

/** 8-bit RGB pixels, row-major, 3 bytes per pixel (the same layout as the CPU image type). */
export class Raster {
  readonly data: Uint8Array;
  /** Drawing outside this rectangle is ignored (the whole image by default). */
  private clipRect: { x0: number; y0: number; x1: number; y1: number };

  constructor(
    readonly width: number,
    readonly height: number,
    background: Rgb = WHITE,
  ) {
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
      throw new RangeError(`Raster: size must be positive integers, got ${width}x${height}`);
    }
    this.data = new Uint8Array(width * height * 3);
    this.clipRect = { x0: 0, y0: 0, x1: width, y1: height };
    this.fillRect(0, 0, width, height, background);
  }

  /** Restricts drawing to a rectangle (null: the whole image). */
  clip(rect: { x: number; y: number; width: number; height: number } | null): void {
    this.clipRect = rect
      ? {
          x0: Math.max(0, Math.floor(rect.x)),
          y0: Math.max(0, Math.floor(rect.y)),
          x1: Math.min(this.width, Math.floor(rect.x + rect.width)),
          y1: Math.min(this.height, Math.floor(rect.y + rect.height)),
        }
      : { x0: 0, y0: 0, x1: this.width, y1: this.height };
  }

  get(x: number, y: number): Rgb {
    const o = (y * this.width + x) * 3;
    return [this.data[o]!, this.data[o + 1]!, this.data[o + 2]!];
  }

  set(x: number, y: number, c: Rgb): void {
    x = Math.round(x);
    y = Math.round(y);
    const k = this.clipRect;
    if (x < k.x0 || y < k.y0 || x >= k.x1 || y >= k.y1) return;
    const o = (y * this.width + x) * 3;
    this.data[o] = c[0];
    this.data[o + 1] = c[1];
    this.data[o + 2] = c[2];
  }

  fillRect(x: number, y: number, w: number, h: number, c: Rgb): void {
    const k = this.clipRect;
    const x0 = Math.max(k.x0, Math.round(x));
    const y0 = Math.max(k.y0, Math.round(y));
    const x1 = Math.min(k.x1, Math.round(x + w));
    const y1 = Math.min(k.y1, Math.round(y + h));
    for (let yy = y0; yy < y1; yy++) {
      for (let xx = x0; xx < x1; xx++) {
        const o = (yy * this.width + xx) * 3;
        this.data[o] = c[0];
        this.data[o + 1] = c[1];
        this.data[o + 2] = c[2];
      }
    }
  }

  /** One-pixel outline. */
  strokeRect(x: number, y: number, w: number, h: number, c: Rgb): void {
    this.fillRect(x, y, w, 1, c);
    this.fillRect(x, y + h - 1, w, 1, c);
    this.fillRect(x, y, 1, h, c);
    this.fillRect(x + w - 1, y, 1, h, c);
  }

  /** A straight line of the given thickness (square pen), endpoints included. */
  line(x0: number, y0: number, x1: number, y1: number, c: Rgb, thickness = 1): void {
    const steps = Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0), 1);
    if (!Number.isFinite(steps) || steps > 1e6) return;
    const n = Math.ceil(steps);
    const half = (thickness - 1) / 2;
    for (let i = 0; i <= n; i++) {
      const x = x0 + ((x1 - x0) * i) / n;
      const y = y0 + ((y1 - y0) * i) / n;
      if (thickness <= 1) this.set(x, y, c);
      else this.fillRect(Math.round(x - half), Math.round(y - half), thickness, thickness, c);
    }
  }

  /** A filled disc. */
  disc(cx: number, cy: number, r: number, c: Rgb): void {
    for (let dy = -Math.ceil(r); dy <= Math.ceil(r); dy++) {
      for (let dx = -Math.ceil(r); dx <= Math.ceil(r); dx++) if (dx * dx + dy * dy <= r * r + 0.5) this.set(cx + dx, cy + dy, c);
    }
  }

  /** Copies RGB pixels (w x h, 3 bytes each) with their top-left at (x, y). */
  blit(pixels: Uint8Array, w: number, h: number, x: number, y: number): void {
    const k = this.clipRect;
    const cx0 = Math.max(k.x0, x);
    const cx1 = Math.min(k.x1, x + w);
    if (cx1 <= cx0) return;
    for (let r = Math.max(0, k.y0 - y); r < h && y + r < k.y1; r++) {
      const src = (r * w + (cx0 - x)) * 3;
      this.data.set(pixels.subarray(src, src + (cx1 - cx0) * 3), ((y + r) * this.width + cx0) * 3);
    }
  }
  toPng(): Uint8Array {
    return encodePng(this);
  }

  /** RGBA pixels (alpha 255), e.g. for `new ImageData(raster.toRgba(), raster.width)`. */
  toRgba(): Uint8ClampedArray {
    return rgbToRgba(this.data);
  }
}

/** Packed RGB to RGBA with opaque alpha. */
export function rgbToRgba(rgb: Uint8Array): Uint8ClampedArray {
  const n = rgb.length / 3;
  const out = new Uint8ClampedArray(n * 4);
  for (let p = 0; p < n; p++) {
    out[4 * p] = rgb[3 * p]!;
    out[4 * p + 1] = rgb[3 * p + 1]!;
    out[4 * p + 2] = rgb[3 * p + 2]!;
    out[4 * p + 3] = 255;
  }
  return out;
}
