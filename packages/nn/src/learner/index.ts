/** The learner: fastai's training loop, callbacks, LR finder, interpretation and inference helpers. */
export { type Batch, type BatchSource, type DataLoaders, disposeBatch } from './data.js';
export { Learner } from './learner.js';
export {
  defaultOptFunc, defaultSplitter, type LearnerOptions, type FitOptions, type FitOneCycleOptions, type FineTuneOptions,
  type LossFunc, type OptFunc, type Splitter, type Reduction,
} from './options.js';
export {
  Callback, EVENTS, type CallbackEvent, CancelException, CancelFitException, CancelEpochException,
  CancelTrainException, CancelValidException, CancelBatchException,
} from './callback.js';
export { TrainingDivergedError, CheckpointError } from './errors.js';
export { crossEntropyLoss } from './loss.js';
export { type LrSlice, type LrSpec, lrSlice, lrRange, evenMults } from './lr-range.js';
export { type Metric, type MetricFunc, AvgMetric, accuracy, errorRate, metricNameOf } from './metrics.js';
export { EpochTimer, type EpochTiming } from './epoch-timer.js';
export { Recorder, AvgSmoothLoss, formatTime, type EpochRow, type EpochLogger, type RecorderState } from './recorder.js';
export { ParamScheduler, oneCycleSchedules, type HyperSchedules, type OneCycleSchedOptions } from './param-scheduler.js';
export { TrainEvalCallback } from './train-eval.js';
export {
  ProgressCallback, type ProgressOptions, type ProgressOutput, formatTableHeader, formatTableRow, formatTableValue,
} from './progress.js';
export {
  TrackerCallback, SaveModelCallback, EarlyStoppingCallback,
  type TrackerOptions, type SaveModelOptions, type EarlyStoppingOptions, type Comparison,
} from './tracker.js';
export {
  CheckpointCallback, CHECKPOINT_FILE, checkpointPath, decodeStateFile, encodeStateFile, hasCheckpointIn, readCheckpointFrom,
  readStateFrom, type RunState, type StateFileMeta,
} from './checkpoint.js';
export { MemoryStore, joinPath, type StateStore } from './store.js';
export { type TrainingState, type OptimizerMeta, captureState, restoreState, clearOptimizerState } from './state.js';
export { LRFinder, lrFind, type LrFindOptions, type LrFindResult } from './lr-find.js';
export {
  valley, minimum, steep, slide, slideWith, suggestName, npGradient, npInterp,
  type Suggestion, type SuggestFunc, type SlideOptions,
} from './suggest.js';
export { ClassificationInterpretation, getPreds, tta, type Preds, type TopLoss, type TtaOptions } from './interpret.js';
export { predict, predictBatch, type Prediction } from './predict.js';
export { tuneModelGemms, type TuneModelOptions } from './tune-gemms.js';
export { traceStepKernels } from './trace-step.js';
