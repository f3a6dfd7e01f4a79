/**
 * Hyper-parameter schedules as pure functions of training progress `pos` ∈ [0, 1],
 * with fastai's semantics (fastai/callback/schedule.py) so that Tessera's one-cycle
 * training and LR finder reproduce fastai's learning-rate and momentum curves.
 * fastai computes phase positions in float32; these use float64, which differs from
 * it by ~1e-7 relative: the curves are the same, only rounding differs.
 */

/** A schedule: training progress in [0, 1] → hyper-parameter value. */
export type Schedule = (pos: number) => number;

/** Linear from `start` to `end`. */
export function schedLin(start: number, end: number, pos: number): number {
  return start + pos * (end - start);
}

/** Half a cosine from `start` to `end`: flat at both ends, steepest in the middle. */
export function schedCos(start: number, end: number, pos: number): number {
  return start + ((1 + Math.cos(Math.PI * (1 - pos))) * (end - start)) / 2;
}

/** Constant `start` (`end` is ignored, as in fastai). */
export function schedNo(start: number, _end: number, _pos: number): number {
  return start;
}

/** Exponential from `start` to `end` (the LR finder's sweep): start·(end/start)^pos. */
export function schedExp(start: number, end: number, pos: number): number {
  return start * (end / start) ** pos;
}

/** fastai's SchedLin/SchedCos/SchedNo/SchedExp: the functions above with start and end bound. */
export const annealLin = (start: number, end: number): Schedule => (pos) => schedLin(start, end, pos);
export const annealCos = (start: number, end: number): Schedule => (pos) => schedCos(start, end, pos);
export const annealExp = (start: number, end: number): Schedule => (pos) => schedExp(start, end, pos);

/** Polynomial from `start` to `end`: start + (end-start)·pos^power. */
export function annealPoly(start: number, end: number, power: number): Schedule {
  return (pos) => start + (end - start) * pos ** power;
}

/**
 * Runs `scheds[i]` over the i-th share `pcts[i]` of training, each seeing its own
 * position rescaled to [0, 1]. At a boundary the later phase starts (its pos 0);
 * past pos 1 the last phase extrapolates, as in fastai. One difference: a zero-width
 * phase is never chosen (fastai would divide by zero at its boundary).
 */
export function combineScheds(pcts: readonly number[], scheds: readonly Schedule[]): Schedule {
  if (pcts.length === 0 || pcts.length !== scheds.length) {
    throw new RangeError(`combineScheds: ${pcts.length} shares for ${scheds.length} schedules`);
  }
  if (pcts.some((p) => !(p >= 0))) throw new RangeError(`combineScheds: shares must be >= 0, got ${JSON.stringify(pcts)}`);
  const total = pcts.reduce((a, b) => a + b, 0);
  if (Math.abs(total - 1) > 1e-9) throw new RangeError(`combineScheds: shares must add up to 1, got ${total}`);
  const bounds = [0];
  for (const p of pcts) bounds.push(bounds[bounds.length - 1]! + p);

  return (pos) => {
    if (!(pos >= 0)) throw new RangeError(`schedule position must be >= 0, got ${pos}`);
    // The last phase that has started (and has width), like fastai's
    // min((pos >= pcts).nonzero().max(), len(pcts) - 2).
    let idx = -1;
    for (let i = 0; i < pcts.length; i++) if (pos >= bounds[i]! && pcts[i]! > 0) idx = i;
    return scheds[idx]!((pos - bounds[idx]!) / pcts[idx]!);
  };
}

/** Cosine from `start` to `middle` over the first `pct` of training, then to `end`. */
export function combinedCos(pct: number, start: number, middle: number, end: number): Schedule {
  return combineScheds([pct, 1 - pct], [annealCos(start, middle), annealCos(middle, end)]);
}

export interface OneCycleOptions {
  /** Peak learning rate. */
  lrMax: number;
  /** The cycle starts at lrMax/div (fastai: 25). */
  div?: number;
  /** ... and ends at lrMax/divFinal (fastai: 1e5). */
  divFinal?: number;
  /** Share of training spent warming up (fastai: 0.25; fine_tune's frozen epoch uses 0.99). */
  pctStart?: number;
  /** Momentum at start, at the LR peak, and at the end (fastai: 0.95, 0.85, 0.95). */
  moms?: readonly [number, number, number];
}

/**
 * fastai's fit_one_cycle: learning rate warms up lrMax/div → lrMax and anneals to
 * lrMax/divFinal, while momentum moves the opposite way (high momentum with a low LR).
 */
export function oneCycle(options: OneCycleOptions): { lr: Schedule; mom: Schedule } {
  const { lrMax, div = 25, divFinal = 1e5, pctStart = 0.25, moms = [0.95, 0.85, 0.95] } = options;
  return {
    lr: combinedCos(pctStart, lrMax / div, lrMax, lrMax / divFinal),
    mom: combinedCos(pctStart, moms[0], moms[1], moms[2]),
  };
}

/** fastai's fit_flat_cos: flat at `lr` for `pctStart` (0.75) of training, then cosine to lr/divFinal. */
export function flatCos(options: { lr: number; divFinal?: number; pctStart?: number }): { lr: Schedule } {
  const { lr, divFinal = 1e5, pctStart = 0.75 } = options;
  return { lr: combinedCos(pctStart, lr, lr, lr / divFinal) };
}

/** The LR finder's sweep (fastai: 1e-7 → 10); drive it with pos = iteration / numIterations. */
export function lrFinderSchedule(startLr = 1e-7, endLr = 10): Schedule {
  return annealExp(startLr, endLr);
}

/**
 * Training progress before batch `step` (0-based, counted over all epochs) of
 * `totalSteps`: what fastai's ParamScheduler passes as `pct_train`.
 */
export function trainingPosition(step: number, totalSteps: number): number {
  if (!(totalSteps > 0)) throw new RangeError(`totalSteps must be > 0, got ${totalSteps}`);
  return step / totalSteps;
}
