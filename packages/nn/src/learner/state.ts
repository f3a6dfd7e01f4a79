/**
 * Snapshots of what training changes: the model's parameters and buffers (PyTorch
 * layout, as weight files hold them), the optimizer's per-parameter state, step
 * counts and hyper-parameters. The LR finder restores one from memory; checkpoints
 * and learn.save() write one to a safetensors file.
 */
import type { Tensor } from '@tessera/tensor';
import type { StateDict } from '../io/index.js';
import type { Module } from '../module.js';
import type { Optimizer } from '../optim/optimizer.js';
import { exportStateDict, loadStateDict } from '../weights.js';

/** Optimizer scalars that live on the CPU. */
export interface OptimizerMeta {
  stepCount: number;
  /** Every group's hyper-parameters (lr, mom, wd and the optimizer's own). */
  hypers: Record<string, unknown>[];
  /** Adam's per-parameter step counts (its bias correction depends on them). */
  paramSteps?: number[];
}

export interface TrainingState {
  model: StateDict;
  /** Optimizer state tensors keyed `${paramIndex}.${slot}`; null when not captured. */
  opt: Map<string, Float32Array> | null;
  optMeta: OptimizerMeta | null;
}

/** Optimizers that count steps per parameter (Adam) expose these. */
interface ParamStepped {
  paramSteps(): number[];
  loadParamSteps(steps: number[]): void;
}

function paramStepped(opt: Optimizer): (Optimizer & ParamStepped) | null {
  const o = opt as Optimizer & Partial<ParamStepped>;
  return typeof o.paramSteps === 'function' && typeof o.loadParamSteps === 'function' ? (o as Optimizer & ParamStepped) : null;
}

function paramCount(opt: Optimizer): number {
  return opt.groups.reduce((n, g) => n + g.params.length, 0);
}

/**
 * Forgets all per-parameter state, like fastai's Optimizer.clear_state() (which
 * freeze/unfreeze call): moments restart from zero and Adam's bias correction from step 1.
 */
export function clearOptimizerState(opt: Optimizer): void {
  opt.dispose();
  paramStepped(opt)?.loadParamSteps(Array<number>(paramCount(opt)).fill(0));
}

export async function captureOptimizer(opt: Optimizer): Promise<{ tensors: Map<string, Float32Array>; meta: OptimizerMeta }> {
  const tensors = new Map<string, Float32Array>();
  // Every readback queued at once (one wait for the device, not one per tensor).
  const entries = [...opt.stateTensors()];
  const arrays = await Promise.all(entries.map(([, t]) => t.toArray()));
  entries.forEach(([k], i) => tensors.set(k, arrays[i] as Float32Array));
  const meta: OptimizerMeta = { stepCount: opt.stepCount, hypers: opt.groups.map((g) => ({ ...g.hyper })) };
  const stepped = paramStepped(opt);
  if (stepped) meta.paramSteps = stepped.paramSteps();
  return { tensors, meta };
}

export function restoreOptimizer(opt: Optimizer, tensors: Map<string, Float32Array>, meta: OptimizerMeta): void {
  if (meta.hypers.length !== opt.groups.length) {
    throw new Error(`optimizer state has ${meta.hypers.length} parameter groups, the optimizer ${opt.groups.length}`);
  }
  clearOptimizerState(opt);
  opt.loadStateTensors(tensors);
  opt.stepCount = meta.stepCount;
  opt.groups.forEach((g, i) => Object.assign(g.hyper, meta.hypers[i]));
  if (meta.paramSteps) paramStepped(opt)?.loadParamSteps(meta.paramSteps);
}

export async function captureState(model: Module, opt: Optimizer | null, withOpt = true): Promise<TrainingState> {
  const modelDict = await exportStateDict(model);
  if (!withOpt || !opt) return { model: modelDict, opt: null, optMeta: null };
  const o = await captureOptimizer(opt);
  return { model: modelDict, opt: o.tensors, optMeta: o.meta };
}

export function restoreState(model: Module, opt: Optimizer | null, state: TrainingState, source = 'the snapshot'): void {
  loadStateDict(model, state.model, { strict: true, source });
  if (opt && state.opt && state.optMeta) restoreOptimizer(opt, state.opt, state.optMeta);
}

/** requiresGrad of every parameter, in model order (what freeze() changed). */
export function trainableFlags(model: Module): boolean[] {
  return model.parameters().map((p: Tensor) => p.requiresGrad);
}

export function setTrainableFlags(model: Module, flags: readonly boolean[]): void {
  const ps = model.parameters();
  if (flags.length !== ps.length) throw new Error(`${flags.length} trainable flags for ${ps.length} parameters`);
  ps.forEach((p, i) => (p.requiresGrad = flags[i]!));
}
