/**
 * Items that are image files with labels: decode (by content), orient, fit to the target size,
 * through the optional memory/disk cache.
 */

import { ImageCache, type ImageCacheOptions } from './cache/image-cache.js';
import { decodeImageFile } from './read-image.js';
import type { FileDecodeOptions } from '../decode/options.js';
import type { RgbImage } from '../image.js';
import { fitImage, resolveTarget, type SizeLike } from '../target.js';
import { checkIndex, checkLabels, type VisionDataset } from '../datasets/dataset.js';
import type { DatasetSpec } from '../datasets/spec.js';

export interface FileItem {
  path: string;
  label: number;
}

export type { FileDecodeOptions } from '../decode/options.js';

export interface FileDatasetOptions {
  decode?: FileDecodeOptions;
  cache?: ImageCacheOptions;
}

export class FileDataset implements VisionDataset {
  readonly items: readonly FileItem[];
  readonly classes: readonly string[];
  private readonly cache: ImageCache;

  constructor(
    items: readonly FileItem[],
    classes: readonly string[],
    readonly options: FileDatasetOptions = {},
  ) {
    checkLabels(items, classes, (item) => item.path);
    this.items = items.map((item) => ({ path: item.path, label: item.label }));
    this.classes = [...classes];
    this.cache = new ImageCache(options.cache);
  }

  get length(): number {
    return this.items.length;
  }

  label(index: number): number {
    checkIndex(index, this.length);
    return this.items[index]!.label;
  }

  load(index: number, size: SizeLike): Promise<RgbImage> {
    checkIndex(index, this.length);
    const { path } = this.items[index]!;
    const target = resolveTarget(size);
    const decode = this.options.decode ?? {};
    // Options that change the pixels are part of the cache key.
    const variant = `alpha=${decode.alpha ?? 'white'};exif=${decode.exifOrientation ?? true}`;
    return this.cache.getOrCreate(path, target, variant, async () => fitImage(await decodeImageFile(path, decode), target));
  }

  spec(): DatasetSpec {
    return { kind: 'files', items: [...this.items], classes: [...this.classes], options: this.options };
  }
}
