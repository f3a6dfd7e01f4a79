/**
 * fastai's item and batch transforms as plain values: `resize(224)` is Resize(224) (the size
 * every image is fitted to on the CPU, and how), `augTransforms()` is aug_transforms() (the
 * options of the one GPU augmentation kernel, @tessera/vision's augment/). Defaults are fastai's.
 */
import { AUGMENT_DEFAULTS, type AugmentOptions } from '@tessera/vision';

/** fastai's ResizeMethod: 'crop' (random crop in training, centre crop in validation) or 'squish'. */
export type ResizeMethod = 'crop' | 'squish';

/** fastai's Resize(size, method): an item transform. */
export interface Resize {
  readonly size: number;
  readonly method: ResizeMethod;
}

export function resize(size: number, method: ResizeMethod = 'crop'): Resize {
  if (!(Number.isInteger(size) && size >= 1)) throw new RangeError(`resize: size must be a positive integer, got ${size}`);
  if (method !== 'crop' && method !== 'squish') throw new RangeError(`resize: method must be 'crop' or 'squish', got ${String(method)}`);
  return { size, method };
}

/** The options of fastai's aug_transforms (crop modes are the item transform's business). */
export type AugTransformsOptions = Partial<Omit<AugmentOptions, 'crop'>>;

/**
 * fastai's aug_transforms(): flip, ±10° rotation, zoom 1–1.1, lighting 0.2, warp 0.2, each
 * affine part with p 0.75 and lighting with p 0.75, unless overridden.
 */
export function augTransforms(opts: AugTransformsOptions = {}): Partial<AugmentOptions> {
  return { ...opts };
}

/** No batch transform (fastai's default batch_tfms=None): the crop alone, nothing random beyond it. */
export const NO_AUGMENT: Readonly<Partial<AugmentOptions>> = Object.freeze({
  doFlip: false, maxRotate: 0, minZoom: 1, maxZoom: 1, maxLighting: 0, maxWarp: 0, pAffine: 0, pLighting: 0,
});

/** The augmentation kernel's options for an item transform and batch transforms. */
export function augmentFor(item: Resize, batch: Partial<AugmentOptions> | null | undefined): Partial<AugmentOptions> {
  const crop = item.method === 'crop' ? 'resize' : 'squish';
  return { ...(batch ?? NO_AUGMENT), crop };
}

export { AUGMENT_DEFAULTS };
