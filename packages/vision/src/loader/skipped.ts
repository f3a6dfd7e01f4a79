/**
 * The items a loader could not decode: each remembered by its dataset index (so it is never tried
 * again), reported once (file and reason) and counted. Loaders over the same dataset may share one
 * record (validation and its test-time-augmented passes), so a file is named once per run.
 */

import { TesseraVisionError } from '../errors.js';

export interface SkippedItem {
  /** Index in the loader's dataset. */
  index: number;
  /** The file (or the label an in-memory item was given) that failed. */
  file: string;
  /** Why, in a few words (the decoder's reason). */
  reason: string;
}

/** Default share of a dataset that may fail to decode before a run stops (fastai has none; 10% catches a broken copy early). */
export const DEFAULT_MAX_BAD_FRACTION = 0.1;

export class SkippedItems {
  private readonly byIndex = new Map<number, SkippedItem>();

  /** `onSkip` hears each newly skipped item once, as it is found. */
  constructor(private readonly onSkip?: (item: SkippedItem) => void) {}

  has(index: number): boolean {
    return this.byIndex.has(index);
  }

  get size(): number {
    return this.byIndex.size;
  }

  /** In the order they were found. */
  get list(): SkippedItem[] {
    return [...this.byIndex.values()].map((s) => ({ ...s }));
  }

  /** Records an item; false when it was already known. */
  add(item: SkippedItem): boolean {
    if (this.byIndex.has(item.index)) return false;
    this.byIndex.set(item.index, { ...item });
    this.onSkip?.(item);
    return true;
  }
}

/** Throws once more than `maxFraction` of `total` items have failed, naming a few of them. */
export function checkBadShare(skipped: readonly SkippedItem[], total: number, maxFraction: number, what = 'images'): void {
  if (skipped.length === 0 || skipped.length <= maxFraction * total) return;
  const pct = (f: number) => `${Math.round(f * 1000) / 10}%`;
  const examples = skipped.slice(0, 3).map((s) => `${s.file} (${s.reason})`).join('; ');
  throw new TesseraVisionError(
    `${skipped.length} of ${total} ${what} (${pct(skipped.length / total)}) could not be decoded, more than the ${pct(maxFraction)} allowed, ` +
      `e.g. ${examples}. Fix or remove the broken files, or raise the limit (--max-bad-pct in the CLI, maxBadFraction in the API)`,
  );
}
