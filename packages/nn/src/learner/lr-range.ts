/**
 * Learning rates per parameter group, as fastai spells them: a number (every group),
 * an array (one per group), or a slice — `lrSlice(stop)` gives the last group `stop`
 * and the others stop/10, `lrSlice(start, stop)` spreads the groups geometrically
 * (discriminative learning rates: early layers move less than the head).
 */
import { TesseraError } from '@tessera/tensor';

/** Python's slice(start, stop) as fastai uses it for learning rates. */
export interface LrSlice {
  readonly start?: number;
  readonly stop: number;
}

export type LrSpec = number | readonly number[] | LrSlice;

/** slice(stop) / slice(start, stop). */
export function lrSlice(startOrStop: number, stop?: number): LrSlice {
  return stop === undefined ? { stop: startOrStop } : { start: startOrStop, stop };
}

export function isLrSlice(v: unknown): v is LrSlice {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && typeof (v as LrSlice).stop === 'number';
}

/** fastai's even_mults: n values from start to stop, evenly spaced in log scale. */
export function evenMults(start: number, stop: number, n: number): number[] {
  if (n === 1) return [stop];
  const step = (stop / start) ** (1 / (n - 1));
  return Array.from({ length: n }, (_, i) => start * step ** i);
}

/**
 * One learning rate per group, following fastai's Optimizer.set_hyper: a slice with a
 * (truthy) start → even_mults(start, stop); a slice without → stop/10 for all groups
 * but the last; a single value → every group.
 */
export function lrRange(lr: LrSpec, nGroups: number): number[] {
  let v: number[];
  if (isLrSlice(lr)) {
    // Like Python, `if v.start:` treats a zero start as absent.
    if (lr.start) v = evenMults(lr.start, lr.stop, nGroups);
    else v = [...Array<number>(nGroups - 1).fill(lr.stop / 10), lr.stop];
  } else {
    v = typeof lr === 'number' ? [lr] : [...lr];
  }
  if (v.length === 1) v = Array<number>(nGroups).fill(v[0]!);
  if (v.length !== nGroups) {
    throw new TesseraError(`learning rates: got ${v.length} values [${v.join(', ')}] for ${nGroups} parameter groups`);
  }
  for (const x of v) {
    if (!(Number.isFinite(x) && x >= 0)) throw new TesseraError(`learning rates must be finite and >= 0, got ${x}`);
  }
  return v;
}
