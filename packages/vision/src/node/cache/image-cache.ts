/**
 * Memory (LRU by bytes) in front of an optional disk cache, in front of decode + resize.
 *
 * Images returned from the memory cache are shared: callers copy them (the loader copies into
 * its batch) and must not modify them. Each worker thread has its own memory cache; the disk
 * cache is what worker threads and separate runs share. A failing disk cache (full disk, read-only
 * folder) warns once and is then bypassed: it must never stop training.
 */

import { stat } from 'node:fs/promises';
import type { RgbImage } from '../../image.js';
import type { SizeLike } from '../../target.js';
import { imageCacheKey } from './cache-key.js';
import { DiskImageCache } from './disk-cache.js';
import { ByteLru } from '../../cache/lru.js';

export interface ImageCacheOptions {
  /** Memory budget in bytes per thread; 0 (default) disables the memory cache. */
  memoryBytes?: number;
  /** Folder for the disk cache; unset (default) disables it. */
  dir?: string;
}

export class ImageCache {
  private readonly memory: ByteLru<RgbImage> | null;
  private readonly disk: DiskImageCache | null;
  private diskBroken = false;

  constructor(readonly options: ImageCacheOptions = {}) {
    const memoryBytes = options.memoryBytes ?? 0;
    this.memory = memoryBytes > 0 ? new ByteLru(memoryBytes, (img: RgbImage) => img.data.byteLength) : null;
    this.disk = options.dir ? new DiskImageCache(options.dir) : null;
  }

  get enabled(): boolean {
    return this.memory !== null || this.disk !== null;
  }

  /** Bytes held in memory (for tests and diagnostics). */
  get memoryBytes(): number {
    return this.memory?.bytes ?? 0;
  }

  /**
   * The prepared image for `path` at `target`, produced by `make` on a miss. `variant` names any
   * other option that changes the pixels (alpha handling, orientation).
   */
  async getOrCreate(path: string, target: SizeLike, variant: string, make: () => Promise<RgbImage>): Promise<RgbImage> {
    if (!this.enabled) return make();
    let key: string;
    try {
      key = imageCacheKey(path, await stat(path), target, variant);
    } catch {
      return make(); // unreadable file: let `make` raise the proper ImageDecodeError
    }
    const inMemory = this.memory?.get(key);
    if (inMemory) return inMemory;
    const onDisk = this.disk && !this.diskBroken ? await this.disk.get(key) : undefined;
    if (onDisk) {
      this.memory?.set(key, onDisk);
      return onDisk;
    }
    const img = await make();
    this.memory?.set(key, img);
    if (this.disk && !this.diskBroken) {
      try {
        await this.disk.set(key, img);
      } catch (err) {
        this.diskBroken = true;
        console.warn(`@tessera/vision: image disk cache at ${this.disk.dir} disabled: ${(err as Error).message}`);
      }
    }
    return img;
  }
}
