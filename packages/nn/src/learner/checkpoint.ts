/**
 * Training-state files. One safetensors file holds the model (PyTorch keys, so it also
 * loads as a plain weight file), the optimizer state under `@opt/` keys (no module
 * path contains '@'), and a JSON description in the header metadata. Keeping it all
 * in one file makes the write atomic as a whole (temp file + rename): a crash leaves
 * the previous checkpoint, never a weight file paired with another epoch's optimizer.
 * Files go through the learner's StateStore (memory by default, files in Node).
 */
import { getSeedState } from '@tessera/tensor';
import { parseSafetensors, safetensorsChunks, toFloat32, type StateDict } from '../io/index.js';
import { Callback } from './callback.js';
import { CheckpointError } from './errors.js';
import type { RecorderState } from './recorder.js';
import { type OptimizerMeta, type TrainingState, captureState, trainableFlags } from './state.js';
import { type StateStore, joinPath } from './store.js';

const OPT_PREFIX = '@opt/';
const META_KEY = 'tessera.learner';
/** The training checkpoint's file name inside its folder. */
export const CHECKPOINT_FILE = 'checkpoint.safetensors';

/** What a file says about itself (the header's JSON). */
export interface StateFileMeta {
  format: 'tessera-learner';
  version: 1;
  optimizer: OptimizerMeta | null;
  /** Present in training checkpoints (not in learn.save() files). */
  run?: RunState;
}

/** Where an interrupted run stood at the end of its last completed epoch. */
export interface RunState {
  /** Which fit it belongs to: 'fit', 'fitOneCycle', 'fineTune:frozen', 'fineTune:unfrozen'. */
  phase: string;
  nEpoch: number;
  /** Epochs completed (the epoch to resume at). */
  epoch: number;
  /** Training batches done in this fit (the schedules' position). */
  trainIter: number;
  /** The tensor package's RNG state (dropout, random init) after that epoch. */
  seedState: number;
  /** requiresGrad per parameter (freeze state). */
  trainable: boolean[];
  recorder: RecorderState;
}

/** A state file's bytes (as chunks to stream): model, optimizer state and description. */
export function encodeStateFile(state: TrainingState, run?: RunState): Iterable<Uint8Array> {
  const tensors: StateDict = new Map(state.model);
  if (state.opt) {
    for (const [k, data] of state.opt) tensors.set(`${OPT_PREFIX}${k}`, { dtype: 'f32', shape: [data.length], data });
  }
  const meta: StateFileMeta = { format: 'tessera-learner', version: 1, optimizer: state.optMeta, ...(run ? { run } : {}) };
  return safetensorsChunks(tensors, { [META_KEY]: JSON.stringify(meta) });
}

/** Reads a state file's bytes; `source` names it in errors. */
export function decodeStateFile(bytes: Uint8Array, source: string): { state: TrainingState; meta: StateFileMeta | null } {
  const file = parseSafetensors(bytes, source);
  const model: StateDict = new Map();
  const opt = new Map<string, Float32Array>();
  for (const [k, t] of file.tensors) {
    if (k.startsWith(OPT_PREFIX)) opt.set(k.slice(OPT_PREFIX.length), toFloat32(t));
    else model.set(k, t);
  }
  const raw = file.metadata[META_KEY];
  let meta: StateFileMeta | null = null;
  if (raw !== undefined) {
    try {
      meta = JSON.parse(raw) as StateFileMeta;
    } catch (err) {
      throw new CheckpointError(`${source}: the '${META_KEY}' metadata is not valid JSON (${(err as Error).message})`);
    }
  }
  const optMeta = meta?.optimizer ?? null;
  return { state: { model, opt: optMeta ? opt : null, optMeta }, meta };
}

/** Reads the state file at `path` in `store`; throws a CheckpointError when there is none. */
export async function readStateFrom(store: StateStore, path: string): Promise<{ state: TrainingState; meta: StateFileMeta | null }> {
  const bytes = await store.read(path);
  if (!bytes) throw new CheckpointError(`no state file at ${path}`);
  return decodeStateFile(bytes, path);
}

export function checkpointPath(dir: string): string {
  return joinPath(dir, CHECKPOINT_FILE);
}

/** Whether `dir` in `store` holds a training checkpoint to resume from. */
export function hasCheckpointIn(store: StateStore, dir: string): Promise<boolean> {
  return store.exists(checkpointPath(dir));
}

/** Reads the run description of a training checkpoint, or throws a CheckpointError saying what is wrong. */
export async function readCheckpointFrom(store: StateStore, dir: string): Promise<{ state: TrainingState; run: RunState }> {
  const path = checkpointPath(dir);
  const bytes = await store.read(path);
  if (!bytes) throw new CheckpointError(`cannot resume: no checkpoint at ${path}`);
  const { state, meta } = decodeStateFile(bytes, path);
  if (!meta?.run) throw new CheckpointError(`cannot resume from ${path}: it is a weight file, not a training checkpoint`);
  return { state, run: meta.run };
}

/**
 * Writes the complete training state to `dir/checkpoint.safetensors` after every
 * epoch (runs after the recorder and the trackers, so the epoch's row is included).
 * fit…({ checkpoint: dir }) and fit…({ resume: dir }) attach it.
 */
export class CheckpointCallback extends Callback {
  override order = 65;
  /** Path of the last file written (kept when training later diverges). */
  lastSavedPath: string | null = null;
  /** How long the last checkpoint took (state readback and the write) and when it ended, in seconds (EpochTimer reads it). */
  lastWrite: { seconds: number; at: number } | null = null;

  constructor(
    readonly dir: string,
    readonly phase: string,
  ) {
    super();
  }

  override async afterEpoch(): Promise<void> {
    const learn = this.learn;
    if (learn.lrFinding) return;
    const t0 = performance.now();
    const state = await captureState(learn.model, learn.opt, true);
    const run: RunState = {
      phase: this.phase,
      nEpoch: learn.nEpoch,
      epoch: learn.epoch + 1,
      trainIter: learn.trainIter,
      seedState: getSeedState(),
      trainable: trainableFlags(learn.model),
      recorder: learn.recorder.state(),
    };
    const path = checkpointPath(this.dir);
    await learn.store.write(path, encodeStateFile(state, run));
    this.lastSavedPath = path;
    const t = performance.now();
    this.lastWrite = { seconds: (t - t0) / 1000, at: t / 1000 };
  }
}
