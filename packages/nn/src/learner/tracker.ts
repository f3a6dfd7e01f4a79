/**
 * fastai's tracker callbacks: watch one column of the epoch table (valid_loss by
 * default) and react when it improves — SaveModelCallback keeps the best model on
 * disk (atomic writes) and reloads it at the end, EarlyStoppingCallback ends the fit
 * after `patience` epochs without improvement. Both stand aside during lrFind().
 */
import { TesseraError } from '@tessera/tensor';
import { Callback, CancelFitException } from './callback.js';

/** 'lower' is better (losses, error rates) or 'higher' (accuracy); or a comparison. */
export type Comparison = 'lower' | 'higher' | ((value: number, best: number) => boolean);

export interface TrackerOptions {
  /** Column to watch (default 'valid_loss'). */
  monitor?: string;
  /** Default: lower is better when the name contains 'loss' or 'error', higher otherwise. */
  comp?: Comparison;
  /** Improvement needed to count (fastai's min_delta). */
  minDelta?: number;
  /** Forget the best value at the start of each fit (default true). */
  resetOnFit?: boolean;
}

export class TrackerCallback extends Callback {
  override order = 60;
  readonly monitor: string;
  readonly lowerIsBetter: boolean;
  private readonly compare: (a: number, b: number) => boolean;
  private readonly minDelta: number;
  private readonly resetOnFit: boolean;
  best: number | null = null;
  newBest = false;
  /** False during lrFind (fastai's run flag). */
  protected active = true;
  private idx = -1;

  constructor(opts: TrackerOptions = {}) {
    super();
    this.monitor = opts.monitor ?? 'valid_loss';
    const comp = opts.comp ?? (/loss|error/.test(this.monitor) ? 'lower' : 'higher');
    this.lowerIsBetter = comp === 'lower';
    this.compare = comp === 'lower' ? (a, b) => a < b : comp === 'higher' ? (a, b) => a > b : comp;
    // fastai flips min_delta's sign for np.less so that `comp(val - min_delta, best)` demands a real improvement.
    this.minDelta = comp === 'lower' ? -(opts.minDelta ?? 0) : (opts.minDelta ?? 0);
    this.resetOnFit = opts.resetOnFit ?? true;
  }

  override beforeFit(): void {
    this.active = !this.learn.lrFinding;
    if (this.resetOnFit || this.best === null) this.best = this.lowerIsBetter ? Infinity : -Infinity;
    const names = this.learn.recorder.metricNames.slice(1);
    this.idx = names.indexOf(this.monitor);
    if (this.idx < 0) {
      throw new TesseraError(`${this.name}: cannot monitor '${this.monitor}'; the epoch table has ${names.filter((n) => n !== 'time').join(', ')}`);
    }
  }

  override afterEpoch(): void | Promise<void> {
    if (!this.active) return;
    const val = this.learn.recorder.values[this.learn.recorder.values.length - 1]?.[this.idx];
    this.newBest = typeof val === 'number' && this.compare(val - this.minDelta, this.best!);
    if (this.newBest) this.best = val!;
  }

  override afterFit(): void | Promise<void> {
    this.active = true;
  }
}

export interface SaveModelOptions extends TrackerOptions {
  /** File name under learn.path/learn.modelDir (default 'model'). */
  fname?: string;
  /** Save every epoch (true) or every n-th epoch as fname_<epoch>, instead of the best. */
  everyEpoch?: boolean | number;
  /** Save at the end of the fit instead of reloading the best. */
  atEnd?: boolean;
  /** Include the optimizer state (default false, like fastai). */
  withOpt?: boolean;
}

export class SaveModelCallback extends TrackerCallback {
  override order = 61;
  readonly fname: string;
  readonly everyEpoch: number;
  readonly atEnd: boolean;
  readonly withOpt: boolean;
  /** The last file written (a diverging run leaves it as it was). */
  lastSavedPath: string | null = null;

  constructor(opts: SaveModelOptions = {}) {
    super(opts);
    this.fname = opts.fname ?? 'model';
    this.everyEpoch = opts.everyEpoch === true ? 1 : opts.everyEpoch || 0;
    this.atEnd = opts.atEnd ?? false;
    this.withOpt = opts.withOpt ?? false;
  }

  private async save(name: string): Promise<void> {
    this.lastSavedPath = await this.learn.save(name, { withOpt: this.withOpt });
  }

  override async afterEpoch(): Promise<void> {
    if (!this.active) return;
    if (this.everyEpoch) {
      if (this.learn.epoch % this.everyEpoch === 0) await this.save(`${this.fname}_${this.learn.epoch}`);
      return;
    }
    super.afterEpoch();
    if (this.newBest) {
      this.learn.print(`Better model found at epoch ${this.learn.epoch} with ${this.monitor} value: ${this.best}.`);
      await this.save(this.fname);
    }
  }

  override async afterFit(): Promise<void> {
    const wasActive = this.active;
    super.afterFit();
    if (!wasActive) return;
    if (this.atEnd) await this.save(this.fname);
    else if (!this.everyEpoch && this.lastSavedPath) await this.learn.load(this.fname, { withOpt: this.withOpt });
  }
}

export interface EarlyStoppingOptions extends TrackerOptions {
  /** Epochs without improvement before stopping (default 1). */
  patience?: number;
}

export class EarlyStoppingCallback extends TrackerCallback {
  override order = 63;
  readonly patience: number;
  wait = 0;

  constructor(opts: EarlyStoppingOptions = {}) {
    super(opts);
    this.patience = opts.patience ?? 1;
  }

  override beforeFit(): void {
    this.wait = 0;
    super.beforeFit();
  }

  override afterEpoch(): void {
    if (!this.active) return;
    super.afterEpoch();
    if (this.newBest) {
      this.wait = 0;
      return;
    }
    this.wait++;
    if (this.wait >= this.patience) {
      this.learn.print(`No improvement since epoch ${this.learn.epoch - this.wait}: early stopping`);
      throw new CancelFitException();
    }
  }
}
