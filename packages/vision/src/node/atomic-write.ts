/**
 * Write-then-rename, so readers (other workers, other processes, a later run after a crash)
 * see either the old file or the complete new one, never a half-written one.
 */

import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { threadId } from 'node:worker_threads';

export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  // Unique per process, thread and call: concurrent writers of the same file never share a temp.
  const temp = `${path}.${process.pid}-${threadId}-${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(temp, data);
    await rename(temp, path); // atomic on POSIX within one filesystem; replaces an existing file
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}
