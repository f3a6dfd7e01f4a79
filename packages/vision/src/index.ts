/**
 * Image bytes -> upright RGB -> fitted to a size -> NHWC uint8 batches -> GPU
 * augmentation. Everything here runs in a browser as well as in Node (no Node built-ins); files,
 * folders on disk and worker threads are @tessera/vision/node.
 *
 * decode/    JPEG and PNG by content (pure JavaScript), Exif orientation, header-first size limits
 * resize.ts  antialiased bilinear and align-corners bilinear; crop.ts exact crops
 * target.ts  the output size and fit ('crop' | 'squish') as one value
 * cache/     memory LRU (by bytes) of prepared images
 * datasets/  in-memory image folders (same layout rules as ImageFolder), the synthetic counting
 *            task, subsets and seeded splits
 * loader.ts  DataLoader: seeded per-epoch shuffles and prefetch, in workers (worker threads or Web
 *            Workers) or in the calling thread
 * @module @tessera/vision
 */

export { ImageDecodeError, TesseraVisionError } from './errors.js';
export { assertRgbImage, createImage, imageBytes, type RgbImage } from './image.js';

export { decodeImage } from './decode/decode.js';
export { DEFAULT_MAX_PIXELS, type DecodeOptions, type FileDecodeOptions } from './decode/options.js';
export { detectFormat, type ImageFormat } from './decode/format.js';
export { probeImage, readImageInfo, type ImageInfo } from './decode/image-info.js';
export { readExifOrientation, type ExifOrientation } from './decode/exif.js';
export { applyOrientation } from './decode/orientation.js';
export { encodePng } from './encode/png.js';

export {
  centredCoverRegion, resize, resizeAndCentreCrop, resizeRegion, resizeShorterSide,
  type Region, type ResizeMode, type ResizeOptions,
} from './resize.js';
export { centreCrop, crop } from './crop.js';
export { fitImage, resolveTarget, targetKey, type Fit, type ResolvedTarget, type SizeLike, type TargetSize } from './target.js';

export { ByteLru } from './cache/lru.js';

export { mixSeed, mulberry32, permutation, shuffleInPlace, type Random } from './random.js';

export type { VisionDataset } from './datasets/dataset.js';
export { datasetFromSpec, type DatasetSpec, type SpecBuilder } from './datasets/spec.js';
export {
  readFolderLayout, type FolderLayout, type FolderLayoutOptions, type FolderListing, type LabelledPath, type SkippedFile,
} from './datasets/folder-layout.js';
export {
  ImageBytesDataset, MemoryImageFolder, type BytesItem, type FileLike, type ImageBytesDatasetOptions, type MemoryImageFolderOptions,
} from './datasets/memory-folder.js';
export { IMAGE_EXTENSIONS, isImageFileName } from './datasets/image-files.js';
export { randomSplit, type Split } from './datasets/split.js';
export { SubsetDataset, splitDataset, withoutSkipped } from './datasets/subset.js';
export { COUNTING_MARGIN, CountingDataset, countingClassNames, defaultRadius, type CountingOptions } from './datasets/counting.js';
export { COUNTING_AUGMENT } from './datasets/counting-augment.js';
export { placeDiscs, type Disc } from './synth/disc-layout.js';
export { MATPLOTLIB_BLUE, renderDiscs } from './synth/disc-render.js';

export { DataLoader, type Batch, type DataLoaderOptions, type LoaderStats } from './loader.js';
export { loadBatch, yieldToEventLoop, type BatchPixels } from './loader/batch.js';
export { BadShareLimit, DEFAULT_MAX_BAD_FRACTION, SkippedItems, checkBadShare, type SkippedItem } from './loader/skipped.js';
export type { LoaderThreads, LoaderWorker, LoaderWorkerEvents, WorkerInit, BatchRequest, BatchReply } from './loader/messages.js';
export { answerBatch, serveLoaderWorker, webWorkers, type WebWorkerLike, type WorkerScopeLike } from './loader/web-workers.js';

// GPU augmentation (one kernel per batch, CPU twin for tests) and pictures.
export {
  AUGMENT_DEFAULTS, IMAGENET_STATS, augmentOptions, sampleAugmentParams, identityParams, imageParams,
  neutralDraws, packParams, pixelMatrix, PARAM_FLOATS,
  type AugmentOptions, type AugmentBatchParams, type ImageAugment, type AugmentDraws, type SampleAugmentArgs,
  type PadMode, type CropMode, type Normalization, type NormalizeSpec,
} from './augment/params.js';
export { uploadBatch, augmentBatch, type PackedImages, type AugmentKernelOptions } from './augment/kernel.js';
export { augmentReference } from './augment/reference.js';
export { benchAugment, type BenchAugmentOptions } from './augment/bench.js';
export { hostBatch, renderBatchGrid, type BatchGrid, type ShowBatchOptions, type HostBatch } from './pictures/grid.js';
export {
  renderLineChart, renderConfusionMatrix,
  type LineSeries, type LineChartOptions, type LineChart, type ConfusionMatrixOptions, type ConfusionMatrixPicture,
} from './pictures/chart.js';
export { blues, PALETTE, type Rgb } from './pictures/chart.js';
export { FONT_FAMILY } from './pictures/text.js';
export { GpuBatches, type GpuBatch, type GpuBatchOptions } from './gpu-batches.js';
