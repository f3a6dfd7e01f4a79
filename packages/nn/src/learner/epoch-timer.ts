/**
 * Where an epoch's wall time goes: the training steps, waiting for the loader's next batch,
 * validation (its batches and the one readback of loss and metrics), and what runs after it
 * (the epoch row, metrics files, progress, the checkpoint). Two callbacks share the clock:
 * EpochTimer runs after the recorder (so validation includes its readback) and its `end`
 * runs after every other callback (so the epoch's total includes the checkpoint).
 * The Learner attaches both (`learn.timer`).
 */
import { Callback } from './callback.js';

export interface EpochTiming {
  /** Wall time from the epoch's start to the end of its last callback. */
  seconds: number;
  /** Training steps (forward, backward, optimizer, the loss read back; the next batch is prepared during the readback). */
  steps: number;
  step_s: number;
  /** Median of the epoch's steps: the "step time" an epoch is compared with. */
  step_median_s: number;
  /** The epoch's first step (it compiles whatever kernel is not compiled yet). */
  first_step_s: number;
  /** Waiting for the next batch, in training and validation. */
  data_wait_s: number;
  /** Of data_wait_s, the waits for validation batches. */
  valid_data_wait_s: number;
  /** Validation batches and the readback of the validation loss and metrics. */
  valid_s: number;
  /** After validation: the epoch row, metrics files and progress, then the checkpoint. */
  after_s: number;
  /** Of after_s, the checkpoint write (0 without checkpoints). */
  checkpoint_s: number;
}

const now = () => performance.now() / 1000;

function median(xs: readonly number[]): number {
  if (!xs.length) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Callbacks that report how long their afterEpoch work took (the checkpoint). */
export interface TimedWrite {
  /** Seconds of the last write and when it ended (performance.now()/1000). */
  lastWrite: { seconds: number; at: number } | null;
}

export class EpochTimer extends Callback {
  override order = 51;
  /** One entry per finished epoch (this learner's life: every fit appends). */
  readonly epochs: EpochTiming[] = [];
  /** When the first training step of this learner ended (performance.now() ms), null before. */
  firstStepAt: number | null = null;
  /** Runs after every other callback and closes the epoch. */
  readonly end: Callback;
  private start = 0;
  private mark = 0;
  private batchStart = 0;
  private validStart = 0;
  private validEnd = 0;
  private validWait = 0;
  private cur: EpochTiming = EpochTimer.empty();
  private stepTimes: number[] = [];
  private open = false;

  constructor() {
    super();
    const timer = this;
    this.end = new (class extends Callback {
      override order = 1000;
      override afterEpoch(): void {
        timer.close();
      }
    })();
  }

  private static empty(): EpochTiming {
    return { seconds: 0, steps: 0, step_s: 0, step_median_s: 0, first_step_s: 0, data_wait_s: 0, valid_data_wait_s: 0, valid_s: 0, after_s: 0, checkpoint_s: 0 };
  }

  override beforeEpoch(): void {
    if (this.learn.lrFinding) return;
    this.start = this.mark = this.validEnd = now();
    this.cur = EpochTimer.empty();
    this.stepTimes = [];
    this.open = true;
  }

  override beforeTrain(): void {
    this.mark = now();
  }

  override beforeBatch(): void {
    const t = now();
    this.cur.data_wait_s += t - this.mark;
    if (!this.learn.training) this.validWait += t - this.mark;
    this.batchStart = t;
  }

  override afterBatch(): void {
    const t = now();
    if (this.learn.training) {
      this.stepTimes.push(t - this.batchStart);
      this.firstStepAt ??= t * 1000;
    }
    this.mark = t;
  }

  override afterTrain(): void {
    // The iterator's end (its last await) is waiting for data too.
    this.cur.data_wait_s += now() - this.mark;
  }

  override beforeValidate(): void {
    this.validStart = this.mark = now();
    this.validWait = 0;
  }

  override afterValidate(): void {
    this.validEnd = now();
    // Its waits for batches are counted once, as data waits.
    this.cur.valid_s += this.validEnd - this.validStart - this.validWait;
    this.cur.valid_data_wait_s += this.validWait;
  }

  /** Closes the epoch after its last callback (the checkpoint included). */
  private close(): void {
    if (!this.open) return;
    this.open = false;
    const t = now();
    const c = this.cur;
    c.seconds = t - this.start;
    c.steps = this.stepTimes.length;
    c.step_s = this.stepTimes.reduce((a, b) => a + b, 0);
    c.step_median_s = median(this.stepTimes);
    c.first_step_s = this.stepTimes[0] ?? 0;
    c.after_s = t - this.validEnd;
    for (const cb of this.learn.cbs) {
      const w = (cb as Partial<TimedWrite>).lastWrite;
      if (w && w.at >= this.validEnd) c.checkpoint_s += w.seconds;
    }
    this.epochs.push(c);
  }
}
