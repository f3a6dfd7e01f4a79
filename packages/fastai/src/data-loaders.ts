/**
 * fastai's ImageDataLoaders: an image dataset split into training and validation, fitted to a size
 * (item transform), augmented on the GPU (batch transforms) and batched. A layer of names over
 * @tessera/vision: the datasets come from ImageFolder (Node), MemoryImageFolder (`File`s, a
 * browser) or CountingDataset, the batches from GpuBatches. It is @tessera/nn's DataLoaders
 * (train, valid, classes), so a Learner takes it as it is.
 */
import {
  BadShareLimit, COUNTING_AUGMENT, CountingDataset, DEFAULT_MAX_BAD_FRACTION, GpuBatches, IMAGENET_STATS, MemoryImageFolder,
  hostBatch, renderBatchGrid, splitDataset, withoutSkipped,
  type AugmentOptions, type FileLike, type LoaderThreads, type SkippedItem, type SkippedItems, type VisionDataset,
} from '@tessera/vision';
import { TesseraError, initDevice } from '@tessera/tensor';
import type { DataLoaders } from '@tessera/nn';
import { nodePlatform, requireNode } from './platform.js';
import { augmentFor, resize, type Resize } from './transforms.js';
import { picture, type Picture, type PictureOptions } from './pictures.js';

export interface ImageDataLoadersOptions {
  /** Share of the images held out for validation when the folder has no train/valid split (fastai's RandomSplitter: 0.2). */
  validPct?: number;
  /** Seeds the split, the shuffles and the augmentation (default 42). */
  seed?: number;
  /** fastai's item_tfms: the size images are fitted to, and how (default resize(224)). */
  itemTfms?: Resize;
  /** fastai's batch_tfms: augTransforms() for fastai's augmentation; default none (fastai's default). */
  batchTfms?: Partial<AugmentOptions> | null;
  /** Batch size (fastai: 64). */
  bs?: number;
  /** Loader workers (Node: worker threads; default: the CPU count, see DataLoaderOptions). */
  workers?: number;
  /** How to start loader workers; in Node, worker threads by default; in a browser, the calling thread unless given (webWorkers). */
  threads?: LoaderThreads;
  /** Percent of the images that may fail to decode before loading stops (default 10). */
  maxBadPct?: number;
  /** Decode every image when opening a folder instead of reading headers only (slow, thorough). */
  verify?: boolean;
  /** Hears each image that fails to decode (default: a warning line naming it). */
  onSkip?: (item: SkippedItem) => void;
}

export interface CountingOptions extends Omit<ImageDataLoadersOptions, 'itemTfms'> {
  /** Disc counts, lowest and highest (default [1, 5]). */
  range?: [number, number];
  perClass?: number;
  /** Image size; the images are drawn at it and squished, never cropped (default 64). */
  size?: number;
}

type Normalize = 'imagenet' | 'none';

/** Fewer than 2 training or 1 validation image: nothing to train or to measure on. */
export class TooFewImagesError extends TesseraError {
  constructor(readonly train: number, readonly valid: number) {
    super(`too few images: ${train} for training and ${valid} for validation; at least 2 and 1 are needed (give more images, or change validPct)`);
    this.name = 'TooFewImagesError';
  }
}

const warnSkip = (s: SkippedItem): void => console.warn(`skipping ${s.file}: ${s.reason}`);

interface Resolved {
  validPct: number;
  seed: number;
  item: Resize;
  bs: number;
  augment: Partial<AugmentOptions>;
  maxBadFraction: number;
  workers?: number;
  threads?: LoaderThreads;
  onSkip: (item: SkippedItem) => void;
  verify: boolean;
}

function resolveOptions(o: ImageDataLoadersOptions, defaultBatchTfms: Partial<AugmentOptions> | null = null): Resolved {
  const validPct = o.validPct ?? 0.2;
  if (!(validPct > 0 && validPct < 1)) throw new RangeError(`validPct must be between 0 and 1, got ${validPct}`);
  const bs = o.bs ?? 64;
  if (!(Number.isInteger(bs) && bs >= 2)) throw new RangeError(`bs must be an integer of at least 2 (BatchNorm needs more than one image per batch in training), got ${bs}`);
  const maxBadPct = o.maxBadPct ?? DEFAULT_MAX_BAD_FRACTION * 100;
  if (!(maxBadPct >= 0 && maxBadPct <= 100)) throw new RangeError(`maxBadPct must be between 0 and 100, got ${maxBadPct}`);
  const item = o.itemTfms ?? resize(224);
  return {
    validPct, seed: o.seed ?? 42, item, bs, augment: augmentFor(item, o.batchTfms === undefined ? defaultBatchTfms : o.batchTfms),
    maxBadFraction: maxBadPct / 100, workers: o.workers, threads: o.threads ?? nodePlatform()?.threads, onSkip: o.onSkip ?? warnSkip,
    verify: o.verify ?? false,
  };
}

export class ImageDataLoaders implements DataLoaders {
  /** The images fitted per batch; set by visionLearner from the architecture (fastai adds Normalize with the pretrained stats). */
  private norm: Normalize = 'imagenet';
  private sources: { train: GpuBatches; valid: GpuBatches } | null = null;
  /** --max-bad-pct over the whole dataset (opening, training and validation), shared by every loader. */
  readonly badShareLimit: BadShareLimit;

  private constructor(
    readonly trainDs: VisionDataset,
    readonly validDs: VisionDataset,
    readonly classes: string[],
    private readonly o: Resolved,
    /** One line saying what the data is (the CLI prints it). */
    readonly description: string,
    /** Files left out when the dataset was opened (unreadable). */
    readonly skippedAtOpen: number,
    /** fastai's presizing: training images are fitted a little larger on the CPU, then cropped on the GPU. False for drawn data. */
    private readonly presize: boolean,
  ) {
    if (trainDs.length < 2 || validDs.length < 1) {
      throw new TooFewImagesError(trainDs.length, validDs.length);
    }
    this.badShareLimit = new BadShareLimit(trainDs.length + validDs.length + skippedAtOpen, o.maxBadFraction, skippedAtOpen);
  }

  /** fastai's ImageDataLoaders.from_folder: class = parent folder; train/ and valid/ give the split, else a seeded random one. Node only. */
  static async fromFolder(path: string, opts: ImageDataLoadersOptions = {}): Promise<ImageDataLoaders> {
    const node = requireNode('ImageDataLoaders.fromFolder', 'use ImageDataLoaders.fromFiles with the picked or dropped files');
    const o = resolveOptions(opts);
    await initDevice();
    const f = await node.openFolder(path, { validPct: o.validPct, seed: o.seed, maxBadFraction: o.maxBadFraction, verify: o.verify });
    return new ImageDataLoaders(f.train, f.valid, f.classes, o, f.describe, f.skipped, true);
  }

  /** The same from `File`s (a picked or dropped folder in a browser) or anything with a name, a relative path and bytes. */
  static async fromFiles(files: ArrayLike<FileLike> | Iterable<FileLike>, opts: ImageDataLoadersOptions = {}): Promise<ImageDataLoaders> {
    const o = resolveOptions(opts);
    await initDevice();
    const f = await MemoryImageFolder.fromFiles(files, { validPct: o.validPct, seed: o.seed, maxBadFraction: o.maxBadFraction, verify: o.verify ? 'decode' : 'header' });
    const skipped = f.skipped.length ? `, ${f.skipped.length} unreadable files skipped` : '';
    const describe = `${f.root}: ${f.train.length} training and ${f.valid.length} validation images in ${f.classes.length} classes ` +
      `(${f.split === 'folders' ? 'train/valid folders' : `random ${Math.round(o.validPct * 100)}% validation split`})${skipped}`;
    return new ImageDataLoaders(f.train, f.valid, [...f.classes], o, describe, f.skipped.length, true);
  }

  /** fastai's DataLoaders.from_dsets for image datasets already split. */
  static async fromDatasets(train: VisionDataset, valid: VisionDataset, classes: readonly string[], opts: ImageDataLoadersOptions = {}, description = 'datasets'): Promise<ImageDataLoaders> {
    await initDevice();
    return new ImageDataLoaders(train, valid, [...classes], resolveOptions(opts), description, 0, true);
  }

  /**
   * The synthetic counting task (Tessera's own, no download): images of 1–5 discs, the class is
   * the count. Drawn at `size` and squished, never cropped; augmented without moving a disc out.
   */
  static async counting(opts: CountingOptions = {}): Promise<ImageDataLoaders> {
    await initDevice();
    const range = opts.range ?? [1, 5];
    const size = opts.size ?? 64;
    const perClass = opts.perClass ?? 400;
    const o = resolveOptions({ ...opts, itemTfms: resize(size, 'squish') }, COUNTING_AUGMENT);
    const ds = new CountingDataset({ range, perClass, size, seed: o.seed });
    const { train, valid } = splitDataset(ds, { validPct: o.validPct, seed: o.seed });
    const describe = `synthetic counting ${range[0]}-${range[1]}: ${ds.length} images (${perClass} per class, ${size} px, discs of radius ${ds.options.radius} px)`;
    return new ImageDataLoaders(train, valid, [...ds.classes], o, describe, 0, false);
  }

  get bs(): number {
    return this.o.bs;
  }
  get size(): number {
    return this.o.item.size;
  }
  get seed(): number {
    return this.o.seed;
  }
  get itemTfms(): Resize {
    return this.o.item;
  }
  get augment(): Partial<AugmentOptions> {
    return this.o.augment;
  }
  get normalize(): Normalize {
    return this.norm;
  }

  /** Sets the input normalisation (visionLearner does, from the architecture); batches made before are remade. */
  async setNormalize(n: Normalize): Promise<void> {
    if (n === this.norm) return;
    this.norm = n;
    // The images found undecodable so far stay known (and are not reported again) in the new batches.
    if (this.sources) this.skipRecords = { train: this.sources.train.skipRecord, valid: this.sources.valid.skipRecord };
    await this.close();
  }

  private skipRecords: { train: SkippedItems; valid: SkippedItems } | null = null;

  private make(): { train: GpuBatches; valid: GpuBatches } {
    if (this.sources) return this.sources;
    const { bs, seed, item, augment, threads, workers, onSkip } = this.o;
    const common = { batchSize: bs, size: item.size, seed, normalize: this.norm, threads, workers, badShareLimit: this.badShareLimit, onSkip };
    const prev = this.skipRecords;
    this.sources = {
      train: new GpuBatches(this.trainDs, { ...common, train: true, workSize: this.presize ? undefined : item.size, augment, skipped: prev?.train }),
      valid: new GpuBatches(this.validDs, { ...common, train: false, skipped: prev?.valid }),
    };
    return this.sources;
  }

  /** Training batches: shuffled, augmented, the last partial batch dropped. */
  get train(): GpuBatches {
    return this.make().train;
  }
  /** Validation batches: in order, centre-cropped, not augmented. */
  get valid(): GpuBatches {
    return this.make().valid;
  }

  /** The validation images that decoded, in the order of the validation batches (what interpretation's positions index). */
  validItems(): VisionDataset {
    return withoutSkipped(this.validDs, this.valid.skipped);
  }

  /** Images skipped so far: unusable when opened, or failing to decode since. */
  skippedFiles(): number {
    return this.skippedAtOpen + (this.sources ? this.sources.train.skipped.length + this.sources.valid.skipped.length : 0);
  }

  /**
   * The validation images with the training augmentation, in order and complete; each pass (an
   * "epoch" of this source) draws new augmentations (what tta averages over).
   */
  validAugmented(): GpuBatches {
    const { bs, seed, item, augment, threads } = this.o;
    return new GpuBatches(this.validDs, {
      batchSize: bs, size: item.size, train: true, shuffle: false, dropLast: false, seed: seed + 1, normalize: this.norm,
      augment, threads, badShareLimit: this.badShareLimit, skipped: this.valid.skipRecord,
    });
  }

  /** fastai's show_batch: a grid of the first training batch as augmented (maxN 9, 3 columns). */
  async showBatch(opts: PictureOptions & { maxN?: number; ncols?: number } = {}): Promise<Picture> {
    const { mean, std } = this.norm === 'imagenet' ? IMAGENET_STATS : { mean: [0, 0, 0], std: [1, 1, 1] };
    const grid = { mean, std, maxN: opts.maxN ?? 9, ncols: opts.ncols ?? 3 };
    for await (const b of this.train.batches(0)) {
      try {
        const labels = Array.from((await b.y.toArray()) as Int32Array, (i) => this.classes[i]!);
        const host = await hostBatch(b.x);
        return await picture('showBatch', opts.file, (p, file) => p.showBatch(host, labels, file, grid), () => renderBatchGrid(host, labels, grid));
      } finally {
        b.x.dispose();
        b.y.dispose();
      }
    }
    throw new RangeError('showBatch: the training set gives no batch');
  }

  /** Stops the loader workers. */
  async close(): Promise<void> {
    const s = this.sources;
    this.sources = null;
    if (s) {
      await s.train.close();
      await s.valid.close();
    }
  }
}
