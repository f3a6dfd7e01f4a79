/**
 * Keeps every epoch row and every iteration's smoothed loss across the fits of a
 * run (fine-tuning is two fits, and the Recorder starts afresh at each), for
 * metrics.json / metrics.csv / losses.png.
 */
import { Callback } from '@tessera/nn';

export interface EpochRecord {
  epoch: number;
  stage: string;
  train_loss: number | null;
  valid_loss: number | null;
  error_rate: number | null;
  seconds: number;
}

export class RunLog extends Callback {
  override order = 80;
  readonly epochs: EpochRecord[] = [];
  /** Smoothed training loss per iteration, and the iteration count at each epoch end. */
  readonly trainLoss: number[] = [];
  readonly validAt: { iter: number; loss: number }[] = [];
  /** Names of the successive fits of the run (fine-tuning: frozen, then unfrozen). */
  stages = ['train'];
  private fit = -1;
  private stageEpoch = 0;

  override beforeFit(): void {
    this.fit++;
    this.stageEpoch = 0;
  }

  override afterBatch(): void {
    const r = this.learn.recorder;
    if (this.learn.training && r.losses.length) this.trainLoss.push(r.losses[r.losses.length - 1]!);
  }

  override afterEpoch(): void {
    const r = this.learn.recorder;
    const row = r.values[r.values.length - 1] ?? [];
    const names = r.metricNames.slice(1, -1);
    const get = (n: string) => {
      const i = names.indexOf(n);
      const v = i >= 0 ? row[i] : null;
      return v === undefined ? null : v;
    };
    const rec: EpochRecord = {
      epoch: this.epochs.length,
      stage: `${this.stages[Math.min(this.fit, this.stages.length - 1)]} ${this.stageEpoch++}`,
      train_loss: get('train_loss'),
      valid_loss: get('valid_loss'),
      error_rate: get('error_rate'),
      seconds: r.epochSeconds[r.epochSeconds.length - 1] ?? 0,
    };
    this.epochs.push(rec);
    if (rec.valid_loss !== null) this.validAt.push({ iter: this.trainLoss.length, loss: rec.valid_loss });
  }
}
