/**
 * The DataLoader's window runs on into the next epoch: once an epoch has asked for all its
 * batches, the next epoch's first ones are requested, so they decode during validation and
 * the next epoch does not start by waiting. Driven by an in-process fake worker that records
 * what it was asked for and produces the real pixels.
 */
import { describe, expect, it } from 'vitest';
import { CountingDataset } from './datasets/counting.js';
import { GpuBatches } from './gpu-batches.js';
import { DataLoader, type Batch } from './loader.js';
import { loadBatch } from './loader/batch.js';
import type { BatchRequest, LoaderThreads } from './loader/messages.js';
import { epochBatches } from './loader/sampler.js';

const counting = new CountingDataset({ range: [1, 5], perClass: 6, size: 32, seed: 11 }); // 30 items
const options = { batchSize: 8, size: 16, shuffle: true, seed: 3 };

/** One fake worker answering each request (a tick later) with loadBatch's pixels; `asked` lists the requests. */
function recordingThreads() {
  const asked: number[][] = [];
  const threads: LoaderThreads = {
    defaultCount: () => 1,
    spawn(_init, events) {
      return {
        post(r: BatchRequest) {
          asked.push(r.indices);
          setTimeout(() => {
            void loadBatch(counting, r.indices, r.target).then((p) => events.message({ id: r.id, ok: true, ...p }));
          }, 1);
        },
        terminate: () => undefined,
      };
    },
  };
  return { asked, threads };
}

async function collect(epoch: AsyncIterable<Batch>): Promise<string> {
  const out: unknown[] = [];
  for await (const b of epoch) out.push([[...b.indices], b.images.reduce((a, v, i) => (a + v * ((i % 251) + 1)) % 1_000_000_007, 0)]);
  return JSON.stringify(out);
}

const settle = () => new Promise((r) => setTimeout(r, 50));

describe('DataLoader: the next epoch is requested before it starts', () => {
  it('asks for the next epoch\'s first batches when the last one is requested, and serves them once', async () => {
    const { asked, threads } = recordingThreads();
    const loader = new DataLoader(counting, { ...options, threads, workers: 1, prefetch: 2 });
    const reference = new DataLoader(counting, { ...options, workers: 0 });
    const plan1 = epochBatches(30, 1, { ...options, dropLast: false });

    expect(await collect(loader.epoch(0))).toBe(await collect(reference.epoch(0)));
    await settle();
    // Epoch 0's 4 batches, then epoch 1's first 2 (the prefetch window), before epoch(1) is called.
    expect(asked.length).toBe(6);
    expect(asked.slice(4)).toEqual(plan1.slice(0, 2));

    expect(await collect(loader.epoch(1))).toBe(await collect(reference.epoch(1)));
    await settle();
    // Nothing was asked twice: epoch 1 took the 2 it had, then its other 2; then epoch 2's first 2.
    expect(asked.length).toBe(10);
    expect(asked.slice(6, 8)).toEqual(plan1.slice(2));
    await loader.close();
  });

  it('gives the epoch asked for when it is not the next one, and can be turned off', async () => {
    const { asked, threads } = recordingThreads();
    const loader = new DataLoader(counting, { ...options, threads, workers: 1, prefetch: 2 });
    const reference = new DataLoader(counting, { ...options, workers: 0 });
    await collect(loader.epoch(0));
    expect(await collect(loader.epoch(5))).toBe(await collect(reference.epoch(5)));
    await loader.close();

    const off = recordingThreads();
    const plain = new DataLoader(counting, { ...options, threads: off.threads, workers: 1, prefetch: 2, prefetchNextEpoch: false });
    await collect(plain.epoch(0));
    await settle();
    expect(off.asked.length).toBe(4);
    await plain.close();
    expect(asked.length).toBeGreaterThanOrEqual(8);
  });

  it('decodeAhead requests an epoch before it is iterated, and the epoch serves those batches once', async () => {
    const { asked, threads } = recordingThreads();
    const loader = new DataLoader(counting, { ...options, threads, workers: 1, prefetch: 3 });
    const reference = new DataLoader(counting, { ...options, workers: 0 });
    const plan2 = epochBatches(30, 2, { ...options, dropLast: false });
    loader.decodeAhead(2);
    loader.decodeAhead(2); // already requested: nothing more
    await settle();
    expect(asked).toEqual(plan2.slice(0, 3));
    expect(await collect(loader.epoch(2))).toBe(await collect(reference.epoch(2)));
    // The pass took the 3 it had and asked for its last one only.
    expect(asked.slice(3, 4)).toEqual(plan2.slice(3));
    await loader.close();
    // Without workers there is nothing to start.
    reference.decodeAhead(0);
    await reference.close();
  });
});

describe('GpuBatches: how far a source decodes ahead', () => {
  const { threads } = recordingThreads();
  const o = { batchSize: 32, size: 128, workers: 1, threads };
  const images = (n: number) => new CountingDataset({ range: [1, 5], perClass: n / 5, size: 32, seed: 1 });
  it('keeps the DataLoader\'s window when training, and a whole validation pass within the budget', () => {
    expect(new GpuBatches(images(400), { ...o, train: true }).prefetch).toBe(2);
    // 100 images, 4 batches of 1.5 MB: the whole pass.
    expect(new GpuBatches(images(100), { ...o, train: false }).prefetch).toBe(4);
    // 2000 images at 128 px: 63 batches, 42 fit in 64 MiB.
    expect(new GpuBatches(images(2000), { ...o, train: false }).prefetch).toBe(42);
    // Never below the default window (2 per worker), however large a batch.
    expect(new GpuBatches(images(100), { ...o, train: false, workers: 3, aheadBytes: 1 }).prefetch).toBe(6);
  });
});
