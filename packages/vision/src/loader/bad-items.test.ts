/**
 * Files that fail to decode only when the loader reaches them (the folder scan passed them):
 * skipped, reported once, replaced in training batches, dropped from evaluation batches, and
 * a run stopped once too many fail.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileDataset } from '../node/file-dataset.js';
import { ImageBytesDataset } from '../datasets/memory-folder.js';
import { readFileSync } from 'node:fs';
import { workerThreads } from '../node/spawn.js';
import { TesseraVisionError } from '../errors.js';
import { DataLoader, type Batch } from '../loader.js';
import { SubsetDataset, withoutSkipped } from '../datasets/subset.js';
import { writeBadFiles } from '../testing/bad-files.js';
import { writeImages } from '../testing/images.js';
import { makeTempDir } from '../testing/temp-dir.js';
import { BadShareLimit, SkippedItems, type SkippedItem } from './skipped.js';

const temp = makeTempDir();
afterAll(() => temp.remove());

// 17 good images and 3 bad ones, the bad ones spread through the dataset.
const dir = join(temp.path, 'mixed');
const good = writeImages(dir, 17, 20);
const bad = writeBadFiles(dir);
const paths = [...good.slice(0, 4), bad.truncatedJpeg, ...good.slice(4, 10), bad.shortPng, ...good.slice(10), bad.notAnImage];
const dataset = new FileDataset(paths.map((path, i) => ({ path, label: i % 2 })), ['even', 'odd']);
const badIndices = [4, 11, 20 - 1];

async function collect(loader: AsyncIterable<Batch>): Promise<Batch[]> {
  const batches: Batch[] = [];
  for await (const batch of loader) batches.push(batch);
  return batches;
}

function summary(batches: Batch[]): string {
  return JSON.stringify(batches.map((b) => [b.shape, [...b.indices], [...b.labels], b.images.reduce((a, v, i) => (a + v * ((i % 251) + 1)) % 1_000_000_007, 0)]));
}

describe('DataLoader with files that fail to decode', () => {
  it('training (shuffled): replaces each bad item, keeps batch sizes, names each file once and never retries it', async () => {
    const heard: SkippedItem[] = [];
    const loads: number[] = [];
    const counted = new FileDataset(dataset.items, dataset.classes);
    const load = counted.load.bind(counted);
    counted.load = (index, size) => {
      loads.push(index);
      return load(index, size);
    };
    const options = { batchSize: 6, size: 12, shuffle: true, seed: 3, dropLast: true, maxBadFraction: 0.2 };
    const loader = new DataLoader(counted, { ...options, workers: 0, onSkip: (s) => heard.push(s) });
    const epochs = [await collect(loader), await collect(loader), await collect(loader)];
    for (const batches of epochs) {
      expect(batches.map((b) => b.shape[0])).toEqual([6, 6, 6]);
      for (const b of batches) {
        expect([...b.indices].some((i) => badIndices.includes(i))).toBe(false);
        expect(new Set(b.indices).size).toBe(6); // a replacement is never already in the batch
        expect([...b.labels]).toEqual([...b.indices].map((i) => i % 2));
      }
    }
    expect(heard.map((s) => s.index).sort((a, b) => a - b)).toEqual(badIndices);
    expect(new Set(heard.map((s) => s.file))).toEqual(new Set(Object.values(bad)));
    expect(heard.find((s) => s.file === bad.truncatedJpeg)!.reason).toMatch(/truncated/);
    expect(heard.find((s) => s.file === bad.shortPng)!.reason).toMatch(/end of image data/);
    expect(loader.skipped).toHaveLength(3);
    for (const i of badIndices) expect(loads.filter((l) => l === i)).toHaveLength(1);

    // The same batches whether a bad file is found during the epoch or known beforehand, and in workers.
    const known = new SkippedItems();
    for (const s of heard) known.add(s);
    const forewarned = new DataLoader(dataset, { ...options, workers: 0, skipped: known });
    const threaded = new DataLoader(dataset, { ...options, threads: workerThreads, workers: 2 });
    try {
      for (let e = 0; e < 3; e++) {
        expect(summary(await collect(forewarned.epoch(e)))).toBe(summary(epochs[e]!));
        expect(summary(await collect(threaded.epoch(e)))).toBe(summary(epochs[e]!));
      }
      expect(threaded.skipped.map((s) => s.index).sort((a, b) => a - b)).toEqual(badIndices);
    } finally {
      await threaded.close();
    }
  });

  it('evaluation (in order): leaves bad items out, every good item exactly once, in workers too', async () => {
    for (const workers of [0, 2]) {
      const heard: string[] = [];
      const loader = new DataLoader(dataset, {
        batchSize: 4, size: 12, maxBadFraction: 0.2, onSkip: (s) => heard.push(s.file), ...(workers ? { threads: workerThreads, workers } : { workers: 0 }),
      });
      try {
        for (let e = 0; e < 2; e++) {
          const batches = await collect(loader);
          const seen = batches.flatMap((b) => [...b.indices]);
          expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => i).filter((i) => !badIndices.includes(i)));
          for (const b of batches) expect(b.images.length).toBe(b.shape[0] * 12 * 12 * 3);
        }
        expect(heard.sort()).toEqual(Object.values(bad).sort());
        // Position k of the evaluation is item k of the dataset without its skipped items (interpretation's pictures).
        const shown = withoutSkipped(dataset, loader.skipped) as SubsetDataset;
        expect(shown.indices).toEqual(Array.from({ length: 20 }, (_, i) => i).filter((i) => !badIndices.includes(i)));
      } finally {
        await loader.close();
      }
    }
  });

  it('drops a batch whose every item failed, and shares one record between loaders over one dataset', async () => {
    const record = new SkippedItems();
    const first = new DataLoader(dataset, { batchSize: 1, size: 8, workers: 0, maxBadFraction: 1, skipped: record });
    expect((await collect(first)).length).toBe(17);
    const second = new DataLoader(dataset, { batchSize: 1, size: 8, workers: 0, maxBadFraction: 1, skipped: record });
    expect((await collect(second)).length).toBe(17);
    expect(record.size).toBe(3);
  });

  it('stops with a clear error once more than maxBadFraction of the dataset failed', async () => {
    const loader = new DataLoader(dataset, { batchSize: 5, size: 8, workers: 0 }); // default 10%: 3 of 20 is too many
    const err = await collect(loader).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(TesseraVisionError);
    expect((err as Error).message).toMatch(/3 of 20 images \(15%\) could not be decoded, more than the 10% allowed, e\.g\. .*bad-truncated\.jpg/);
    expect((err as Error).message).toMatch(/--max-bad-pct/);
    expect(() => new DataLoader(dataset, { batchSize: 5, size: 8, maxBadFraction: 2 })).toThrow(RangeError);
  });

  it('counts a run\'s loaders against one shared limit (a small set with one bad file is not 10% of the run)', async () => {
    const small = new FileDataset([...dataset.items.slice(0, 4), dataset.items[4]!], dataset.classes); // 1 bad of 5
    const alone = new DataLoader(small, { batchSize: 5, size: 8, workers: 0 });
    await expect(collect(alone)).rejects.toThrow(/1 of 5 images \(20%\)/);
    const limit = new BadShareLimit(60, 0.1, 2); // 2 already refused by a folder scan
    const shared = new DataLoader(small, { batchSize: 5, size: 8, workers: 0, badShareLimit: limit });
    expect((await collect(shared))[0]!.shape[0]).toBe(4);
    const other = new DataLoader(dataset, { batchSize: 5, size: 8, workers: 0, badShareLimit: limit });
    // 2 earlier + 1 + 3 = 6 of 60: exactly the limit, not past it.
    expect((await collect(other)).flatMap((b) => [...b.indices])).toHaveLength(17);
    expect(() => limit.check()).not.toThrow();
    const tighter = new DataLoader(dataset, { batchSize: 5, size: 8, workers: 0, badShareLimit: new BadShareLimit(50, 0.1, 3) });
    await expect(collect(tighter)).rejects.toThrow(/6 of 50 images \(12%\) could not be decoded/);
  });

  it('skips bad in-memory files (a folder picked in the web app) across the worker boundary, by name', async () => {
    const items = paths.map((path, i) => ({ name: `picked/${i % 2 ? 'odd' : 'even'}/${path.split('/').pop()}`, bytes: readFileSync(path), label: i % 2 }));
    const bytes = new ImageBytesDataset(items, ['even', 'odd']);
    const heard: SkippedItem[] = [];
    const loader = new DataLoader(bytes, { batchSize: 6, size: 12, threads: workerThreads, workers: 1, maxBadFraction: 0.2, onSkip: (s) => heard.push(s) });
    try {
      expect((await collect(loader)).flatMap((b) => [...b.indices])).toHaveLength(17);
      expect(heard.map((s) => s.file)).toEqual(['picked/even/bad-truncated.jpg', 'picked/odd/bad-short.png', 'picked/odd/bad-text.jpg']);
    } finally {
      await loader.close();
    }
  });
});
