/**
 * Training and validation batches on the GPU: the DataLoader decodes and resizes on
 * the CPU (in workers given `threads`, else in the calling thread), each batch is
 * uploaded once as uint8, then one augmentation kernel crops, flips, rotates, zooms,
 * warps, lights and normalises it.
 * Implements @tessera/nn's BatchSource structurally ({ numBatches, batches(epoch) }),
 * so vision does not depend on nn. Every random draw follows from (seed, epoch,
 * batch), so a resumed run sees the same batches as an uninterrupted one.
 * Images that cannot be decoded are skipped by the DataLoader (replaced in shuffled training
 * batches, left out of evaluation batches) and listed in `skipped`.
 */
import { type Tensor, tensor } from '@tessera/tensor';
import type { VisionDataset } from './datasets/dataset.js';
import { DataLoader, type LoaderStats } from './loader.js';
import type { LoaderThreads } from './loader/messages.js';
import type { BadShareLimit, SkippedItem, SkippedItems } from './loader/skipped.js';
import { augmentBatch, uploadBatch } from './augment/kernel.js';
import { sampleAugmentParams, type AugmentOptions, type NormalizeSpec } from './augment/params.js';
import { mixSeed } from './random.js';

export interface GpuBatchOptions {
  batchSize: number;
  /** Output size (square). */
  size: number;
  /** Training: shuffled, augmented, last partial batch dropped. Validation: in order, centre crop. */
  train: boolean;
  /** Override the shuffling and dropping that `train` implies (test-time augmentation wants neither). */
  shuffle?: boolean;
  dropLast?: boolean;
  /**
   * Size the CPU fits images to before the GPU crops them (fastai's "presizing"):
   * a little larger than `size` for training, so crops and rotations keep detail.
   */
  workSize?: number;
  augment?: Partial<AugmentOptions>;
  normalize?: NormalizeSpec;
  seed?: number;
  /** The DataLoader's workers: how to start them, and how many (see DataLoaderOptions). */
  threads?: LoaderThreads;
  workers?: number;
  /** Share of the dataset that may fail to decode before batches stop with an error (default 0.1). */
  maxBadFraction?: number;
  /** A limit shared with other sources (a run's training and validation sets); replaces `maxBadFraction`. */
  badShareLimit?: BadShareLimit;
  /** Hears each image that could not be decoded, once (see DataLoaderOptions). */
  onSkip?: (item: SkippedItem) => void;
  /** Share the record of undecodable images with another source over the same dataset (TTA). */
  skipped?: SkippedItems;
  /**
   * Decoded bytes the workers may keep ready ahead of the consumer. Default: the DataLoader's
   * window (2 batches per worker) when training; for validation (`train: false`) a whole pass up
   * to VALID_AHEAD_BYTES, since that source sits idle between passes and `decodeAhead` fills it
   * during training.
   */
  aheadBytes?: number;
}

/** What a validation source may hold decoded ahead by default (a pass of 400 images at 224 px is 60 MB). */
export const VALID_AHEAD_BYTES = 64 * 2 ** 20;

export interface GpuBatch {
  x: Tensor;
  y: Tensor;
  size: number;
  /** Dataset indices in batch order (for top-losses pictures). */
  indices: Int32Array;
}

export class GpuBatches {
  private readonly loader: DataLoader;
  private readonly opts: Required<Pick<GpuBatchOptions, 'batchSize' | 'size' | 'train' | 'workSize' | 'seed'>> & GpuBatchOptions;

  constructor(
    readonly dataset: VisionDataset,
    opts: GpuBatchOptions,
  ) {
    const workSize = opts.workSize ?? (opts.train ? Math.round(opts.size * 1.25) : opts.size);
    this.opts = { seed: 0, ...opts, workSize };
    this.loader = new DataLoader(dataset, {
      prefetchBytes: opts.aheadBytes ?? (opts.train ? undefined : VALID_AHEAD_BYTES),
      batchSize: opts.batchSize,
      size: workSize,
      shuffle: opts.shuffle ?? opts.train,
      dropLast: opts.dropLast ?? (opts.train && dataset.length > opts.batchSize),
      seed: this.opts.seed,
      threads: opts.threads,
      workers: opts.workers,
      maxBadFraction: opts.maxBadFraction,
      badShareLimit: opts.badShareLimit,
      onSkip: opts.onSkip,
      skipped: opts.skipped,
    });
  }

  /** Images that could not be decoded so far, each once. */
  get skipped(): SkippedItem[] {
    return this.loader.skipped;
  }

  /** The record itself, to share with another source over the same dataset. */
  get skipRecord(): SkippedItems {
    return this.loader.skipRecord;
  }

  get numBatches(): number {
    return this.loader.length;
  }

  /** Batches the loader keeps requested ahead of the consumer (see `aheadBytes`). */
  get prefetch(): number {
    return this.loader.prefetch;
  }

  get stats(): LoaderStats {
    return this.loader.stats;
  }

  async *batches(epoch: number): AsyncGenerator<GpuBatch> {
    let b = 0;
    for await (const batch of this.loader.epoch(epoch)) {
      const [B, H, W] = batch.shape;
      const params = sampleAugmentParams({
        batchSize: B,
        height: H,
        width: W,
        size: this.opts.size,
        train: this.opts.train,
        seed: mixSeed(mixSeed(this.opts.seed, epoch), b++),
        options: this.opts.augment,
      });
      const packed = uploadBatch(batch.images, batch.shape);
      const x = augmentBatch(packed, params, { normalize: this.opts.normalize });
      packed.dispose();
      const y = tensor(batch.labels, [B], 'i32');
      yield { x, y, size: B, indices: batch.indices };
    }
  }

  /** Starts decoding pass `epoch` ahead of its use, up to the window (see DataLoader.decodeAhead). */
  decodeAhead(epoch: number): void {
    this.loader.decodeAhead(epoch);
  }

  close(): Promise<void> {
    return this.loader.close();
  }
}
