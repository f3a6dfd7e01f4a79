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

/**
 * Failures counted against one limit across loaders: a run's training and validation sets (and
 * the files its folder scan already refused) share one budget of `maxFraction` of `total`, so a
 * small validation set with one bad file does not stop a run that is 99% fine.
 */
export class BadShareLimit {
  private readonly records: SkippedItems[] = [];

  /** `alreadySkipped`: how many failed before any loader ran (a folder scan's), counted among `total`. */
  constructor(
    readonly total: number,
    readonly maxFraction: number,
    private readonly alreadySkipped = 0,
  ) {
    if (!(maxFraction >= 0 && maxFraction <= 1)) throw new RangeError(`maxBadFraction must be between 0 and 1, got ${maxFraction}`);
  }

  watch(record: SkippedItems): void {
    if (!this.records.includes(record)) this.records.push(record);
  }

  /** Throws when the failures so far exceed the limit. */
  check(): void {
    checkBadShare(this.records.flatMap((r) => r.list), this.total, this.maxFraction, 'images', this.alreadySkipped);
  }
}

/** Throws once more than `maxFraction` of `total` items have failed (`earlier` of them unnamed), naming a few. */
export function checkBadShare(skipped: readonly SkippedItem[], total: number, maxFraction: number, what = 'images', earlier = 0): void {
  const count = skipped.length + earlier;
  if (skipped.length === 0 || count <= maxFraction * total) return;
  const pct = (f: number) => `${Math.round(f * 1000) / 10}%`;
  const examples = skipped.slice(0, 3).map((s) => `${s.file} (${s.reason})`).join('; ');
  throw new TesseraVisionError(
    `${count} of ${total} ${what} (${pct(count / total)}) could not be decoded, more than the ${pct(maxFraction)} allowed, ` +
      `e.g. ${examples}. Fix or remove the broken files, or raise the limit (--max-bad-pct in the CLI, maxBadFraction in the API)`,
  );
}
