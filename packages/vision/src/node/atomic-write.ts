/**
 * Write-then-rename, so readers (other workers, other processes, a later run after a crash)
 * see either the old file or the complete new one, never a half-written one: see
 * @tessera/tensor/node's writeAtomic (hidden temporary files, errors that name the file).
 */
import { writeAtomic } from '@tessera/tensor/node';

export function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  return writeAtomic(path, data, { mkdir: true });
}
