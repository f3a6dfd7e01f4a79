/**
 * @tessera/vision, CPU side: image files -> upright RGB -> fitted to a size -> NHWC uint8 batches.
 *
 * decode/    JPEG and PNG by content, Exif orientation, header-first size limits
 * resize.ts  antialiased bilinear and align-corners bilinear; crop.ts exact crops
 * target.ts  the output size and fit ('crop' | 'squish') as one value
 * cache/     memory LRU (by bytes) and atomic on-disk cache of prepared images
 * datasets/  ImageFolder, the synthetic counting task, subsets and seeded splits
 * loader.ts  DataLoader with worker threads, seeded per-epoch shuffles and prefetch
 */

export { ImageDecodeError, TesseraVisionError } from './errors.js';
export { assertRgbImage, createImage, imageBytes, type RgbImage } from './image.js';

export { decodeImage, decodeImageFile, readImageBytes } from './decode/decode.js';
export { DEFAULT_MAX_PIXELS, type DecodeOptions } from './decode/options.js';
export { detectFormat, type ImageFormat } from './decode/format.js';
export { readImageInfo, type ImageInfo } from './decode/image-info.js';
export { probeImageFile } from './decode/probe.js';
export { readExifOrientation, type ExifOrientation } from './decode/exif.js';
export { applyOrientation } from './decode/orientation.js';
export { encodePng } from './encode/png.js';
export { writeFileAtomic } from './util/atomic-write.js';

export {
  centredCoverRegion, resize, resizeAndCentreCrop, resizeRegion, resizeShorterSide,
  type Region, type ResizeMode, type ResizeOptions,
} from './resize.js';
export { centreCrop, crop } from './crop.js';
export { fitImage, resolveTarget, targetKey, type Fit, type ResolvedTarget, type SizeLike, type TargetSize } from './target.js';

export { ByteLru } from './cache/lru.js';
export { DiskImageCache } from './cache/disk-cache.js';
export { ImageCache, type ImageCacheOptions } from './cache/image-cache.js';
export { imageCacheKey } from './cache/cache-key.js';

export { mixSeed, mulberry32, permutation, shuffleInPlace, type Random } from './random.js';

export type { VisionDataset } from './datasets/dataset.js';
export { datasetFromSpec, type DatasetSpec } from './datasets/spec.js';
export { FileDataset, type FileDatasetOptions, type FileDecodeOptions, type FileItem } from './datasets/file-dataset.js';
export { ImageFolder, type ImageFolderOptions, type SkippedFile } from './datasets/image-folder.js';
export { IMAGE_EXTENSIONS } from './datasets/image-files.js';
export { randomSplit, type Split } from './datasets/split.js';
export { SubsetDataset, splitDataset } from './datasets/subset.js';
export {
  CountingDataset, countingClassNames, writeCountingDataset,
  type CountingOptions, type WriteCountingOptions, type WrittenCountingDataset,
} from './datasets/counting.js';
export { placeDiscs, type Disc } from './synth/disc-layout.js';
export { MATPLOTLIB_BLUE, renderDiscs } from './synth/disc-render.js';

export { DataLoader, type Batch, type DataLoaderOptions, type LoaderStats } from './loader.js';

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
export { showBatch, renderBatchGrid, type ShowBatchOptions, type HostBatch } from './pictures/grid.js';
export {
  lineChart, renderLineChart, confusionMatrix, renderConfusionMatrix,
  type LineSeries, type LineChartOptions, type ConfusionMatrixOptions,
} from './pictures/chart.js';
export { Raster, writePng, type Rgb } from './pictures/raster.js';
export { GpuBatches, type GpuBatch, type GpuBatchOptions } from './gpu-batches.js';
