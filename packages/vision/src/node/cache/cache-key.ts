/**
 * Cache keys for a prepared image: which file (absolute path), which version of it (size and
 * modification time: an edited or replaced file misses), and what was done to it (target size,
 * fit, resampling, alpha and orientation handling).
 */

import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import type { Stats } from 'node:fs';
import { targetKey, type SizeLike } from '../../target.js';

/** Bump when the pixels produced for the same inputs change (decoder or resampler fixes). */
export const CACHE_FORMAT_VERSION = 1;

export function imageCacheKey(path: string, stats: Pick<Stats, 'size' | 'mtimeMs'>, target: SizeLike, variant: string): string {
  const text = JSON.stringify([CACHE_FORMAT_VERSION, resolve(path), stats.size, stats.mtimeMs, targetKey(target), variant]);
  return createHash('sha256').update(text).digest('hex');
}
