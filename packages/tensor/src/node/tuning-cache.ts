/**
 * The GEMM tuning table on disk (Node only): one JSON file holding a table per
 * adapter + driver version (`adapterKey()`: vendor, architecture and the driver's
 * description, e.g. "llvmpipe: Mesa 25.0.7 (LLVM 15.0.6)"), so a driver upgrade or
 * another GPU starts untuned instead of reusing stale winners. Written atomically.
 * Location: $TESSERA_CACHE_DIR, else $XDG_CACHE_HOME/tessera, else ~/.cache/tessera.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { tesseraCacheDir } from './cache-dir.js';
import { adapterKey, gemmTuning, setGemmTuning, type TuneEntry } from '../kernels/gemm-tuner.js';

interface CacheFile {
  version: 1;
  adapters: Record<string, Record<string, TuneEntry>>;
}

export function tuningCachePath(): string {
  return join(tesseraCacheDir(), 'gemm-tuning.json');
}

async function readCache(path: string): Promise<CacheFile> {
  try {
    const data = JSON.parse(await readFile(path, 'utf8')) as CacheFile;
    if (data?.version === 1 && typeof data.adapters === 'object') return data;
  } catch {
    // missing or unreadable: start afresh (the file is only a cache)
  }
  return { version: 1, adapters: {} };
}

/** Loads this adapter's tuning table from the cache; returns how many calls it covers. */
export async function loadGemmTuningCache(path = tuningCachePath()): Promise<number> {
  const entries = (await readCache(path)).adapters[adapterKey()] ?? {};
  setGemmTuning(entries);
  return Object.keys(entries).length;
}

/** Merges the current tuning table into the cache file under this adapter's key. */
export async function saveGemmTuningCache(path = tuningCachePath()): Promise<string> {
  const data = await readCache(path);
  const key = adapterKey();
  data.adapters[key] = { ...data.adapters[key], ...gemmTuning() };
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(data, null, 1)}\n`);
  await rename(tmp, path);
  return path;
}
