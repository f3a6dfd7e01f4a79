import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';
import { CountingDataset } from './datasets/counting.js';
import { FileDataset } from './node/file-dataset.js';
import { SubsetDataset } from './datasets/subset.js';
import { TesseraVisionError } from './errors.js';
import { DataLoader, type Batch } from './loader.js';
import { serveLoaderWorker, webWorkers, type WebWorkerLike } from './loader/web-workers.js';
import { workerThreads } from './node/spawn.js';
import { encodeBaselineJpeg, gradientImage, writeImages } from './testing/images.js';
import { makeTempDir } from './testing/temp-dir.js';

const temp = makeTempDir();
afterAll(() => temp.remove());

const counting = new CountingDataset({ range: [1, 5], perClass: 6, size: 32, seed: 11 }); // 30 items

async function collect(loader: AsyncIterable<Batch>): Promise<Batch[]> {
  const batches: Batch[] = [];
  for await (const batch of loader) batches.push(batch);
  return batches;
}

/** A compact fingerprint of an epoch: indices, labels and a checksum of the pixels per batch. */
function fingerprint(batches: Batch[]): string {
  return JSON.stringify(batches.map((b) => [b.shape, [...b.indices], [...b.labels], b.images.reduce((a, v, i) => (a + v * (i % 251 + 1)) % 1_000_000_007, 0)]));
}

describe('DataLoader in the calling thread (workers: 0)', () => {
  it('batches NHWC uint8 with int32 labels, keeping the last partial batch', async () => {
    const loader = new DataLoader(counting, { batchSize: 8, size: 16, workers: 0 });
    expect(loader.length).toBe(4);
    const batches = await collect(loader);
    expect(batches.map((b) => b.shape)).toEqual([[8, 16, 16, 3], [8, 16, 16, 3], [8, 16, 16, 3], [6, 16, 16, 3]]);
    expect(batches[3]!.images).toBeInstanceOf(Uint8Array);
    expect(batches[3]!.images.length).toBe(6 * 16 * 16 * 3);
    expect(batches[3]!.labels).toBeInstanceOf(Int32Array);
    expect([...batches.flatMap((b) => [...b.indices])]).toEqual(Array.from({ length: 30 }, (_, i) => i)); // no shuffle by default
    for (const b of batches) expect([...b.labels]).toEqual([...b.indices].map((i) => counting.label(i)));
    const item9 = await counting.load(9, 16);
    expect(Buffer.from(batches[1]!.images.subarray(16 * 16 * 3, 2 * 16 * 16 * 3)).equals(Buffer.from(item9.data))).toBe(true);
    const stats = loader.stats;
    expect([stats.epochs, stats.batches, stats.items]).toEqual([1, 4, 30]);
    expect(stats.waitMs).toBeGreaterThan(0);
  });

  it('drops the partial batch when asked, and shuffles per epoch from the seed', async () => {
    const loader = new DataLoader(counting, { batchSize: 8, size: 8, workers: 0, shuffle: true, seed: 5, dropLast: true });
    expect(loader.length).toBe(3);
    const first = await collect(loader); // epoch 0
    const second = await collect(loader); // epoch 1
    expect(first.map((b) => b.shape[0])).toEqual([8, 8, 8]);
    expect(fingerprint(first)).not.toBe(fingerprint(second));
    const again = new DataLoader(counting, { batchSize: 8, size: 8, workers: 0, shuffle: true, seed: 5, dropLast: true });
    expect(fingerprint(await collect(again))).toBe(fingerprint(first));
    expect(fingerprint(await collect(again.epoch(0)))).toBe(fingerprint(first)); // any epoch replays on its own
    const indices = first.flatMap((b) => [...b.indices]);
    expect(new Set(indices).size).toBe(24);
    expect(indices).not.toEqual([...indices].sort((a, b) => a - b));
  });

  it('refuses a second epoch while one is being iterated', async () => {
    const loader = new DataLoader(counting, { batchSize: 8, size: 8, workers: 0 });
    const a = loader.epoch(0);
    await a.next();
    await expect(loader.epoch(1).next()).rejects.toThrow(/still being iterated/);
    await a.return(undefined);
    expect((await loader.epoch(1).next()).done).toBe(false);
  });
});

describe('DataLoader with worker threads', () => {
  it('produces exactly the batches of the in-thread path, for several epochs, and reports waiting', async () => {
    const options = { batchSize: 7, size: { width: 20, height: 12 }, shuffle: true, seed: 9 };
    const reference = new DataLoader(counting, { ...options, workers: 0 });
    const threaded = new DataLoader(counting, { ...options, threads: workerThreads, workers: 2, prefetch: 3 });
    try {
      for (let epoch = 0; epoch < 2; epoch++) {
        const expected = fingerprint(await collect(reference));
        const got = await collect(threaded);
        expect(got.map((b) => b.shape[0])).toEqual([7, 7, 7, 7, 2]);
        expect(fingerprint(got)).toBe(expected);
      }
      const stats = threaded.stats;
      expect([stats.epochs, stats.batches, stats.items]).toEqual([2, 10, 60]);
      expect(stats.waitMs).toBeGreaterThan(0); // at least the workers' start-up
      expect(stats.workMs).toBeGreaterThan(0);
    } finally {
      await threaded.close();
    }
  });

  it('loads files in workers (subsets too) and reports a bad file by name, then carries on', async () => {
    const dir = join(temp.path, 'files');
    const paths = writeImages(dir, 6, 30);
    const jpeg = encodeBaselineJpeg(gradientImage(40, 40));
    const bad = join(dir, 'cut.jpg');
    writeFileSync(bad, jpeg.subarray(0, jpeg.length - 200));
    const items = [...paths.map((path, i) => ({ path, label: i % 2 })), { path: bad, label: 0 }];
    const files = new FileDataset(items, ['even', 'odd']);
    const good = new SubsetDataset(files, [0, 1, 2, 3, 4, 5]);
    const loader = new DataLoader(good, { batchSize: 4, size: 16, threads: workerThreads, workers: 2 });
    const broken = new DataLoader(files, { batchSize: 4, size: 16, threads: workerThreads, workers: 1, maxBadFraction: 0.5 });
    try {
      const batches = await collect(loader);
      expect(batches.map((b) => [...b.labels])).toEqual([[0, 1, 0, 1], [0, 1]]);
      const inThread = await collect(new DataLoader(good, { batchSize: 4, size: 16, workers: 0 }));
      expect(fingerprint(batches)).toBe(fingerprint(inThread));

      // The bad file crosses the worker boundary as data: named, with its reason, and left out.
      const evaluated = await collect(broken);
      expect(evaluated.map((b) => [...b.indices])).toEqual([[0, 1, 2, 3], [4, 5]]);
      expect(broken.skipped).toEqual([{ index: 6, file: bad, reason: expect.stringMatching(/truncated/) as string }]);
      // The workers survive a bad item: the next epoch's first batch arrives.
      const next = await broken.epoch(1).next();
      expect(next.value?.shape).toEqual([4, 16, 16, 3]);
    } finally {
      await loader.close();
      await broken.close();
    }
  });

  it('survives breaking out of an epoch, and refuses use after close', async () => {
    const loader = new DataLoader(counting, { batchSize: 4, size: 8, threads: workerThreads, workers: 1, prefetch: 4 });
    for await (const batch of loader) {
      expect(batch.shape[0]).toBe(4);
      break; // leaves prefetched batches in flight
    }
    expect((await collect(loader)).length).toBe(8);
    await loader.close();
    await expect(collect(loader)).rejects.toThrow(TesseraVisionError);
  });

  it('works from compiled JavaScript (the dist layout), spawning loader-worker.js', async () => {
    // Emit every source file the way `tsc` does for this package (with isolatedModules, per-file
    // transpilation is the same emit), under node_modules so bare imports (jpeg-js, pngjs) resolve.
    const src = dirname(fileURLToPath(import.meta.url));
    const out = join(src, '..', 'node_modules', '.cache', `dist-test-${process.pid}`);
    rmSync(out, { recursive: true, force: true });
    try {
      const sources = readdirSync(src, { recursive: true })
        .map(String)
        .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.startsWith('testing'));
      for (const file of sources) {
        const { outputText } = ts.transpileModule(readFileSync(join(src, file), 'utf8'), {
          compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
          fileName: file,
        });
        const target = join(out, file.replace(/\.ts$/, '.js'));
        mkdirSync(dirname(target), { recursive: true });
        writeFileSync(target, outputText);
      }
      // The package's own subpath imports (#inflate), pointed at the transpiled files as dist's are.
      const manifest = JSON.parse(readFileSync(join(src, '..', 'package.json'), 'utf8')) as { imports: Record<string, { default: string }> };
      const imports = Object.fromEntries(Object.entries(manifest.imports).map(([k, v]) => [k, v.default.replace(/^\.\/dist\//, './')]));
      writeFileSync(join(out, 'package.json'), JSON.stringify({ type: 'module', imports }));
      const options = { batchSize: 7, size: 12, shuffle: true, seed: 2 };
      const script = `
        import { CountingDataset, DataLoader } from './index.js';
        import { workerThreads } from './node/index.js';
        const dataset = new CountingDataset({ range: [1, 5], perClass: 6, size: 32, seed: 11 });
        const loader = new DataLoader(dataset, { ...${JSON.stringify(options)}, threads: workerThreads, workers: 2 });
        const rows = [];
        for await (const b of loader) rows.push([[...b.indices], [...b.labels], b.images.reduce((a, v) => a + v, 0)]);
        await loader.close();
        console.log(JSON.stringify(rows));`;
      writeFileSync(join(out, 'run.mjs'), script);
      const stdout = execFileSync(process.execPath, [join(out, 'run.mjs')], { encoding: 'utf8', timeout: 60_000 });
      const expected = (await collect(new DataLoader(counting, { ...options, workers: 0 }))).map((b) => [
        [...b.indices], [...b.labels], b.images.reduce((a, v) => a + v, 0),
      ]);
      expect(JSON.parse(stdout)).toEqual(expected);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});

describe('DataLoader with Web Workers (the browser protocol, over MessageChannels)', () => {
  it('gives the same batches as the calling thread, and needs threads for workers', async () => {
    const options = { batchSize: 7, size: 12, shuffle: true, seed: 4 };
    const channels: MessageChannel[] = [];
    // Each "Web Worker" is one end of a channel; serveLoaderWorker runs on the other end, in-process.
    const create = (): WebWorkerLike => {
      const channel = new MessageChannel();
      channels.push(channel);
      serveLoaderWorker(channel.port2 as unknown as Parameters<typeof serveLoaderWorker>[0]);
      const port = channel.port1;
      return {
        set onmessage(fn: ((e: MessageEvent) => unknown) | null) { port.onmessage = fn as never; },
        get onmessage() { return port.onmessage as never; },
        onerror: null,
        postMessage: (m: unknown) => port.postMessage(m),
        terminate: () => { port.close(); channel.port2.close(); },
      };
    };
    const loader = new DataLoader(counting, { ...options, threads: webWorkers(create, { count: 2 }) });
    try {
      expect(loader.workers).toBe(2);
      const got = (await collect(loader)).map((b) => [[...b.indices], [...b.labels], b.images.reduce((a, v) => a + v, 0)]);
      const expected = (await collect(new DataLoader(counting, { ...options, workers: 0 }))).map((b) => [
        [...b.indices], [...b.labels], b.images.reduce((a, v) => a + v, 0),
      ]);
      expect(got).toEqual(expected);
      expect(channels).toHaveLength(2);
    } finally {
      await loader.close();
    }
    expect(() => new DataLoader(counting, { batchSize: 4, size: 8, workers: 2 })).toThrow(/needs threads/);
    expect(new DataLoader(counting, { batchSize: 4, size: 8 }).workers).toBe(0);
  });
});
