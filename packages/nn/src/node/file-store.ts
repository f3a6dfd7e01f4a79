/**
 * The learner's StateStore on the file system, and the training-state files at paths: what
 * `tessera train --resume` and a Node script use.
 */
import { stat } from 'node:fs/promises';
import { readFileChecked } from '@tessera/tensor/node';
import {
  type RunState, type StateFileMeta, encodeStateFile, hasCheckpointIn, readCheckpointFrom, readStateFrom,
} from '../learner/checkpoint.js';
import type { TrainingState } from '../learner/state.js';
import type { StateStore } from '../learner/store.js';
import { writeChunksAtomic } from './atomic-write.js';

/** Files on disk; paths are file-system paths (relative ones against the working folder). Writes are atomic. */
export function fileStore(): StateStore {
  return {
    async read(path) {
      try {
        return await readFileChecked(path, { what: 'checkpoint' });
      } catch (err) {
        if (((err as Error).cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') return null;
        throw err;
      }
    },
    write: (path, chunks) => writeChunksAtomic(path, chunks, { mkdir: true }),
    async exists(path) {
      try {
        return (await stat(path)).isFile();
      } catch {
        return false;
      }
    },
  };
}

const files = fileStore();

export async function writeStateFile(path: string, state: TrainingState, run?: RunState): Promise<void> {
  await files.write(path, encodeStateFile(state, run));
}

export function readStateFile(path: string): Promise<{ state: TrainingState; meta: StateFileMeta | null }> {
  return readStateFrom(files, path);
}

/** Whether `dir` holds a training checkpoint to resume from. */
export function hasCheckpoint(dir: string): Promise<boolean> {
  return hasCheckpointIn(files, dir);
}

/** Reads the run description of a training checkpoint, or throws a CheckpointError saying what is wrong. */
export function readCheckpoint(dir: string): Promise<{ state: TrainingState; run: RunState }> {
  return readCheckpointFrom(files, dir);
}
