/**
 * DataLoader: batches of a dataset, epoch after epoch, decoded and resized ahead of time in
 * workers so the training loop (and the GPU) wait as little as possible. Which workers is the
 * `threads` option: @tessera/vision/node's `workerThreads` in Node, `webWorkers(...)` in a browser;
 * without it the loader decodes in the calling thread, giving the event loop a turn every
 * ~30 ms (a page's main thread stays responsive).
 *
 * Each epoch's order is a seeded permutation derived from (seed, epoch): runs are reproducible and
 * any epoch can be replayed on its own. Up to `prefetch` batches are requested ahead of the one
 * being consumed; batches are yielded in order whichever worker finishes first. Every batch is one
 * NHWC uint8 buffer plus int32 labels, transferred from the worker without copying.
 * `stats.waitMs` is the time the consumer spent blocked on data: near zero means the loader keeps
 * up; growing means more workers (or a disk cache) would help.
 *
 * A file that cannot be decoded never ends an epoch: it is reported once (`onSkip`, `skipped`),
 * remembered and not tried again. When training ('replace', the default with shuffling) its place
 * in the batch goes to another item, drawn deterministically from (seed, epoch, batch), so batch
 * sizes (and the schedules laid out on them) stay as planned. When evaluating ('drop', the default
 * in order) it is left out: the batch is smaller and metrics are over the images that decoded
 * (substituting would count an image twice). More than `maxBadFraction` of the dataset failing
 * (or of a run's data, with a shared `badShareLimit`) stops the loader with an error naming some.
 */

import type { VisionDataset } from './datasets/dataset.js';
import { TesseraVisionError } from './errors.js';
import { loadBatch, type Batch, type BatchPixels } from './loader/batch.js';
import type { LoaderThreads } from './loader/messages.js';
import { batchCount, epochBatches, type SamplerOptions } from './loader/sampler.js';
import { BadShareLimit, DEFAULT_MAX_BAD_FRACTION, SkippedItems, type SkippedItem } from './loader/skipped.js';
import { mixSeed, permutation } from './random.js';
import { WorkerPool } from './loader/worker-pool.js';
import { resolveTarget, type ResolvedTarget, type SizeLike } from './target.js';

export type { Batch } from './loader/batch.js';

export interface DataLoaderOptions {
  batchSize: number;
  /** Size every image is fitted to (number n = n x n, centre-cropped). */
  size: SizeLike;
  /** Shuffle each epoch (default false, as in PyTorch; set it for training sets). */
  shuffle?: boolean;
  /** Seed of the per-epoch shuffles. Default 0. */
  seed?: number;
  /** Drop a last batch smaller than batchSize (default false). */
  dropLast?: boolean;
  /**
   * How to start workers: `workerThreads` from @tessera/vision/node, or `webWorkers(...)` in a
   * browser. Without it there are no workers (workers must be 0 or unset).
   */
  threads?: LoaderThreads;
  /**
   * Workers decoding ahead. Default `threads.defaultCount()` (Node: min(4, cores - 1), at least 1),
   * or 0 without `threads`. 0 loads in the calling thread, when asked for (no prefetch): for
   * debugging, datasets that cannot describe themselves as a spec, or a page without workers.
   */
  workers?: number;
  /** Batches requested ahead of the one being consumed. Default 2 per worker. */
  prefetch?: number;
  /**
   * Widens the window to as many batches as fit in this many bytes of decoded images (never below
   * `prefetch`, never past an epoch): for a source that sits idle between passes (validation).
   */
  prefetchBytes?: number;
  /**
   * With workers: once an epoch has requested all its batches, fill the prefetch window with the
   * next epoch's first ones (default true), so they are ready when it starts. Asking for another
   * epoch than the next withdraws them (those a worker has started are decoded for nothing).
   */
  prefetchNextEpoch?: boolean;
  /**
   * An item that cannot be decoded: 'replace' it with another item (training: batch sizes stay
   * constant) or 'drop' it (evaluation: nothing counted twice). Default 'replace' when shuffling.
   */
  badItems?: 'replace' | 'drop';
  /** Share of the dataset that may fail to decode before the loader throws. Default 0.1; 1 never throws. */
  maxBadFraction?: number;
  /** A limit shared with other loaders (a run's training and validation sets); replaces `maxBadFraction`. */
  badShareLimit?: BadShareLimit;
  /** Hears each item that could not be decoded, once, when it is found. */
  onSkip?: (item: SkippedItem) => void;
  /** A record shared with other loaders over the same dataset (then `onSkip` belongs to the record). */
  skipped?: SkippedItems;
}

export interface LoaderStats {
  epochs: number;
  batches: number;
  items: number;
  /** Time the consumer spent awaiting batches that were not ready yet. */
  waitMs: number;
  /** Time spent producing batches (summed over workers; can exceed wall time). */
  workMs: number;
}

/** One epoch's batches being requested: its plan, the requests in flight, how to withdraw them. */
interface Fetching {
  epoch: number;
  plan: number[][];
  pending: Promise<BatchPixels>[];
  requested: number;
  abandon: AbortController;
  produce: (indices: number[]) => Promise<BatchPixels>;
}

/** In-thread loading gives the event loop a turn at least this often (ms). */
const IN_THREAD_SLICE_MS = 30;
/** Salt of the replacement draws, so they are not the epoch's own order. */
const REPLACEMENT_SALT = 0x5eed_bad;

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`DataLoader ${name} must be a positive integer, got ${value}`);
  return value;
}

export class DataLoader {
  readonly target: ResolvedTarget;
  readonly workers: number;
  readonly prefetch: number;
  private readonly sampler: SamplerOptions;
  private readonly threads: LoaderThreads | undefined;
  private readonly badItems: 'replace' | 'drop';
  private readonly badShareLimit: BadShareLimit;
  /** Items that could not be decoded (shared with other loaders when given). */
  readonly skipRecord: SkippedItems;
  private pool: WorkerPool | null = null;
  private nextEpoch = 0;
  /** The next epoch's first batches, requested once the current epoch has asked for all of its own. */
  private ahead: Fetching | null = null;
  private readonly prefetchNextEpoch: boolean;
  private active = false;
  private closed = false;
  private readonly totals: LoaderStats = { epochs: 0, batches: 0, items: 0, waitMs: 0, workMs: 0 };

  constructor(
    readonly dataset: VisionDataset,
    options: DataLoaderOptions,
  ) {
    this.target = resolveTarget(options.size);
    this.sampler = {
      batchSize: positiveInteger('batchSize', options.batchSize),
      shuffle: options.shuffle ?? false,
      seed: options.seed ?? 0,
      dropLast: options.dropLast ?? false,
    };
    this.threads = options.threads;
    const workers = options.workers ?? this.threads?.defaultCount() ?? 0;
    if (!Number.isInteger(workers) || workers < 0) throw new RangeError(`DataLoader workers must be an integer >= 0, got ${workers}`);
    if (workers > 0 && !this.threads) {
      throw new RangeError(
        `DataLoader workers: ${workers} needs threads to run them: workerThreads from '@tessera/vision/node' in Node, ` +
          'webWorkers(...) in a browser, or workers: 0',
      );
    }
    this.workers = workers;
    const base = positiveInteger('prefetch', options.prefetch ?? Math.max(1, 2 * workers));
    const batchBytes = this.sampler.batchSize * this.target.width * this.target.height * 3;
    this.prefetch = options.prefetchBytes === undefined ? base : Math.max(base, Math.min(this.length, Math.floor(options.prefetchBytes / batchBytes)));
    this.prefetchNextEpoch = options.prefetchNextEpoch ?? true;
    this.badItems = options.badItems ?? (this.sampler.shuffle ? 'replace' : 'drop');
    this.skipRecord = options.skipped ?? new SkippedItems(options.onSkip);
    this.badShareLimit = options.badShareLimit ?? new BadShareLimit(dataset.length, options.maxBadFraction ?? DEFAULT_MAX_BAD_FRACTION);
    this.badShareLimit.watch(this.skipRecord);
  }

  /** Items that could not be decoded so far, each once, in the order found. */
  get skipped(): SkippedItem[] {
    return this.skipRecord.list;
  }

  /** Batches per epoch. */
  get length(): number {
    return batchCount(this.dataset.length, this.sampler);
  }

  /** Totals since construction (copies; safe to keep). */
  get stats(): LoaderStats {
    return { ...this.totals };
  }

  /** The next epoch (0, 1, 2...) each time the loader itself is iterated. */
  [Symbol.asyncIterator](): AsyncGenerator<Batch> {
    return this.epoch(this.nextEpoch++);
  }

  /** Batches of epoch `epoch`: the same batches every time for the same seed and epoch. */
  async *epoch(epoch: number): AsyncGenerator<Batch> {
    if (this.closed) throw new TesseraVisionError('the DataLoader was closed');
    if (this.active) throw new TesseraVisionError('a DataLoader epoch is still being iterated; finish it or break out of it first');
    this.active = true;
    // The batches the last epoch already asked for, when it is this epoch; anything else is withdrawn.
    const fetch = this.ahead?.epoch === epoch ? this.ahead : this.fetching(epoch);
    if (fetch !== this.ahead) this.dropAhead();
    this.ahead = null;
    const topUp = () => {
      this.fill(fetch);
      // The window runs on into the next epoch: its first batches decode during this epoch's last
      // steps and whatever runs between two epochs (validation, metrics, a checkpoint), so the next
      // epoch does not start by waiting for data.
      if (fetch.requested < fetch.plan.length || !this.prefetchNextEpoch) return;
      const next = (this.ahead ??= this.fetching(epoch + 1));
      while (next.requested < next.plan.length && fetch.pending.length + next.pending.length < this.prefetch) this.request(next);
    };
    let finished = false;
    try {
      this.totals.epochs++;
      for (let b = 0; b < fetch.plan.length; b++) {
        // In-thread mode produces on demand: nothing could run ahead of the consumer anyway.
        if (this.workers > 0) topUp();
        else this.request(fetch);
        const started = performance.now();
        const pixels = await fetch.pending.shift()!;
        this.totals.waitMs += performance.now() - started;
        this.totals.workMs += pixels.workMs;
        if (this.workers > 0) topUp(); // refill before handing control to the consumer
        const { indices } = pixels;
        if (indices.length === 0) continue; // every item of it failed ('drop')
        this.totals.batches++;
        this.totals.items += indices.length;
        yield {
          images: pixels.images,
          labels: pixels.labels,
          indices,
          shape: [indices.length, this.target.height, this.target.width, 3] as const,
        };
      }
      finished = true;
    } finally {
      fetch.abandon.abort(); // withdraws prefetched requests no worker has started (early break, error)
      if (!finished) this.dropAhead();
      this.active = false;
    }
  }

  /**
   * Starts decoding `epoch` before it is iterated: its first batches, up to the prefetch window,
   * are requested now (a validation loader's first pass decodes during the first training pass,
   * when its workers are idle). Without workers, while an epoch is being iterated, or when they
   * are already requested, it does nothing; `epoch(epoch)` then serves them.
   */
  decodeAhead(epoch: number): void {
    if (this.closed || this.active || this.workers === 0 || this.ahead?.epoch === epoch) return;
    this.dropAhead();
    this.fill((this.ahead = this.fetching(epoch)));
  }

  /** Requests `f`'s next planned batches until the window is full (or the epoch fully requested). */
  private fill(f: Fetching): void {
    while (f.requested < f.plan.length && f.pending.length < this.prefetch) this.request(f);
  }

  /** Withdraws the next epoch's requests (those not started yet). */
  private dropAhead(): void {
    this.ahead?.abandon.abort();
    this.ahead = null;
  }

  /** An epoch's plan with nothing requested yet. */
  private fetching(epoch: number): Fetching {
    const abandon = new AbortController();
    return { epoch, plan: epochBatches(this.dataset.length, epoch, this.sampler), pending: [], requested: 0, abandon, produce: this.producer(abandon.signal) };
  }

  /** Asks for the next planned batch of `f`. */
  private request(f: Fetching): void {
    const b = f.requested++;
    const p = this.loadPlanned(f.produce, f.plan[b]!, f.epoch, b);
    p.catch(() => {}); // handled when awaited; avoids an unhandled rejection while queued
    f.pending.push(p);
  }

  /**
   * One planned batch, its undecodable items left out ('drop') or replaced ('replace'). The result
   * does not depend on when a bad item was found (before the request or in it): the batch is always
   * the planned items that decode, in order, then the first replacement draws that decode.
   */
  private async loadPlanned(produce: (indices: number[]) => Promise<BatchPixels>, planned: number[], epoch: number, b: number): Promise<BatchPixels> {
    let request = planned.filter((i) => !this.skipRecord.has(i));
    let missing = planned.length - request.length;
    const draws = this.badItems === 'replace' ? this.replacements(planned, epoch, b) : null;
    const parts: BatchPixels[] = [];
    for (;;) {
      if (draws) {
        for (; missing > 0; missing--) {
          const next = draws.next();
          if (next.done) break; // nothing good left to draw: the batch stays short
          request.push(next.value);
        }
      }
      if (request.length === 0) break;
      const pixels = await produce(request);
      parts.push(pixels);
      for (const item of pixels.failed) this.skipRecord.add(item);
      this.badShareLimit.check();
      missing = pixels.failed.length;
      request = [];
      if (!draws || missing === 0) break;
    }
    return mergePixels(parts, this.target.width * this.target.height * 3);
  }

  /** Replacement candidates for batch `b` of `epoch`: a seeded order of the other items, known-bad ones passed over. */
  private *replacements(planned: readonly number[], epoch: number, b: number): Generator<number> {
    const inBatch = new Set(planned);
    const order = permutation(this.dataset.length, mixSeed(mixSeed(mixSeed(this.sampler.seed, epoch), b), REPLACEMENT_SALT));
    for (const i of order) if (!inBatch.has(i) && !this.skipRecord.has(i)) yield i;
  }

  /** Stops the workers. The loader cannot be used afterwards. */
  async close(): Promise<void> {
    this.closed = true;
    this.dropAhead();
    const pool = this.pool;
    this.pool = null;
    await pool?.close();
  }

  private producer(signal: AbortSignal): (indices: number[]) => Promise<BatchPixels> {
    if (this.workers === 0) return (indices) => loadBatch(this.dataset, indices, this.target, IN_THREAD_SLICE_MS);
    // Workers start on first use and live across epochs: their start-up (and warm caches) is paid once.
    this.pool ??= new WorkerPool(this.workers, this.dataset.spec(), this.threads!);
    const pool = this.pool;
    return (indices) => pool.run(indices, this.target, signal);
  }
}

/** Several partial loads of one batch as one, in order. */
function mergePixels(parts: BatchPixels[], itemBytes: number): BatchPixels {
  if (parts.length === 1) return parts[0]!;
  const count = parts.reduce((n, p) => n + p.indices.length, 0);
  const merged: BatchPixels = {
    images: new Uint8Array(count * itemBytes),
    labels: new Int32Array(count),
    indices: new Int32Array(count),
    failed: parts.flatMap((p) => p.failed),
    workMs: parts.reduce((t, p) => t + p.workMs, 0),
  };
  let at = 0;
  for (const p of parts) {
    merged.images.set(p.images, at * itemBytes);
    merged.labels.set(p.labels, at);
    merged.indices.set(p.indices, at);
    at += p.indices.length;
  }
  return merged;
}
