/**
 * The Learner's configuration: what it is built from (loss, optimizer factory,
 * splitter, metrics, callbacks) and the options of fit / fitOneCycle / fineTune,
 * with fastai's defaults noted where they apply.
 */
import type { Tensor } from '@tessera/tensor';
import type { Module } from '../module.js';
import { Adam } from '../optim/adam.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { Callback } from './callback.js';
import type { Metric, MetricFunc } from './metrics.js';
import type { OneCycleSchedOptions } from './param-scheduler.js';
import type { ProgressOptions } from './progress.js';
import type { StateStore } from './store.js';

export type Reduction = 'mean' | 'sum' | 'none';
/** (model output, i32 labels) → scalar loss; with { reduction: 'none' }, per-sample losses if supported. */
export type LossFunc = (pred: Tensor, targ: Tensor, opts?: { reduction?: Reduction }) => Tensor;
/** Builds the optimizer over the parameter groups (fastai's opt_func). */
export type OptFunc = (groups: Tensor[][], opts: { lr: number }) => Optimizer;
/** Splits the model's parameters into groups (fastai's splitter). */
export type Splitter = (model: Module) => Tensor[][];

/** fastai's default optimizer: Adam(mom 0.9, sqr_mom 0.99, eps 1e-5, wd 0.01 decoupled). */
export const defaultOptFunc: OptFunc = (groups, { lr }) => new Adam(groups, { lr });

/** A model's own groups when it has them (VisionModel.paramGroups), else one group. */
export const defaultSplitter: Splitter = (m) => {
  const grouped = m as Module & { paramGroups?: () => Tensor[][] };
  return typeof grouped.paramGroups === 'function' ? grouped.paramGroups() : [m.parameters()];
};

export interface LearnerOptions {
  /** Default: softmax cross-entropy (fastai's CrossEntropyLossFlat for single-label classification). */
  lossFunc?: LossFunc;
  optFunc?: OptFunc;
  metrics?: (Metric | MetricFunc)[];
  splitter?: Splitter;
  /** Default learning rate (fastai: 1e-3). */
  lr?: number;
  /** Weight decay for every fit; unset keeps the optimizer's default (Adam: 0.01). */
  wd?: number;
  /** One-cycle momentum (fastai: 0.95, 0.85, 0.95). */
  moms?: readonly [number, number, number];
  /** Keep BatchNorm trainable in frozen groups (fastai's train_bn, default true). */
  trainBn?: boolean;
  cbs?: Callback[];
  /** Where save()/load() put files: path/modelDir/name.safetensors (fastai: '.', 'models'). */
  path?: string;
  modelDir?: string;
  /**
   * Where save(), load() and training checkpoints keep their files. Default: a MemoryStore
   * (nothing touches a disk; a browser can read the bytes back). In Node, fileStore() from
   * @tessera/nn/node writes real files.
   */
  store?: StateStore;
  /** The epoch table and progress bar (default true, like fastai); false for silence. */
  progress?: boolean | ProgressOptions;
}

export interface FitOptions {
  wd?: number;
  cbs?: Callback[];
  /** Write the full training state to dir/checkpoint.safetensors (in the learner's store) after every epoch. */
  checkpoint?: string;
  /** Continue the run checkpointed in this folder (and keep checkpointing there). */
  resume?: string;
}

export interface FitOneCycleOptions extends FitOptions, OneCycleSchedOptions {}

export interface FineTuneOptions extends FitOptions {
  freezeEpochs?: number;
  lrMult?: number;
  pctStart?: number;
  div?: number;
  divFinal?: number;
  moms?: readonly [number, number, number];
}
