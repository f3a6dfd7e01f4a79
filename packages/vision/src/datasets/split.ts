/**
 * Train/validation splits by seed, following fastai's RandomSplitter: permute all indices with
 * the seed, the first floor(validPct * n) become validation, the rest training. (fastai draws the
 * permutation from torch's generator, so the same seed gives a different but equally valid split.)
 */

import { permutation } from '../random.js';

export interface Split {
  /** Ascending indices. */
  train: number[];
  valid: number[];
}

export function randomSplit(n: number, validPct: number, seed: number): Split {
  if (!(validPct >= 0 && validPct < 1)) throw new RangeError(`validPct must be in [0, 1), got ${validPct}`);
  const order = permutation(n, seed);
  const cut = Math.floor(validPct * n);
  const ascending = (a: number, b: number) => a - b;
  // Sorted so that item order (and so anything derived from it) does not depend on the split.
  return { valid: order.slice(0, cut).sort(ascending), train: order.slice(cut).sort(ascending) };
}
