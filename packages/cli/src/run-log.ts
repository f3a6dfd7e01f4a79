/**
 * Keeps every epoch row and every iteration's smoothed loss across the fits of a
 * run (fine-tuning is two fits, and the Recorder starts afresh at each), and writes
 * metrics.json / metrics.csv after every epoch — before the checkpoint, so that a
 * resumed run (which trims the rows to the checkpoint's epoch) never loses one.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Callback } from '@tessera/nn';
import { readCheckpoint } from '@tessera/nn/node';
import { writeMetrics } from './report.js';
import { explodedLossWarning } from './loss-check.js';

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
    this.epochs.push(rec);
    if (rec.valid_loss !== null) this.validAt.push({ iter: this.trainLoss.length, loss: rec.valid_loss });
    await writeMetrics(this.dir, this.epochs);
  }
}
