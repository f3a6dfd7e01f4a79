/**
 * Atomic file writes: a temporary file in the same folder (so the rename stays on one
 * filesystem) is written chunk by chunk, flushed, then renamed over `path`. A crash midway
 * leaves the old file intact instead of a truncated checkpoint.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export async function writeChunksAtomic(path: string, chunks: Iterable<Uint8Array>, opts: { mkdir?: boolean } = {}): Promise<void> {
  if (opts.mkdir) await mkdir(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const handle = await open(tmp, 'wx');
  try {
    try {
      // Chunks are produced one at a time (safetensorsChunks encodes each tensor when asked),
      // which keeps peak memory near the largest chunk.
      for (const chunk of chunks) await handle.write(chunk);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}
