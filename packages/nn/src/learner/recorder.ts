/**
 * The Recorder (fastai's): per training batch it records the learning rate, the
 * momentum and the smoothed loss; per validation batch it accumulates the validation
 * loss and the metrics on the GPU; per epoch it produces the row of the epoch table
 * (train_loss, valid_loss, metrics, time) and hands it to `learn.logger`.
 */
import { type Tensor, noGrad, tidy } from '@tessera/tensor';
import { Callback } from './callback.js';
import { type Metric, readScalars } from './metrics.js';

/**
 * fastai's AvgSmoothLoss: an exponential moving average of the batch losses,
 * debiased (divided by 1 - beta^count) so the first values are not pulled to zero.
 */
export class AvgSmoothLoss {
  count = 0;
  val = 0;
  constructor(readonly beta = 0.98) {}

  reset(): void {
    this.count = 0;
    this.val = 0;
  }

  /** torch.lerp(loss, val, beta) = beta·val + (1-beta)·loss. */
  accumulate(loss: number): void {
    this.count++;
    this.val = loss + this.beta * (this.val - loss);
  }

  get value(): number {
    return this.count === 0 ? NaN : this.val / (1 - this.beta ** this.count);
  }
}

/** fastai's format_time: (h:)mm:ss of whole seconds. */
export function formatTime(seconds: number): string {
  const t = Math.floor(seconds);
  const h = Math.floor(t / 3600);
  const m = Math.floor(t / 60) % 60;
  const s = t % 60;
  const two = (n: number) => String(n).padStart(2, '0');
  return h !== 0 ? `${h}:${two(m)}:${two(s)}` : `${two(m)}:${two(s)}`;
}

/** One row of the epoch table. `values` follow `names` (train_loss, valid_loss, metrics…). */
export interface EpochRow {
  epoch: number;
  values: (number | null)[];
  /** Wall time of the epoch, formatted like fastai (mm:ss). */
  time: string;
  seconds: number;
}

/** Receives each finished epoch's row (ProgressCallback prints it). */
export type EpochLogger = (row: EpochRow) => void;

/** Everything the recorder keeps across a fit; checkpoints save and restore it. */
export interface RecorderState {
  smoothCount: number;
  smoothVal: number;
  lrs: number[];
  moms: number[];
  losses: number[];
  iters: number[];
  values: (number | null)[][];
  hps: { lr: number[][]; mom: number[][] };
}

export class Recorder extends Callback {
  override order = 50;
  readonly smoothLoss: AvgSmoothLoss;
  /** Learning rate of the last parameter group, per training batch (fastai's recorder.lrs). */
  lrs: number[] = [];
  /** Momentum of the last group, per training batch. */
  moms: number[] = [];
  /** Smoothed training loss, per training batch. */
  losses: number[] = [];
  /** Number of training batches seen at the end of each epoch. */
  iters: number[] = [];
  /** [train_loss, valid_loss, ...metrics] per epoch (fastai's recorder.values). */
  values: (number | null)[][] = [];
  /** Hyper-parameters of every group, per training batch (fastai's recorder.hps). */
  hps: { lr: number[][]; mom: number[][] } = { lr: [], mom: [] };
  /** [valid_loss, ...metrics] of the last validation pass. */
  lastValid: number[] = [];
  /** Wall time of each epoch, in seconds. */
  epochSeconds: number[] = [];
  private validTotal: Tensor | null = null;
  private validCount = 0;
  private log: (number | null)[] = [];
  private startedAt = 0;
  private cancelTrain = false;
  private cancelValid = false;

  constructor(beta = 0.98) {
    super();
    this.smoothLoss = new AvgSmoothLoss(beta);
  }

  private get metrics(): Metric[] {
    return this.learn.metrics;
  }

  /** The epoch table's column names: epoch, train_loss, valid_loss, metrics…, time. */
  get metricNames(): string[] {
    return ['epoch', 'train_loss', 'valid_loss', ...this.metrics.map((m) => m.name), 'time'];
  }

  override beforeFit(): void {
    this.lrs = [];
    this.moms = [];
    this.losses = [];
    this.iters = [];
    this.values = [];
    this.epochSeconds = [];
    this.hps = { lr: [], mom: [] };
    this.smoothLoss.reset();
  }

  override beforeEpoch(): void {
    this.startedAt = performance.now();
    this.log = [];
  }

  override beforeTrain(): void {
    this.cancelTrain = false;
  }

  override afterBatch(): void {
    if (this.learn.training) {
      this.smoothLoss.accumulate(this.learn.loss);
      const groups = this.learn.opt!.groups;
      const last = groups[groups.length - 1]!.hyper;
      this.lrs.push(last.lr);
      this.moms.push(last.mom);
      this.losses.push(this.smoothLoss.value);
      this.hps.lr.push(groups.map((g) => g.hyper.lr));
      this.hps.mom.push(groups.map((g) => g.hyper.mom));
      this.learn.smoothLoss = this.smoothLoss.value;
      return;
    }
    const { pred, lossTensor, batch } = this.learn;
    if (!pred || !lossTensor || !batch) return;
    const bs = batch.size;
    const prev = this.validTotal;
    this.validTotal = noGrad(() => tidy(() => (prev ? prev.add(lossTensor.mul(bs)) : lossTensor.mul(bs)))).keep();
    prev?.dispose();
    this.validCount += bs;
    for (const m of this.metrics) m.accumulate(pred, batch.y, bs);
  }

  override afterCancelTrain(): void {
    this.cancelTrain = true;
  }

  override afterCancelValidate(): void {
    this.cancelValid = true;
  }

  override afterTrain(): void {
    this.log.push(this.cancelTrain ? null : this.smoothLoss.value);
  }

  override beforeValidate(): void {
    // Reset here rather than per epoch: learn.validate() runs a pass outside any epoch.
    this.cancelValid = false;
    this.lastValid = [];
    this.resetValid();
  }

  override async afterValidate(): Promise<void> {
    if (this.cancelValid) {
      this.resetValid();
      return;
    }
    // One readback for the validation loss and every metric's pending values.
    const parts = this.metrics.map((m) => m.pending());
    const tensors = [...(this.validTotal ? [this.validTotal] : []), ...parts.flat()];
    const read = await readScalars(tensors);
    let at = this.validTotal ? 1 : 0;
    const validLoss = this.validTotal && this.validCount > 0 ? read[0]! / this.validCount : NaN;
    const mets = parts.map((p, i) => {
      const v = this.metrics[i]!.finish(read.slice(at, at + p.length));
      at += p.length;
      return v;
    });
    this.lastValid = [validLoss, ...mets];
    this.log.push(validLoss, ...mets);
    this.resetValid();
  }

  override afterEpoch(): void {
    // A cancelled train or validation pass leaves its columns empty rather than shifting the others.
    const width = 2 + this.metrics.length;
    const record = [...this.log];
    while (record.length < width) record.push(null);
    this.values.push(record);
    this.learn.finalRecord = record;
    const seconds = (performance.now() - this.startedAt) / 1000;
    this.epochSeconds.push(seconds);
    this.learn.logger?.({ epoch: this.learn.epoch, values: record, time: formatTime(seconds), seconds });
    this.iters.push(this.smoothLoss.count);
  }

  override afterFit(): void {
    this.resetValid();
  }

  private resetValid(): void {
    this.validTotal?.dispose();
    this.validTotal = null;
    this.validCount = 0;
    for (const m of this.metrics) m.reset();
  }

  /** A copy of the state a resumed run needs to continue the same curves. */
  state(): RecorderState {
    return {
      smoothCount: this.smoothLoss.count,
      smoothVal: this.smoothLoss.val,
      lrs: [...this.lrs],
      moms: [...this.moms],
      losses: [...this.losses],
      iters: [...this.iters],
      values: this.values.map((v) => [...v]),
      hps: { lr: this.hps.lr.map((v) => [...v]), mom: this.hps.mom.map((v) => [...v]) },
    };
  }

  loadState(s: RecorderState): void {
    this.smoothLoss.count = s.smoothCount;
    this.smoothLoss.val = s.smoothVal;
    this.lrs = [...s.lrs];
    this.moms = [...s.moms];
    this.losses = [...s.losses];
    this.iters = [...s.iters];
    this.values = s.values.map((v) => [...v]);
    this.hps = { lr: s.hps.lr.map((v) => [...v]), mom: s.hps.mom.map((v) => [...v]) };
  }
}
