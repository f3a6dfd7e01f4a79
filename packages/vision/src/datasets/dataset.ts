/**
 * What the loader needs from a dataset: a length, a label per item, and pixels at a size.
 *
 * `spec()` is what lets the same dataset run in worker threads: functions and class instances
 * cannot cross a thread boundary, so each dataset describes itself as plain data and the worker
 * rebuilds an equal dataset from that (see spec.ts).
 */

import type { RgbImage } from '../image.js';
import type { SizeLike } from '../target.js';
import type { DatasetSpec } from './spec.js';

export interface VisionDataset {
  readonly length: number;
  /** Class names; label i means classes[i]. */
  readonly classes: readonly string[];
  label(index: number): number;
  /** The item's image fitted to `size` (exactly that width x height). */
  load(index: number, size: SizeLike): Promise<RgbImage>;
  /** A structured-clonable recipe from which a worker thread rebuilds this dataset. */
  spec(): DatasetSpec;
}

/** RangeError unless every item's label indexes `classes`; `nameOf` names an item in the message. */
export function checkLabels<T extends { label: number }>(items: readonly T[], classes: readonly string[], nameOf: (item: T) => string): void {
  for (const item of items) {
    if (!Number.isInteger(item.label) || item.label < 0 || item.label >= classes.length) {
      throw new RangeError(`label ${item.label} of ${nameOf(item)} is not an index into ${classes.length} classes`);
    }
  }
}

/** RangeError for an index outside 0..length-1 (array access would silently give undefined). */
export function checkIndex(index: number, length: number): void {
  if (!Number.isInteger(index) || index < 0 || index >= length) {
    throw new RangeError(`dataset index ${index} out of range 0..${length - 1}`);
  }
}
