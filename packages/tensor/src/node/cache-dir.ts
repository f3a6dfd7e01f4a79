import { homedir } from 'node:os';
import { join } from 'node:path';

/** Tessera's user cache folder: $TESSERA_CACHE_DIR, else $XDG_CACHE_HOME/tessera, else ~/.cache/tessera. */
export function tesseraCacheDir(): string {
  return process.env.TESSERA_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'tessera');
}
