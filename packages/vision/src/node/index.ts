/**
 * The Node-only part of @tessera/vision: image files and folders on disk,
 * the disk cache, worker threads for the DataLoader, and pictures written as PNG files.
 * Everything else (and everything a browser can run) is in the main entry, @tessera/vision.
 * @module @tessera/vision/node
 */

export { decodeImageFile, readImageBytes } from './read-image.js';
export { probeImageFile } from './probe.js';
export { writeFileAtomic } from './atomic-write.js';

export { DiskImageCache } from './cache/disk-cache.js';
export { ImageCache, type ImageCacheOptions } from './cache/image-cache.js';
export { imageCacheKey } from './cache/cache-key.js';

export { FileDataset, type FileDatasetOptions, type FileDecodeOptions, type FileItem } from './file-dataset.js';
export { ImageFolder, type ImageFolderOptions, type SkippedFile } from './image-folder.js';
export { listImageFiles, listSubfolders } from './list-files.js';
export { nodeDatasetFromSpec } from './spec.js';
export { writeCountingDataset, type WriteCountingOptions, type WrittenCountingDataset } from './counting-files.js';

export { workerThreads, spawnLoaderWorker } from './spawn.js';

export { svgToPng, writePng, showBatch, lineChart, confusionMatrix, type WrittenPicture } from './pictures.js';
