/**
 * Input pipeline cases (images/s):
 *  - loader: @tessera/vision's DataLoader over an image folder under $TESSERA_DATA
 *    (default ./data, as the CLI resolves it): `paintings` (512² JPEGs) and `hymenoptera`
 *    (photos of mixed sizes, up to 2592 px), every image decoded and resized/centre-cropped
 *    to 224² in worker threads. A subset of the training images is read twice: the first
 *    epoch starts the workers and warms their code, the second is timed. Total img/s is
 *    images / wall time of that epoch; per worker img/s is images / the workers' summed
 *    busy time (LoaderStats.workMs). No image cache is used (the loader's default).
 *    A dataset that is not there is skipped, with the reason printed.
 *  - augment: vision's `benchAugment`: GPU augmentation at 224² (random resized crop,
 *    flips, normalisation…) of uint8 batches of 460² sources, per batch: sample the
 *    parameters, upload, run the kernel, wait for the device.
 */
import { availableParallelism } from 'node:os';
import { resolve, join } from 'node:path';
import { existsSync, statSync } from 'node:fs';
import { DataLoader, SubsetDataset, benchAugment } from '@tessera/vision';
import { ImageFolder, workerThreads } from '@tessera/vision/node';
import type { BenchCase } from '../harness.js';

function dataDir(): string {
  return resolve(process.env.TESSERA_DATA ?? './data');
}

export function loaderCase(dataset: string, images: number, batchSize: number, workers: number): BenchCase {
  return {
    name: 'loader decode+resize',
    shape: `${dataset} →224² b${batchSize} ${images} imgs workers=${workers}`,
    items: batchSize,
    async run(ctx) {
      const folder = join(dataDir(), dataset);
      if (!existsSync(folder) || !statSync(folder).isDirectory()) {
        const why = process.env.TESSERA_DATA === undefined ? 'TESSERA_DATA is not set, so ./data was tried' : `TESSERA_DATA=${process.env.TESSERA_DATA}`;
        return { ms: Number.NaN, refs: [], skipped: `no folder ${folder} (${why}); point TESSERA_DATA at the folder holding ${dataset}/` };
      }
      const warnings: string[] = [];
      const f = await ImageFolder.open(folder, { warn: (line) => warnings.push(line) });
      const n = Math.min(images, f.train.length);
      // Spread over the (class-sorted) training set.
      const indices = Array.from({ length: n }, (_, i) => Math.floor((i * f.train.length) / n));
      const ds = new SubsetDataset(f.train, indices);
      const loader = new DataLoader(ds, { batchSize, size: 224, threads: workerThreads, workers, shuffle: false });
      try {
        for await (const _ of loader.epoch(0)) {
          // warm-up: worker start, JIT
        }
        const before = loader.stats;
        const t0 = performance.now();
        let batches = 0;
        let count = 0;
        for await (const b of loader.epoch(1)) {
          batches++;
          count += b.indices.length;
        }
        const wall = performance.now() - t0;
        const after = loader.stats;
        const workMs = after.workMs - before.workMs;
        const total = (count * 1000) / wall;
        const perWorker = (count * 1000) / workMs;
        ctx.log(`  ${dataset} workers=${workers}: ${total.toFixed(1)} img/s total, ${perWorker.toFixed(1)} img/s per worker`);
        const notes = [
          `total ${total.toFixed(1)} img/s (${count} images in ${(wall / 1000).toFixed(2)} s, second epoch); per worker ${perWorker.toFixed(1)} img/s ` +
            `(images / summed worker busy time ${(workMs / 1000).toFixed(2)} s); consumer waited ${(after.waitMs - before.waitMs).toFixed(0)} ms; ` +
            `${availableParallelism()} cores, loader default workers = ${Math.max(1, Math.min(4, availableParallelism() - 1))}`,
        ];
        if (warnings.length) notes.push(`${warnings.length} file(s) skipped by ImageFolder, e.g. ${warnings[0]}`);
        return { ms: wall / batches, refs: [], notes, extra: { totalImgPerSec: total, perWorkerImgPerSec: perWorker, workers } };
      } finally {
        await loader.close();
      }
    },
  };
}

export function augmentCase(batchSize: number): BenchCase {
  return {
    name: 'augment (GPU) 224²',
    shape: `b${batchSize} from 460² uint8`,
    items: batchSize,
    async run(ctx) {
      const iterations = Math.max(3, ctx.reps);
      const imgPerSec = await benchAugment(batchSize, 224, { iterations });
      return {
        ms: (batchSize * 1000) / imgPerSec,
        refs: [],
        notes: [`vision benchAugment(${batchSize}, 224, { iterations: ${iterations} }): sample params + upload + kernel + sync per batch, mean over the iterations`],
      };
    },
  };
}

export const pipelineCases: BenchCase[] = [
  loaderCase('paintings', 160, 16, 1),
  loaderCase('paintings', 160, 16, 2),
  loaderCase('hymenoptera', 96, 16, 2),
  augmentCase(16),
  augmentCase(64),
];
