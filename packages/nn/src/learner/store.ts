/**
 * Where the learner keeps its files (learn.save / learn.load, SaveModelCallback, training
 * checkpoints): a store of bytes by '/'-separated path. The learner itself never touches a
 * file system, so it runs in a browser; there the default MemoryStore keeps everything in
 * memory (read it back with `files`), and in Node @tessera/nn/node's fileStore() writes
 * real files, atomically.
 */

import { concatBytes } from '../io/bytes.js';

export interface StateStore {
  /** The bytes at `path`, or null when there is nothing there. */
  read(path: string): Promise<Uint8Array | null>;
  /**
   * Writes `chunks` (in order) as the whole content at `path`, creating folders as needed.
   * A reader sees the old content or the new one, never a mix.
   */
  write(path: string, chunks: Iterable<Uint8Array>): Promise<void>;
  /** Whether something is stored at `path`. */
  exists(path: string): Promise<boolean>;
}

/** A StateStore in memory: the default, and what a browser uses. */
export class MemoryStore implements StateStore {
  /** Contents by normalised path. */
  readonly files = new Map<string, Uint8Array>();

  async read(path: string): Promise<Uint8Array | null> {
    return this.files.get(joinPath(path)) ?? null;
  }

  async write(path: string, chunks: Iterable<Uint8Array>): Promise<void> {
    // Gathered first: a failure while producing the chunks leaves the old content in place.
    this.files.set(joinPath(path), concatBytes(chunks));
  }

  async exists(path: string): Promise<boolean> {
    return this.files.has(joinPath(path));
  }
}

/**
 * POSIX-style join and normalisation ('.' and empty segments dropped, '..' resolved where
 * it can be), so paths mean the same in memory as on disk: joinPath('.', 'models', 'a')
 * is 'models/a'.
 */
export function joinPath(...parts: string[]): string {
  const absolute = parts.length > 0 && parts[0]!.startsWith('/');
  const out: string[] = [];
  for (const seg of parts.join('/').split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..' && out.length > 0 && out[out.length - 1] !== '..') out.pop();
    else if (seg !== '..' || !absolute) out.push(seg);
  }
  const joined = out.join('/');
  return absolute ? `/${joined}` : joined || '.';
}
