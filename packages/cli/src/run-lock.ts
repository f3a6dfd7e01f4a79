/**
 * One run per output folder. A run takes `.tessera-run.lock` in its folder (created exclusively,
 * holding the pid, host and start time); a second run given the same folder refuses with a line
 * naming the holder, instead of both writing and mixing their files. A lock whose process is gone
 * (same host, pid not running: the run was killed) is taken over with a note. Holding the lock,
 * the run removes the temporary files interrupted writes left in the folder.
 */
import { unlinkSync } from 'node:fs';
import { readFile, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { FileWriteError, removeStaleTemps } from '@tessera/tensor/node';

export const LOCK_FILE = '.tessera-run.lock';

interface LockInfo {
  pid: number;
  host: string;
  started: string;
  command: string;
}

/** Another run holds the folder. */
export class RunLockedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunLockedError';
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

async function readHolder(path: string): Promise<LockInfo | null> {
  try {
    const v = JSON.parse(await readFile(path, 'utf8')) as Partial<LockInfo>;
    return typeof v.pid === 'number' && typeof v.host === 'string' ? { started: '?', command: '?', ...v } as LockInfo : null;
  } catch {
    return null; // garbled or half-written by a run killed at that moment
  }
}

export interface RunLock {
  /** Notes for the user (a stale lock taken over, temporary files removed). */
  notes: string[];
  release(): Promise<void>;
}

/** Takes `dir`'s run lock for `command` (the folder must exist), or throws RunLockedError naming the holder. */
export async function acquireRunLock(dir: string, command: string): Promise<RunLock> {
  const path = join(dir, LOCK_FILE);
  const me: LockInfo = { pid: process.pid, host: hostname(), started: new Date().toISOString(), command };
  const text = `${JSON.stringify(me)}\n`;
  const notes: string[] = [];
  for (let attempt = 0; ; attempt++) {
    try {
      await writeFile(path, text, { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new FileWriteError(dir, err);
    }
    const holder = await readHolder(path);
    const stale = holder === null || (holder.host === me.host && !alive(holder.pid));
    if (!stale || attempt > 0) {
      const who = holder ? `pid ${holder.pid} on ${holder.host}, ${holder.command} started ${holder.started}` : 'another run';
      throw new RunLockedError(
        `${dir} is in use by another run (${who}); wait for it to finish or choose another --out` +
          ` (if no such run is going on, delete ${path})`,
      );
    }
    notes.push(holder
      ? `note: took over the lock of an earlier run in ${dir} (pid ${holder.pid}, started ${holder.started}), which is no longer running`
      : `note: replaced an unreadable run lock in ${dir}`);
    await unlink(path).catch(() => undefined);
  }
  // Released on every exit, even a failure that never reaches release().
  const onExit = () => {
    try {
      unlinkSync(path);
    } catch {
      /* already gone */
    }
  };
  process.once('exit', onExit);
  const removed = await removeStaleTemps(dir);
  if (removed.length) notes.push(`note: removed ${removed.length} temporary file${removed.length > 1 ? 's' : ''} left by an interrupted write in ${dir}`);
  return {
    notes,
    async release() {
      process.removeListener('exit', onExit);
      await unlink(path).catch(() => undefined);
    },
  };
}
