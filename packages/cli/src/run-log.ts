/**
 * Keeps every epoch row and every iteration's smoothed loss across the fits of a
 * run (fine-tuning is two fits, and the Recorder starts afresh at each), and writes
 * metrics.json / metrics.csv after every epoch — before the checkpoint, so that a
 * resumed run (which trims the rows to the checkpoint's epoch) never loses one.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Callback, type EpochTiming } from '@tessera/nn';
import { readCheckpoint } from '@tessera/nn/node';
import { writeMetrics } from './report.js';
import { explodedLossWarning } from './loss-check.js';
import type { StartupReport } from './startup.js';

export interface EpochRecord {
  epoch: number;
  stage: string;
  train_loss: number | null;
  valid_loss: number | null;
  error_rate: number | null;
  seconds: number;
  /** Set when the epoch's loss exploded (see loss-check.ts). */
  warning?: string;
  /** Files skipped by the end of this epoch (unusable, or failing to decode); absent when none. */
  skipped_files?: number;
  /** Where the epoch's time went (the Learner's EpochTimer); filled in once the epoch's checkpoint is written. */
  timing?: EpochTiming;
  /** The run's start-up (on the first epoch this process trained). */
  startup?: StartupReport;
}

const r3 = (s: number) => Math.round(s * 1000) / 1000;

/** One epoch's time as a line: steps against the wall time, then what else it spent. */
export function timingLine(epoch: number, t: EpochTiming): string {
  // Against steps × median (what the epoch would cost at a steady step time) and against the
  // steps' own sum (what is left beyond them: validation, waits, logs, the checkpoint).
  const ideal = t.steps * t.step_median_s;
  const ratio = ideal > 0 ? ` = ${(t.seconds / ideal).toFixed(2)}× steps × median step, ${(t.seconds / t.step_s).toFixed(2)}× the steps' sum` : '';
  return (
    `epoch ${epoch}: ${t.seconds.toFixed(1)} s${ratio}; ${t.steps} steps ${t.step_s.toFixed(1)} s (median ${t.step_median_s.toFixed(3)} s, first ${t.first_step_s.toFixed(2)} s), ` +
    `waiting for data ${t.data_wait_s.toFixed(1)} s (${t.valid_data_wait_s.toFixed(1)} s of it in validation), validation ${t.valid_s.toFixed(1)} s, metrics and logs ${(t.after_s - t.checkpoint_s).toFixed(2)} s, checkpoint ${t.checkpoint_s.toFixed(2)} s`
  );
}

export class RunLog extends Callback {
  // After the recorder (50) and the progress table (60), before the checkpoint (65).
  override order = 64;
  epochs: EpochRecord[] = [];
  /** Smoothed training loss per iteration (this process's part of the run), and valid loss per epoch end. */
  readonly trainLoss: number[] = [];
  readonly validAt: { iter: number; loss: number }[] = [];
  /** Warnings raised during this run (exploded losses), already printed once. */
  readonly warnings: string[] = [];
  /** How many files the run has skipped so far (set by the train command). */
  skippedFiles: () => number = () => 0;
  /** The run's start-up report, given the first step's end (set by the train command). */
  startup: ((firstStepAtMs: number | null) => StartupReport) | null = null;
  /** Rows of this process waiting for their timing: the EpochTimer closes an epoch after its checkpoint, after this callback. */
  private untimed: { row: EpochRecord; at: number }[] = [];

  /**
   * `frozenEpochs`: how many leading epochs are fine-tuning's frozen stage (0 when training from
   * scratch). `numClasses`: for the exploded-loss check (0: no check). `earlier`: the rows of the finished run this one continues (train --from), kept
   * first.
   */
  constructor(
    private readonly dir: string,
    private readonly frozenEpochs: number,
    /** Class count, for the exploded-loss check (0: no check). */
    private readonly numClasses = 0,
    earlier: readonly EpochRecord[] = [],
  ) {
    super();
    this.epochs = [...earlier];
  }

  /** Continues the rows of an interrupted run, up to the epoch its checkpoint holds. */
  async resumeFrom(dir: string): Promise<void> {
    const { run } = await readCheckpoint(dir);
    const done = (run.phase === 'fineTune:unfrozen' ? this.frozenEpochs : 0) + run.epoch;
    const text = await readFile(join(dir, 'metrics.json'), 'utf8').catch(() => '[]');
    let rows: EpochRecord[];
    try {
      rows = JSON.parse(text) as EpochRecord[];
      if (!Array.isArray(rows)) throw new Error('not a list of epochs');
    } catch (err) {
      // The checkpoint is what matters; the table of earlier epochs is a record, rebuilt from here on.
      console.log(`note: ${join(dir, 'metrics.json')} is unreadable (${(err as Error).message}); resuming from the checkpoint, earlier epochs' rows are not kept`);
      rows = [];
      this.epochs = [];
      await writeMetrics(this.dir, this.epochs); // replaced now, not at the next epoch's end (there may be none)
      return;
    }
    this.epochs = rows.slice(0, done).map((r) => ({ ...r, stage: this.stageOf(r.epoch) }));
  }

  private stageOf(epoch: number): string {
    if (this.frozenEpochs === 0) return 'train';
    return epoch < this.frozenEpochs ? 'frozen' : 'unfrozen';
  }

  override afterBatch(): void {
    const r = this.learn.recorder;
    if (this.learn.training && r.losses.length) this.trainLoss.push(r.losses[r.losses.length - 1]!);
  }

  override async afterEpoch(): Promise<void> {
    if (this.learn.lrFinding) return;
    const r = this.learn.recorder;
    const row = r.values[r.values.length - 1] ?? [];
    const names = r.metricNames.slice(1, -1);
    const get = (n: string) => {
      const i = names.indexOf(n);
      const v = i >= 0 ? row[i] : null;
      return v === undefined ? null : v;
    };
    const epoch = this.epochs.length;
    const rec: EpochRecord = {
      epoch,
      stage: this.stageOf(epoch),
      train_loss: get('train_loss'),
      valid_loss: get('valid_loss'),
      error_rate: get('error_rate'),
      seconds: r.epochSeconds[r.epochSeconds.length - 1] ?? 0,
    };
    const warning = this.numClasses ? explodedLossWarning(rec.train_loss, rec.valid_loss, this.numClasses) : null;
    if (warning) {
      rec.warning = warning;
      if (!this.warnings.length) console.error(`warning: epoch ${epoch}: ${warning}`);
      this.warnings.push(warning);
    }
    const skipped = this.skippedFiles();
    if (skipped) rec.skipped_files = skipped;
    if (this.startup) {
      rec.startup = this.startup(this.learn.timer.firstStepAt);
      this.startup = null;
    }
    this.attachTimings();
    this.untimed.push({ row: rec, at: this.learn.timer.epochs.length });
    this.epochs.push(rec);
    if (rec.valid_loss !== null) this.validAt.push({ iter: this.trainLoss.length, loss: rec.valid_loss });
    await writeMetrics(this.dir, this.epochs);
  }

  override async afterFit(): Promise<void> {
    if (this.untimed.length && this.attachTimings()) await writeMetrics(this.dir, this.epochs);
  }

  /** Gives each row whose epoch the timer has closed its timing; true when any got one. */
  private attachTimings(): boolean {
    const timed = this.untimed.filter((u) => this.learn.timer.epochs[u.at] !== undefined);
    for (const u of timed) {
      const t = this.learn.timer.epochs[u.at]!;
      u.row.timing = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, r3(v)])) as unknown as EpochTiming;
    }
    this.untimed = this.untimed.filter((u) => !timed.includes(u));
    return timed.length > 0;
  }

  /** The timing line of each epoch this process trained. */
  timingLines(): string[] {
    return this.epochs.filter((e) => e.timing).map((e) => timingLine(e.epoch, e.timing!));
  }
}
