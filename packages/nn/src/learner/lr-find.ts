/**
 * fastai's LR finder: a mock fit whose learning rate grows exponentially from startLr
 * to endLr over numIt batches, recording the smoothed loss, stopping early once the
 * loss passes 4× its best (or turns NaN). Everything training touched — weights,
 * BatchNorm statistics, optimizer state and hyper-parameters — is put back afterwards.
 * The suggestions skip the first numIt/10 and the last 5 points, as fastai does.
 */
import { CancelFitException, CancelValidException } from './callback.js';
import type { Learner } from './learner.js';
import { ParamScheduler } from './param-scheduler.js';
import { lrFinderSchedule } from '../optim/schedules.js';
import { captureState, restoreState } from './state.js';
import { type SuggestFunc, type Suggestion, suggestName, valley } from './suggest.js';

export interface LrFindOptions {
  startLr?: number | number[];
  endLr?: number | number[];
  numIt?: number;
  /** Stop once the smoothed loss exceeds 4× the best (default true). */
  stopDiv?: boolean;
  /** Suggestion rules (default [valley], like fastai). */
  suggestFuncs?: SuggestFunc[];
}

export interface LrFindResult {
  /** Last group's learning rate and the smoothed loss at every batch run. */
  lrs: number[];
  losses: number[];
  /** Suggested learning rate by rule name (valley, minimum, steep, slide). */
  suggestions: Record<string, number>;
  /** Where each suggestion sits on the curve. */
  points: Record<string, [number, number]>;
}

/** fastai's LRFinder callback (a ParamScheduler on the exponential sweep). */
export class LRFinder extends ParamScheduler {
  readonly numIt: number;
  bestLoss = Infinity;

  constructor(
    startLr: number | number[] = 1e-7,
    endLr: number | number[] = 10,
    numIt = 100,
    readonly stopDiv = true,
  ) {
    const starts = Array.isArray(startLr) ? startLr : null;
    const ends = Array.isArray(endLr) ? endLr : null;
    super({
      lr: starts ? starts.map((s, i) => lrFinderSchedule(s, ends ? ends[i]! : (endLr as number))) : lrFinderSchedule(startLr as number, endLr as number),
    });
    // fastai needs a few points past the 5 it drops at the end.
    this.numIt = Math.max(6, numIt);
  }

  override beforeFit(): void {
    this.bestLoss = Infinity;
  }

  override beforeBatch(): void {
    this.update(this.learn.trainIter / this.numIt);
  }

  /** Runs after the recorder (order 60 > 50), so the diverging point is on the curve. */
  override afterBatch(): void {
    const smooth = this.learn.smoothLoss;
    if (smooth < this.bestLoss) this.bestLoss = smooth;
    if (this.stopDiv && (smooth > 4 * this.bestLoss || Number.isNaN(smooth))) throw new CancelFitException();
    if (this.learn.trainIter >= this.numIt) throw new CancelFitException();
  }

  override beforeValidate(): void {
    throw new CancelValidException();
  }
}

/** Python's lst[a:-b] for non-negative a, b. */
function pySlice<T>(xs: readonly T[], start: number, fromEnd: number): T[] {
  return xs.slice(Math.min(start, xs.length), Math.max(0, xs.length - fromEnd));
}

export async function lrFind(learn: Learner, opts: LrFindOptions = {}): Promise<LrFindResult> {
  const numIt = opts.numIt ?? 100;
  const cb = new LRFinder(opts.startLr ?? 1e-7, opts.endLr ?? 10, numIt, opts.stopDiv ?? true);
  const nEpoch = Math.floor(numIt / learn.dls.train.numBatches) + 1;
  const opt = learn.opt ?? learn.createOpt();
  // Snapshot in memory (fastai writes a temporary file): restored even if training throws.
  const snapshot = await captureState(learn.model, opt, true);
  const flags = learn.model.parameters().map((p) => p.requiresGrad);
  learn.lrFinding = true;
  learn.stopOnNonFinite = false;
  try {
    await learn.noLogging(() => learn.fit(nEpoch, undefined, { cbs: [cb] }));
  } finally {
    learn.lrFinding = false;
    learn.stopOnNonFinite = true;
    opt.zeroGrad();
    restoreState(learn.model, opt, snapshot, 'the state before lrFind');
    learn.model.parameters().forEach((p, i) => (p.requiresGrad = flags[i]!));
  }
  const lrs = [...learn.recorder.lrs];
  const losses = [...learn.recorder.losses];
  let sLrs = pySlice(lrs, Math.floor(numIt / 10), 5);
  let sLosses = pySlice(losses, Math.floor(numIt / 10), 5);
  const firstNaN = sLosses.findIndex((v) => Number.isNaN(v));
  if (firstNaN >= 0) {
    sLrs = sLrs.slice(0, firstNaN);
    sLosses = sLosses.slice(0, firstNaN);
  }
  const suggestions: Record<string, number> = {};
  const points: Record<string, [number, number]> = {};
  for (const f of opts.suggestFuncs ?? [valley]) {
    const s: Suggestion = f(sLrs, sLosses, numIt);
    suggestions[suggestName(f)] = s.lr;
    points[suggestName(f)] = s.point;
  }
  return { lrs, losses, suggestions, points };
}

