/**
 * Callbacks: everything around the bare training loop (recording, schedules,
 * progress, checkpoints, early stopping, the LR finder) hooks into named events, as
 * in fastai. Callbacks run sorted by `order` (stable for equal orders); a hook may
 * be async (checkpoint writes are) and is awaited before the loop moves on.
 * Throwing one of the Cancel* exceptions from a hook skips the rest of that stage,
 * like fastai's CancelFitException & co.
 */
import type { Learner } from './learner.js';

/** Event names, in the order one epoch fires them. */
export const EVENTS = [
  'beforeFit',
  'beforeEpoch',
  'beforeTrain',
  'beforeBatch',
  'afterBatch',
  'afterCancelBatch',
  'afterCancelTrain',
  'afterTrain',
  'beforeValidate',
  'afterCancelValidate',
  'afterValidate',
  'afterCancelEpoch',
  'afterEpoch',
  'afterCancelFit',
  'afterFit',
] as const;
export type CallbackEvent = (typeof EVENTS)[number];

/** Events fired once per batch: they honour runTrain/runValid (fastai's _inner_loop). */
const INNER_LOOP: ReadonlySet<CallbackEvent> = new Set(['beforeBatch', 'afterBatch', 'afterCancelBatch']);

type Hook = () => void | Promise<void>;

export abstract class Callback {
  /** Lower runs first. fastai's values: Recorder 50, ParamScheduler 60, trackers 61–63, progress 70. */
  order = 0;
  /** Whether batch hooks run on training batches. */
  runTrain = true;
  /** Whether batch hooks run on validation batches (fastai's run_valid). */
  runValid = true;
  /** Set by the learner while the callback is attached. */
  learn!: Learner;

  beforeFit?(): void | Promise<void>;
  beforeEpoch?(): void | Promise<void>;
  beforeTrain?(): void | Promise<void>;
  beforeBatch?(): void | Promise<void>;
  afterBatch?(): void | Promise<void>;
  afterCancelBatch?(): void | Promise<void>;
  afterCancelTrain?(): void | Promise<void>;
  afterTrain?(): void | Promise<void>;
  beforeValidate?(): void | Promise<void>;
  afterCancelValidate?(): void | Promise<void>;
  afterValidate?(): void | Promise<void>;
  afterCancelEpoch?(): void | Promise<void>;
  afterEpoch?(): void | Promise<void>;
  afterCancelFit?(): void | Promise<void>;
  afterFit?(): void | Promise<void>;

  /** The name used in messages (class name by default). */
  get name(): string {
    return this.constructor.name;
  }
}

/** Whether `cb`'s hook for `event` should run in the current phase. */
export function shouldRun(cb: Callback, event: CallbackEvent, training: boolean): boolean {
  if (!INNER_LOOP.has(event)) return true;
  return training ? cb.runTrain : cb.runValid;
}

/** Runs `event` on each callback in order, awaiting async hooks one at a time. */
export async function runEvent(cbs: readonly Callback[], event: CallbackEvent, training: boolean): Promise<void> {
  for (const cb of cbs) {
    const hook = cb[event] as Hook | undefined;
    if (hook && shouldRun(cb, event, training)) await hook.call(cb);
  }
}

/** Stable sort by `order` (ties keep insertion order, like fastai's sort_by_run). */
export function sortCallbacks(cbs: readonly Callback[]): Callback[] {
  return cbs.map((cb, i) => [cb, i] as const).sort((a, b) => a[0].order - b[0].order || a[1] - b[1]).map(([cb]) => cb);
}

/** Base of the cancel signals: control flow, not failures. */
export class CancelException extends Error {
  constructor(message?: string) {
    super(message ?? 'cancelled');
    this.name = new.target.name;
  }
}
/** Ends fit() early (afterCancelFit, then afterFit still run). */
export class CancelFitException extends CancelException {}
/** Ends the current epoch (its afterEpoch still runs). */
export class CancelEpochException extends CancelException {}
/** Skips the rest of the epoch's training pass. */
export class CancelTrainException extends CancelException {}
/** Skips validation for this epoch. */
export class CancelValidException extends CancelException {}
/** Skips the rest of the current batch. */
export class CancelBatchException extends CancelException {}
