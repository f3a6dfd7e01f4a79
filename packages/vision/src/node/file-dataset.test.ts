import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataLoader } from '../loader.js';
import { writeImages } from '../testing/images.js';
import { makeTempDir } from '../testing/temp-dir.js';
import { FileDataset } from './file-dataset.js';
import { nodeDatasetFromSpec } from './spec.js';
import { workerThreads } from './spawn.js';

const temp = makeTempDir();
afterAll(() => temp.remove());

function cacheEntries(dir: string): string[] {
  return readdirSync(dir, { recursive: true }).map(String).filter((f) => f.endsWith('.rgb'));
}

describe('FileDataset', () => {
  const paths = writeImages(join(temp.path, 'images'), 4, 30);
  const items = paths.map((path, i) => ({ path, label: i % 2 }));

  it('validates labels and round-trips through its spec', async () => {
    expect(() => new FileDataset([{ path: 'x.jpg', label: 2 }], ['a', 'b'])).toThrow(/label 2/);
    const dataset = new FileDataset(items, ['a', 'b'], { decode: { alpha: 'drop' } });
    const clone = nodeDatasetFromSpec(structuredClone(dataset.spec()));
    expect([clone.length, clone.classes, clone.label(3)]).toEqual([4, ['a', 'b'], 1]);
    expect(Buffer.from((await clone.load(2, 10)).data).equals(Buffer.from((await dataset.load(2, 10)).data))).toBe(true);
  });

  it('fills the disk cache from worker threads and reuses it', async () => {
    const dir = join(temp.path, 'cache');
    const dataset = new FileDataset(items, ['a', 'b'], { cache: { dir, memoryBytes: 1 << 20 } });
    const loader = new DataLoader(dataset, { batchSize: 2, size: 12, threads: workerThreads, workers: 1 });
    try {
      for await (const batch of loader) expect(batch.shape).toEqual([2, 12, 12, 3]);
    } finally {
      await loader.close();
    }
    expect(cacheEntries(dir)).toHaveLength(4);
    await dataset.load(0, 12); // same target: served from the cache, no new entry
    expect(cacheEntries(dir)).toHaveLength(4);
    await dataset.load(0, 13);
    expect(cacheEntries(dir)).toHaveLength(5);
  });
});
