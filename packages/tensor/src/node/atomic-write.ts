/**
 * Atomic file writes, the one implementation every package uses: a hidden temporary file in the
 * same folder (so the rename stays on one file system) is written chunk by chunk, flushed, then
 * renamed over `path`. Readers (other workers, other processes, a later run after a crash) see
 * the old file or the complete new one, never half of one. A failure removes the temporary file
 * and names the file it was writing (Node's ENOSPC from a handle names nothing).
 *
 * The temporary name is `.<name>.<pid>-<thread>-<random>.tmp`: hidden, and unique per process,
 * thread and call. A killed process leaves its temporary behind; removeStaleTemps clears them.
 */
import { randomBytes } from 'node:crypto';
import { open, readdir, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { FileWriteError, makeFolder } from './files.js';

export async function writeAtomic(
  path: string,
  data: string | Uint8Array | Iterable<Uint8Array>,
  opts: { mkdir?: boolean; sync?: boolean } = {},
): Promise<void> {
  const dir = dirname(path);
  if (opts.mkdir) await makeFolder(dir);
  const tmp = join(dir, `.${basename(path)}.${process.pid}-${threadId}-${randomBytes(4).toString('hex')}.tmp`);
  let handle;
  try {
    handle = await open(tmp, 'wx');
  } catch (err) {
    throw new FileWriteError(path, err);
  }
  try {
    try {
      const chunks = typeof data === 'string' ? [new TextEncoder().encode(data)] : data instanceof Uint8Array ? [data] : data;
      // Chunks are produced one at a time (safetensorsChunks encodes each tensor when asked),
      // which keeps peak memory near the largest chunk.
      for (const chunk of chunks) {
        // A write may take only part of the chunk (a disk filling up takes what fits and says
        // nothing): loop until all of it is written, so the next write reports ENOSPC.
        for (let off = 0; off < chunk.length; ) {
          const { bytesWritten } = await handle.write(chunk, off, chunk.length - off);
          if (bytesWritten === 0) throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
          off += bytesWritten;
        }
      }
      if (opts.sync) await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err instanceof FileWriteError || !(err as NodeJS.ErrnoException).code ? err : new FileWriteError(path, err);
  }
}

/**
 * Temporary files of an interrupted write, in every naming this project has used:
 * `.name.<pid>-<thread>-<hex>.tmp` (now), `.name.<pid>.<hex>.tmp` and `name.<pid>-<thread>-<hex>.tmp` (before).
 */
const TEMP_NAME = /^(?:\..+\.(\d+)(?:-\d+)?[.-][0-9a-f]{8}|.+\.(\d+)-\d+-[0-9a-f]{8})\.tmp$/;

/** The writer's pid when `name` is one of our temporary files, else null. */
export function tempFileOwner(name: string): number | null {
  const m = TEMP_NAME.exec(name);
  return m ? Number(m[1] ?? m[2]) : null;
}

/**
 * Removes the temporary files other processes left in `dir` (call it while holding the folder's
 * run lock, when no other process writes there). Returns the names removed.
 */
export async function removeStaleTemps(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const name of names) {
    const owner = tempFileOwner(name);
    if (owner === null || owner === process.pid) continue;
    await unlink(join(dir, name)).then(() => removed.push(name), () => undefined);
  }
  return removed;
}
