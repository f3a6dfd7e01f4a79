/**
 * A view of some items of another dataset, in the given order: how splits of in-memory datasets
 * (the counting task) are made without copying anything.
 */

import type { RgbImage } from '../image.js';
import type { SizeLike } from '../target.js';
import { checkIndex, type VisionDataset } from './dataset.js';
import { randomSplit } from './split.js';
import type { DatasetSpec } from './spec.js';

export class SubsetDataset implements VisionDataset {
  readonly indices: readonly number[];

  constructor(
    readonly base: VisionDataset,
    indices: readonly number[],
  ) {
    for (const i of indices) checkIndex(i, base.length);
    this.indices = [...indices];
  }

  get length(): number {
    return this.indices.length;
  }

  get classes(): readonly string[] {
    return this.base.classes;
  }

  label(index: number): number {
    checkIndex(index, this.length);
    return this.base.label(this.indices[index]!);
  }

  load(index: number, size: SizeLike): Promise<RgbImage> {
    checkIndex(index, this.length);
    return this.base.load(this.indices[index]!, size);
  }

  spec(): DatasetSpec {
    return { kind: 'subset', base: this.base.spec(), indices: [...this.indices] };
  }
}

/** fastai-style random split of any dataset into two views. */
export function splitDataset(dataset: VisionDataset, options: { validPct?: number; seed?: number } = {}): { train: SubsetDataset; valid: SubsetDataset } {
  const { train, valid } = randomSplit(dataset.length, options.validPct ?? 0.2, options.seed ?? 42);
  return { train: new SubsetDataset(dataset, train), valid: new SubsetDataset(dataset, valid) };
}

/**
 * The items of `dataset` except `skipped` ones, in order: what an in-order evaluation pass that
 * dropped them saw, so a prediction's position there maps back to its image.
 */
export function withoutSkipped(dataset: VisionDataset, skipped: readonly { index: number }[]): VisionDataset {
  if (skipped.length === 0) return dataset;
  const bad = new Set(skipped.map((s) => s.index));
  return new SubsetDataset(dataset, Array.from({ length: dataset.length }, (_, i) => i).filter((i) => !bad.has(i)));
}
