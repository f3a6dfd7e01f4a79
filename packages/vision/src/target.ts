/**
 * The size a dataset item is delivered at, and how an image is fitted to it.
 *
 * One value describes the whole geometric preprocessing of the CPU side, so that it can be sent
 * to worker threads, used as part of a cache key, and compared.
 */

import type { RgbImage } from './image.js';
import { resize, resizeAndCentreCrop, type ResizeMode } from './resize.js';

/** 'crop': resize the shorter side and centre-crop (keeps aspect); 'squish': stretch to the size. */
export type Fit = 'crop' | 'squish';

export interface TargetSize {
  width: number;
  height: number;
  /** Default 'crop'. */
  fit?: Fit;
  /** Default 'bilinear'. */
  mode?: ResizeMode;
  /** Default true (ignored by 'align-corners'). */
  antialias?: boolean;
}

/** A number n means n x n, cropped. */
export type SizeLike = number | TargetSize;

export type ResolvedTarget = Required<TargetSize>;

export function resolveTarget(size: SizeLike): ResolvedTarget {
  const t = typeof size === 'number' ? { width: size, height: size } : size;
  if (!Number.isInteger(t.width) || !Number.isInteger(t.height) || t.width <= 0 || t.height <= 0) {
    throw new RangeError(`target size must be positive integers, got ${t.width}x${t.height}`);
  }
  return { width: t.width, height: t.height, fit: t.fit ?? 'crop', mode: t.mode ?? 'bilinear', antialias: t.antialias ?? true };
}

/** Stable text form, used in cache keys. */
export function targetKey(size: SizeLike): string {
  const t = resolveTarget(size);
  return `${t.width}x${t.height}-${t.fit}-${t.mode}${t.mode === 'bilinear' && t.antialias ? '-aa' : ''}`;
}

export function fitImage(img: RgbImage, size: SizeLike): RgbImage {
  const t = resolveTarget(size);
  if (img.width === t.width && img.height === t.height) return img; // both fits are the identity here
  const options = { mode: t.mode, antialias: t.antialias };
  return t.fit === 'crop' ? resizeAndCentreCrop(img, t.width, t.height, options) : resize(img, t.width, t.height, options);
}
