import { existsSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RgbImage } from '../../image.js';
import { encodePng } from '../../encode/png.js';
import { gradientImage } from '../../testing/images.js';
import { makeTempDir } from '../../testing/temp-dir.js';
import { imageCacheKey } from './cache-key.js';
import { DiskImageCache } from './disk-cache.js';
import { ImageCache } from './image-cache.js';
import { ByteLru } from '../../cache/lru.js';

const temp = makeTempDir();
afterAll(() => temp.remove());

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => e.name);
}

describe('ByteLru', () => {
  it('evicts least recently used entries to stay within the byte budget', () => {
    const lru = new ByteLru<Uint8Array>(100, (v) => v.length);
    lru.set('a', new Uint8Array(40));
    lru.set('b', new Uint8Array(40));
    lru.get('a'); // a is now more recent than b
    lru.set('c', new Uint8Array(40)); // 120 > 100: evict b
    expect([lru.get('a') !== undefined, lru.get('b') !== undefined, lru.get('c') !== undefined]).toEqual([true, false, true]);
    expect(lru.bytes).toBe(80);
    lru.set('huge', new Uint8Array(101)); // larger than the whole budget: not stored, nothing evicted
    expect([lru.size, lru.bytes]).toEqual([2, 80]);
    lru.set('a', new Uint8Array(10)); // replacing updates the byte count
    expect(lru.bytes).toBe(50);
  });
});

describe('DiskImageCache', () => {
  it('round-trips images, writes atomically and treats damaged files as misses', async () => {
    const disk = new DiskImageCache(join(temp.path, 'disk'));
    const img = gradientImage(7, 5);
    await disk.set('ab12', img);
    const back = await disk.get('ab12');
    expect(back && [back.width, back.height, [...back.data]]).toEqual([7, 5, [...img.data]]);
    expect(filesUnder(join(temp.path, 'disk')).some((name) => name.endsWith('.tmp'))).toBe(false);
    writeFileSync(disk.pathOf('ab12'), Uint8Array.from([1, 2, 3])); // truncated entry
    expect(await disk.get('ab12')).toBeUndefined();
    expect(await disk.get('cd34')).toBeUndefined();
  });

  it('never exposes a partial file to concurrent writers of the same key', async () => {
    const disk = new DiskImageCache(join(temp.path, 'race'));
    const a = { width: 100, height: 100, data: new Uint8Array(30000).fill(1) };
    const b = { width: 100, height: 100, data: new Uint8Array(30000).fill(2) };
    await Promise.all([disk.set('k', a), disk.set('k', b), disk.set('k', a)]);
    const back = await disk.get('k');
    expect(back).toBeDefined();
    expect(new Set(back!.data).size).toBe(1); // all ones or all twos, never a mix
  });
});

describe('imageCacheKey', () => {
  it('changes with path, size, mtime, target and variant', () => {
    const base = imageCacheKey('/a/b.jpg', { size: 10, mtimeMs: 5 }, 224, 'v');
    expect(imageCacheKey('/a/b.jpg', { size: 10, mtimeMs: 5 }, 224, 'v')).toBe(base);
    for (const other of [
      imageCacheKey('/a/c.jpg', { size: 10, mtimeMs: 5 }, 224, 'v'),
      imageCacheKey('/a/b.jpg', { size: 11, mtimeMs: 5 }, 224, 'v'),
      imageCacheKey('/a/b.jpg', { size: 10, mtimeMs: 6 }, 224, 'v'),
      imageCacheKey('/a/b.jpg', { size: 10, mtimeMs: 5 }, 225, 'v'),
      imageCacheKey('/a/b.jpg', { size: 10, mtimeMs: 5 }, { width: 224, height: 224, fit: 'squish' }, 'v'),
      imageCacheKey('/a/b.jpg', { size: 10, mtimeMs: 5 }, 224, 'w'),
    ]) expect(other).not.toBe(base);
    // Relative and absolute spellings of one file share a key.
    expect(imageCacheKey('x.jpg', { size: 1, mtimeMs: 1 }, 8, '')).toBe(imageCacheKey(join(process.cwd(), 'x.jpg'), { size: 1, mtimeMs: 1 }, 8, ''));
  });
});

describe('ImageCache', () => {
  it('serves repeats from memory, then from disk in a fresh cache, and misses when the file changes', async () => {
    const path = join(temp.path, 'photo.png');
    writeFileSync(path, encodePng(gradientImage(20, 10)));
    let made = 0;
    const make = async (): Promise<RgbImage> => {
      made++;
      return gradientImage(4, 4);
    };
    const dir = join(temp.path, 'image-cache');
    const first = new ImageCache({ memoryBytes: 1 << 20, dir });
    await first.getOrCreate(path, 4, '', make);
    await first.getOrCreate(path, 4, '', make);
    expect(made).toBe(1);
    expect(first.memoryBytes).toBe(48);
    const second = new ImageCache({ dir }); // another worker or run: disk only
    expect((await second.getOrCreate(path, 4, '', make)).width).toBe(4);
    expect(made).toBe(1);
    await second.getOrCreate(path, 5, '', make); // another target size
    expect(made).toBe(2);
    utimesSync(path, new Date(), new Date(Date.now() + 10_000)); // the file was touched
    await second.getOrCreate(path, 4, '', make);
    expect(made).toBe(3);
  });

  it('is a pass-through when disabled, and keeps working when the disk cache cannot write', async () => {
    let made = 0;
    const make = async () => {
      made++;
      return gradientImage(2, 2);
    };
    const off = new ImageCache();
    await off.getOrCreate('/nonexistent', 2, '', make);
    await off.getOrCreate('/nonexistent', 2, '', make);
    expect(made).toBe(2);
    const blocker = join(temp.path, 'not-a-dir');
    writeFileSync(blocker, 'x'); // a file where the cache folder should be
    const path = join(temp.path, 'p.png');
    writeFileSync(path, encodePng(gradientImage(3, 3)));
    const broken = new ImageCache({ dir: join(blocker, 'cache') });
    const warn = console.warn;
    const warnings: string[] = [];
    console.warn = (line: string) => warnings.push(line);
    try {
      expect((await broken.getOrCreate(path, 2, '', make)).width).toBe(2);
      expect((await broken.getOrCreate(path, 2, '', make)).width).toBe(2);
    } finally {
      console.warn = warn;
    }
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/disk cache .* disabled/);
    expect(existsSync(join(blocker, 'cache'))).toBe(false);
  });
});
