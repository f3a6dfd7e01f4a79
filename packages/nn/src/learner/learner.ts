/**
 * The Learner: fastai's training loop around a model, data, a loss and an optimizer.
 * The loop itself is small — per training batch, forward → loss → backward →
 * optimizer step → zeroGrad inside one tidy() scope, then one readback of the loss —
 * and everything else (counters, recording, schedules, progress, checkpoints) is a
 * callback firing at fastai's events, in fastai's order.
 */
import { type Tensor, TesseraError, checkLabelErrors, manualSeed, noGrad, tidy } from '@tessera/tensor';
import type { Module } from '../module.js';
import type { Optimizer } from '../optim/optimizer.js';
import {
  type Callback, CancelBatchException, CancelEpochException, CancelFitException, CancelTrainException,
  CancelValidException, type CallbackEvent, runEvent, sortCallbacks,
} from './callback.js';
import { CheckpointCallback, type RunState, encodeStateFile, readCheckpointFrom, readStateFrom } from './checkpoint.js';
import { type Batch, type BatchSource, type DataLoaders, disposeBatch } from './data.js';
import { CheckpointError, TrainingDivergedError } from './errors.js';
import { type LrFindOptions, type LrFindResult, lrFind } from './lr-find.js';
import { crossEntropyLoss } from './loss.js';
import { type LrSpec, lrRange, lrSlice } from './lr-range.js';
import { type Metric, toMetric } from './metrics.js';
import {
  type FineTuneOptions, type FitOneCycleOptions, type FitOptions, type LearnerOptions, type LossFunc, type OptFunc,
  type Splitter, defaultOptFunc, defaultSplitter,
} from './options.js';
import { ParamScheduler, oneCycleSchedules } from './param-scheduler.js';
import { ProgressCallback } from './progress.js';
import { type EpochLogger, Recorder } from './recorder.js';
import { EpochTimer } from './epoch-timer.js';
import { type TrainingState, captureState, clearOptimizerState, restoreState, setTrainableFlags } from './state.js';
import { MemoryStore, type StateStore, joinPath } from './store.js';
import { TrainEvalCallback } from './train-eval.js';

type Stage = 'Fit' | 'Epoch' | 'Train' | 'Validate' | 'Batch';

export class Learner {
  readonly lossFunc: LossFunc;
  readonly optFunc: OptFunc;
  readonly splitter: Splitter;
  readonly metrics: Metric[];
  lr: number;
  wd: number | undefined;
  moms: readonly [number, number, number];
  trainBn: boolean;
  path: string;
  modelDir: string;
  /** Where save(), load() and checkpoints keep their files (options.store; memory by default). */
  store: StateStore;
  opt: Optimizer | null = null;
  readonly recorder: Recorder;
  /** Where each epoch's time went (steps, data waits, validation, checkpoint), and when the first step ended. */
  readonly timer = new EpochTimer();
  /** Receives each epoch's row; the progress callback installs its table writer here. */
  logger: EpochLogger | null = null;
  /** Whether a non-finite training loss throws TrainingDivergedError (the LR finder turns it off). */
  stopOnNonFinite = true;
  /** True while lrFind() runs: trackers and checkpoints stand aside. */
  lrFinding = false;

  // Loop state that callbacks read, with fastai's names.
  epoch = 0;
  nEpoch = 1;
  /** Batch index within the current pass. */
  iter = 0;
  /** Batches per pass of the current source. */
  nIter = 0;
  /** Training batches done in this fit. */
  trainIter = 0;
  /** Position in [0, 1] of the fit's training (what schedules read). */
  pctTrain = 0;
  training = false;
  /** The last training batch's loss (read back once per batch). */
  loss = NaN;
  smoothLoss = NaN;
  /** During a validation batch: the model's output and the batch's mean loss. */
  pred: Tensor | null = null;
  lossTensor: Tensor | null = null;
  batch: Batch | null = null;
  /** The source being iterated. */
  dl: BatchSource | null = null;
  /** [train_loss, valid_loss, ...metrics] of the last epoch. */
  finalRecord: (number | null)[] = [];
  private cbList: Callback[] = [];

  constructor(
    readonly dls: DataLoaders,
    readonly model: Module,
    opts: LearnerOptions = {},
  ) {
    this.lossFunc = opts.lossFunc ?? crossEntropyLoss;
    this.optFunc = opts.optFunc ?? defaultOptFunc;
    this.splitter = opts.splitter ?? defaultSplitter;
    this.metrics = (opts.metrics ?? []).map(toMetric);
    this.lr = opts.lr ?? 1e-3;
    this.wd = opts.wd;
    this.moms = opts.moms ?? [0.95, 0.85, 0.95];
    this.trainBn = opts.trainBn ?? true;
    this.path = opts.path ?? '.';
    this.modelDir = opts.modelDir ?? 'models';
    this.store = opts.store ?? new MemoryStore();
    this.recorder = new Recorder();
    const defaults: Callback[] = [new TrainEvalCallback(), this.recorder, this.timer, this.timer.end];
    if (opts.progress !== false) defaults.push(new ProgressCallback(opts.progress === true ? {} : opts.progress));
    this.addCbs([...defaults, ...(opts.cbs ?? [])]);
  }

  /** Attached callbacks, in run order. */
  get cbs(): readonly Callback[] {
    return this.cbList;
  }

  addCbs(cbs: readonly Callback[]): this {
    for (const cb of cbs) cb.learn = this;
    this.cbList = sortCallbacks([...this.cbList, ...cbs]);
    return this;
  }

  removeCbs(cbs: readonly Callback[]): this {
    this.cbList = this.cbList.filter((cb) => !cbs.includes(cb));
    return this;
  }

  /** The first attached callback of a class (e.g. learn.cb(ProgressCallback)). */
  cb<T extends Callback>(cls: abstract new (...args: never[]) => T): T | undefined {
    return this.cbList.find((c): c is T => c instanceof cls);
  }

  /** Builds the optimizer over the splitter's groups (fastai's create_opt). */
  createOpt(): Optimizer {
    this.opt?.dispose();
    this.opt = this.optFunc(this.splitter(this.model), { lr: this.lr });
    return this.opt;
  }

  /** Parameter groups as the optimizer holds them. */
  get paramGroups(): Tensor[][] {
    return (this.opt ?? this.createOpt()).groups.map((g) => g.params);
  }

  /**
   * Trains groups n… and freezes the ones before (negative n counts from the end);
   * BatchNorm parameters stay trainable when trainBn. Clears the optimizer state, as
   * fastai's freeze_to does, so the next fit starts its moments afresh.
   */
  freezeTo(n: number): void {
    const groups = this.paramGroups;
    const idx = n >= 0 ? n : groups.length + n;
    const bn = new Set<Tensor>();
    if (this.trainBn) {
      for (const [, m] of this.model.namedModules()) if ((m as { isBatchNorm?: boolean }).isBatchNorm) m.parameters().forEach((p) => bn.add(p));
    }
    groups.forEach((g, i) => g.forEach((p) => (p.requiresGrad = i >= idx || bn.has(p))));
    clearOptimizerState(this.opt!);
  }

  /** Freezes every group but the last (the head). */
  freeze(): void {
    const n = this.paramGroups.length;
    if (n < 2) throw new TesseraError(`freeze: the model has ${n} parameter group; it needs a splitter that gives at least two (body and head)`);
    this.freezeTo(-1);
  }

  unfreeze(): void {
    this.freezeTo(0);
  }

  /** Trains for nEpoch epochs at a constant learning rate (number, per-group array or lrSlice). */
  async fit(nEpoch: number, lr?: LrSpec, opts: FitOptions = {}): Promise<void> {
    await this.runFit(nEpoch, lr, opts, 'fit');
  }

  /** fastai's fit_one_cycle: cosine warm-up to lrMax over pctStart, then down to lrMax/divFinal. */
  async fitOneCycle(nEpoch: number, lrMax?: LrSpec, opts: FitOneCycleOptions = {}): Promise<void> {
    await this.oneCycle(nEpoch, lrMax, opts, 'fitOneCycle');
  }

  private async oneCycle(nEpoch: number, lrMax: LrSpec | undefined, opts: FitOneCycleOptions, phase: string): Promise<void> {
    const lrs = lrRange(lrMax ?? this.lr, this.paramGroups.length);
    const sched = new ParamScheduler(oneCycleSchedules(lrs, { ...opts, moms: opts.moms ?? this.moms }));
    await this.runFit(nEpoch, lrs, { ...opts, cbs: [sched, ...(opts.cbs ?? [])] }, phase);
  }

  /**
   * fastai's fine_tune: freeze → one cycle of freezeEpochs at slice(baseLr), pctStart
   * 0.99 → baseLr /= 2 → unfreeze → one cycle of `epochs` at slice(baseLr/lrMult,
   * baseLr) with pctStart and div. Resuming skips the frozen stage when the
   * checkpoint is already past it.
   */
  async fineTune(epochs: number, baseLr = 2e-3, opts: FineTuneOptions = {}): Promise<void> {
    const { freezeEpochs = 1, lrMult = 100, pctStart = 0.3, div = 5, resume, checkpoint, ...rest } = opts;
    const resumedPhase = resume ? (await readCheckpointFrom(this.store, resume)).run.phase : undefined;
    const frozenDone = resumedPhase === 'fineTune:unfrozen';
    const ckDir = checkpoint ?? resume;
    if (!frozenDone) {
      this.freeze();
      await this.oneCycle(freezeEpochs, lrSlice(baseLr), { ...rest, pctStart: 0.99, resume, checkpoint: ckDir }, 'fineTune:frozen');
    }
    baseLr /= 2;
    this.unfreeze();
    await this.oneCycle(
      epochs,
      lrSlice(baseLr / lrMult, baseLr),
      { ...rest, pctStart, div, resume: frozenDone ? resume : undefined, checkpoint: ckDir },
      'fineTune:unfrozen',
    );
  }

  /** Runs the LR finder (see lr-find.ts); weights and optimizer state are restored afterwards. */
  lrFind(opts: LrFindOptions = {}): Promise<LrFindResult> {
    return lrFind(this, opts);
  }

  /** One validation pass over `source` (default: the validation set) → [valid_loss, ...metrics]. */
  async validate(source: BatchSource = this.dls.valid): Promise<number[]> {
    const saved = this.logger;
    this.logger = null;
    try {
      this.epoch = 0;
      await this.validatePass(source);
      return this.recorder.lastValid;
    } finally {
      this.logger = saved;
    }
  }

  /** Writes the model (and optimizer state) to path/modelDir/name.safetensors in the store, atomically. Returns the path. */
  async save(name: string, opts: { withOpt?: boolean } = {}): Promise<string> {
    const file = this.filePath(name);
    await this.store.write(file, encodeStateFile(await captureState(this.model, this.opt, opts.withOpt ?? true)));
    return file;
  }

  /** Loads what save() wrote (the optimizer state too when present and withOpt). */
  async load(name: string, opts: { withOpt?: boolean } = {}): Promise<this> {
    if (!this.opt) this.createOpt();
    const file = this.filePath(name);
    const { state } = await readStateFrom(this.store, file);
    restoreState(this.model, opts.withOpt ?? true ? this.opt : null, state, file);
    return this;
  }

  /** A message for the user (e.g. "Better model found…"), through the progress output; silent without one. */
  print(text: string): void {
    this.cb(ProgressCallback)?.print(text);
  }

  filePath(name: string): string {
    return joinPath(this.path, this.modelDir, `${name}.safetensors`);
  }

  /** Runs fn with the epoch table switched off (fastai's no_logging). */
  async noLogging<T>(fn: () => Promise<T>): Promise<T> {
    const saved = this.logger;
    const progress = this.cb(ProgressCallback);
    const wasSilent = progress?.silent ?? false;
    this.logger = null;
    if (progress) progress.silent = true;
    try {
      return await fn();
    } finally {
      this.logger = saved;
      if (progress) progress.silent = wasSilent;
    }
  }

  // ---------------------------------------------------------------- the loop

  private async runFit(nEpoch: number, lr: LrSpec | undefined, opts: FitOptions, phase: string): Promise<void> {
    if (!(Number.isInteger(nEpoch) && nEpoch >= 0)) throw new TesseraError(`fit: epochs must be a whole number >= 0, got ${nEpoch}`);
    // Read the checkpoint before anything changes, so a bad one fails cleanly.
    const resumed = opts.resume ? await readCheckpointFrom(this.store, opts.resume) : null;
    if (resumed) checkResumable(resumed.run, phase, nEpoch, opts.resume!);
    const extra = [...(opts.cbs ?? [])];
    const ckDir = opts.checkpoint ?? opts.resume;
    if (ckDir) extra.push(new CheckpointCallback(ckDir, phase));
    this.addCbs(extra);
    try {
      const opt = this.opt ?? this.createOpt();
      const wd = opts.wd ?? this.wd;
      if (wd !== undefined) opt.set('wd', wd);
      opt.set('lr', lrRange(lr ?? this.lr, opt.groups.length));
      this.nEpoch = nEpoch;
      await this.withEvents('Fit', CancelFitException, async () => {
        // After beforeFit: the recorder has reset itself and gets the saved history back.
        const start = resumed ? this.applyResume(resumed.state, resumed.run, opts.resume!) : 0;
        for (let epoch = start; epoch < nEpoch; epoch++) {
          this.epoch = epoch;
          await this.withEvents('Epoch', CancelEpochException, async () => {
            await this.trainPass(epoch);
            await this.validatePass(this.dls.valid);
            // A NaN or infinite validation loss is divergence too: stop before the epoch's
            // afterEpoch, so no checkpoint or "best model" is written from poisoned weights.
            const validLoss = this.recorder.lastValid[0];
            if (validLoss !== undefined && !Number.isFinite(validLoss) && this.stopOnNonFinite) await this.diverged(validLoss, 'validation');
          });
        }
      });
    } catch (e) {
      // A failure (not a cancel) skips afterFit: leave the terminal and logger clean anyway.
      this.cb(ProgressCallback)?.abort();
      throw e;
    } finally {
      this.removeCbs(extra);
    }
  }

  private applyResume(state: TrainingState, run: RunState, dir: string): number {
    restoreState(this.model, this.opt, state, dir);
    setTrainableFlags(this.model, run.trainable);
    manualSeed(run.seedState);
    this.recorder.loadState(run.recorder);
    this.smoothLoss = this.recorder.smoothLoss.value;
    this.trainIter = run.trainIter;
    return run.epoch;
  }

  private async trainPass(epoch: number): Promise<void> {
    this.dl = this.dls.train;
    this.nIter = this.dl.numBatches;
    // The validation pass after this one decodes while this one trains (not for the LR finder, which does not validate).
    if (!this.lrFinding) this.dls.valid.decodeAhead?.(epoch);
    await this.withEvents('Train', CancelTrainException, () => this.allBatches(this.dls.train, epoch));
  }

  private async validatePass(source: BatchSource): Promise<void> {
    this.dl = source;
    this.nIter = source.numBatches;
    await this.withEvents('Validate', CancelValidException, () => this.allBatches(source, this.epoch));
  }

  /**
   * One pass over `source`. The next batch is asked for as soon as a training step is encoded,
   * before its loss is read back (the step's one sync point): the loader's upload and the
   * augmentation kernel of batch k+1 are prepared while the device runs step k, not after it.
   * A batch asked for ahead and never used (the pass was cancelled or failed) is freed.
   */
  private async allBatches(source: BatchSource, epoch: number): Promise<void> {
    const it = source.batches(epoch)[Symbol.asyncIterator]();
    let next: Promise<IteratorResult<Batch>> | null = null;
    const askNext = (): void => {
      if (next) return;
      next = it.next();
      next.catch(() => {}); // rejected ahead of use: thrown where it is awaited
    };
    try {
      for (let i = 0; ; i++) {
        askNext();
        const r = await next!;
        next = null;
        if (r.done) return;
        const b = r.value;
        this.iter = i;
        this.batch = b;
        try {
          await this.withEvents('Batch', CancelBatchException, () => (this.training ? this.trainBatch(b, askNext) : this.validBatch(b)));
        } finally {
          this.pred?.dispose();
          this.lossTensor?.dispose();
          this.pred = this.lossTensor = this.batch = null;
          disposeBatch(b);
        }
      }
    } finally {
      // After the last batch there is nothing ahead and the iterator is done already (return() is a no-op).
      // (The cast: TypeScript does not see that askNext, a closure, may have set `next` again.)
      const ahead = await (next as Promise<IteratorResult<Batch>> | null)?.catch(() => null);
      if (ahead && !ahead.done) disposeBatch(ahead.value);
      await it.return?.(undefined);
    }
  }

  /** One training step; `prepareNext` is called once its commands are encoded, before the loss is read back. */
  private async trainBatch(b: Batch, prepareNext: () => void): Promise<void> {
    const opt = this.opt!;
    // Activations, the graph and the gradients die with this scope; parameters and
    // optimizer state are kept tensors and survive it.
    const lossT = tidy(() => {
      const pred = this.model.call(b.x);
      const loss = this.lossFunc(pred, b.y);
      loss.backward();
      opt.step();
      opt.zeroGrad();
      return loss;
    });
    let value: number;
    try {
      const reading = lossT.item(); // submits the step
      prepareNext();
      value = await reading;
    } finally {
      lossT.dispose();
    }
    this.loss = value;
    if (!Number.isFinite(value) && this.stopOnNonFinite) await this.diverged(value);
  }

  private async validBatch(b: Batch): Promise<void> {
    noGrad(() => {
      this.pred = tidy(() => this.model.call(b.x));
      this.lossTensor = this.lossFunc(this.pred, b.y);
    });
  }

  private async diverged(value: number, during: 'training' | 'validation' = 'training'): Promise<never> {
    // An out-of-range label also makes the loss NaN: that error names the real cause.
    await checkLabelErrors();
    const saved = this.cbList.map((c) => (c as { lastSavedPath?: unknown }).lastSavedPath).filter((p): p is string => typeof p === 'string');
    throw new TrainingDivergedError(
      this.epoch,
      this.iter,
      this.nIter,
      value,
      this.opt!.groups.map((g) => g.hyper.lr),
      saved[saved.length - 1],
      during,
    );
  }

  /** fastai's _with_events: before → body → (afterCancel on a cancel) → after. */
  private async withEvents(stage: Stage, cancel: abstract new (...args: never[]) => Error, body: () => Promise<void>): Promise<void> {
    try {
      await this.event(`before${stage}`);
      await body();
    } catch (e) {
      if (!(e instanceof cancel)) throw e;
      await this.event(`afterCancel${stage}`);
    }
    await this.event(`after${stage}`);
  }

  private event(name: `${'before' | 'after' | 'afterCancel'}${Stage}`): Promise<void> {
    return runEvent(this.cbList, name as CallbackEvent, this.training);
  }
}

function checkResumable(run: RunState, phase: string, nEpoch: number, dir: string): void {
  if (run.phase !== phase) {
    throw new CheckpointError(`cannot resume from ${dir}: the checkpoint belongs to ${run.phase}, not ${phase}`);
  }
  if (run.nEpoch !== nEpoch) {
    throw new CheckpointError(
      `cannot resume from ${dir}: the checkpointed run has ${run.nEpoch} epochs, this one ${nEpoch} (the schedules would differ)`,
    );
  }
}
