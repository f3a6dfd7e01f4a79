/**
 * run.json: what a run was trained on (dataset, architecture, image size, batch, split), written
 * into its folder when training starts. `train --from DIR` reads it to continue a finished run with
 * a new schedule (fastai's second `fit_one_cycle` after `fine_tune`) on the same data: the same
 * dataset, classes, split and image size, which it fills in when not given and refuses to change.
 * `train --resume DIR` reads it too: an interrupted run keeps its image size and architecture.
 */
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TesseraError } from '@tessera/tensor';
import { decodeMeta, loadStateDict, type Module } from '@tessera/nn';
import { io, writeChunksAtomic } from '@tessera/nn/node';
import { UsageError } from './args.js';
import type { EpochRecord } from './run-log.js';

export const RUN_INFO_FILE = 'run.json';

export interface RunInfo {
  version: 1;
  /** The <dataset> argument as given (a name, 'counting-LO-HI' or a folder). */
  dataset: string;
  arch: string;
  size: number;
  /** Batch size (informational: a continued or resumed run may take another). */
  bs?: number;
  seed: number;
  validPct: number;
  /** Synthetic counting only: images per class. */
  perClass?: number;
  classes: string[];
}

export async function writeRunInfo(dir: string, info: RunInfo): Promise<void> {
  await writeChunksAtomic(join(dir, RUN_INFO_FILE), [new TextEncoder().encode(`${JSON.stringify(info, null, 2)}\n`)]);
}

/** A run folder's run.json, or null when it has none (a run from before run.json) or it is unreadable. */
export async function readRunInfo(dir: string): Promise<RunInfo | null> {
  try {
    const v = JSON.parse(await readFile(join(dir, RUN_INFO_FILE), 'utf8')) as Partial<RunInfo>;
    return typeof v.size === 'number' && typeof v.arch === 'string' ? (v as RunInfo) : null;
  } catch {
    return null;
  }
}

/** The run.json of a finished run (one with a model.safetensors), or one clear error. */
export async function readFinishedRun(dir: string): Promise<RunInfo> {
  const exists = (f: string) => access(join(dir, f)).then(() => true, () => false);
  if (!(await exists('model.safetensors'))) {
    throw new UsageError(`train: --from ${dir}: no model.safetensors there; --from continues a finished run (use --resume for an interrupted one)`);
  }
  const text = await readFile(join(dir, RUN_INFO_FILE), 'utf8').catch(() => null);
  if (text === null) {
    throw new UsageError(`train: --from ${dir}: no ${RUN_INFO_FILE} there (the run predates --from, or is not a run folder); train it again to continue it`);
  }
  let info: RunInfo;
  try {
    info = JSON.parse(text) as RunInfo;
  } catch (e) {
    throw new UsageError(`train: --from ${dir}: ${RUN_INFO_FILE} is not valid JSON (${(e as Error).message})`);
  }
  if (info.version !== 1 || typeof info.dataset !== 'string' || typeof info.size !== 'number' || !Array.isArray(info.classes)) {
    throw new UsageError(`train: --from ${dir}: ${RUN_INFO_FILE} is not a Tessera run description`);
  }
  return info;
}

/** Option names of `train` that must match the run being continued, and their run.json fields. */
const INHERITED = { arch: 'arch', size: 'size', seed: 'seed', 'valid-pct': 'validPct', 'per-class': 'perClass' } as const;

/**
 * Fills the data and model options of a continued run from its run.json, in place; an option given
 * with another value than the run's is refused (another split or size would not be the same
 * training), as is another dataset.
 */
export function inheritRunOptions(dir: string, info: RunInfo, dataset: string, o: Record<string, unknown>): void {
  if (dataset !== info.dataset) {
    throw new UsageError(`train: --from ${dir} was trained on '${info.dataset}', not '${dataset}'; continue it on the same data`);
  }
  for (const [option, field] of Object.entries(INHERITED) as [keyof typeof INHERITED, (typeof INHERITED)[keyof typeof INHERITED]][]) {
    const saved = info[field];
    if (saved === undefined) continue;
    if (o[option] === undefined) o[option] = saved;
    else if (o[option] !== saved) {
      throw new UsageError(`train: --${option} ${String(o[option])} differs from the run in ${dir} (${String(saved)}); leave it out to continue that run`);
    }
  }
  if (o.pretrained !== undefined) throw new UsageError(`train: --pretrained does not apply with --from: the run's own weights are loaded`);
  if (o.resume !== undefined) throw new UsageError('train: --from continues a finished run, --resume an interrupted one; use one of them');
}

/**
 * Loads a finished run's model.safetensors into a freshly built model, strictly: the body, the
 * head and the BatchNorm statistics, as fastai's learner carries them into its next fit.
 */
export async function loadRunModel(model: Module, dir: string, classes: readonly string[]): Promise<string> {
  const path = join(dir, 'model.safetensors');
  const { tensors, metadata } = await io.readSafetensors(path);
  try {
    const meta = decodeMeta(metadata, path);
    if (meta.classes.join('\n') !== classes.join('\n')) {
      throw new UsageError(`train: --from ${dir}: the model's classes (${meta.classes.join(', ')}) are not the data's (${classes.join(', ')})`);
    }
    loadStateDict(model, tensors, { source: path });
  } catch (e) {
    if (e instanceof TesseraError) throw new UsageError(`train: --from ${dir}: ${e.message}`);
    throw e;
  }
  return path;
}

/** The epoch rows of a finished run (its metrics.json), to which a continued run appends its own. */
export async function readRunEpochs(dir: string): Promise<EpochRecord[]> {
  const text = await readFile(join(dir, 'metrics.json'), 'utf8').catch(() => '[]');
  try {
    const rows = JSON.parse(text) as unknown;
    return Array.isArray(rows) ? (rows as EpochRecord[]) : [];
  } catch {
    throw new UsageError(`train: --from ${dir}: metrics.json is not valid JSON; move it aside to continue without the earlier epochs`);
  }
}
