/**
 * Atomic file writes for weight, model and checkpoint files: see @tessera/tensor/node's
 * writeAtomic (hidden temporary file, flushed, renamed over `path`; a crash leaves the old file
 * intact instead of a truncated checkpoint).
 */
import { writeAtomic } from '@tessera/tensor/node';

export function writeChunksAtomic(path: string, chunks: Iterable<Uint8Array>, opts: { mkdir?: boolean } = {}): Promise<void> {
  return writeAtomic(path, chunks, { mkdir: opts.mkdir, sync: true });
}
