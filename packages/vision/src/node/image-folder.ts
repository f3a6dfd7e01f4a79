/**
 * ImageFolder: a folder on disk with one sub-folder per class, as fastai's `from_folder` and
 * torchvision's ImageFolder read it. The layout rules (train/valid or a seeded random split,
 * sorted class names, skipped files) are ../datasets/folder-layout.ts, shared with the browser's
 * MemoryImageFolder; this file walks the real folder and checks each file from its header (or
 * decodes it, with verify: 'decode').
 */

import { stat } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { DEFAULT_MAX_PIXELS } from '../decode/options.js';
import { SplitFolder, folderError, readFolderLayout, type FolderLayoutOptions, type FolderListing } from '../datasets/folder-layout.js';
import type { ImageCacheOptions } from './cache/image-cache.js';
import { FileDataset, type FileDecodeOptions } from './file-dataset.js';
import { FolderWalk, listSubfolders } from './list-files.js';
import { probeImageFile } from './probe.js';
import { decodeImageFile } from './read-image.js';

export type { SkippedFile } from '../datasets/folder-layout.js';

export interface ImageFolderOptions extends FolderLayoutOptions {
  decode?: FileDecodeOptions;
  cache?: ImageCacheOptions;
  /** 'header' (default) reads each file's header when opening; 'decode' decodes every image (slow, thorough). */
  verify?: 'header' | 'decode';
}

/** The folder on disk; one walk per open, so each real file is listed once across train/ and valid/. */
function diskListing(warn: (line: string) => void): FolderListing {
  const walk = new FolderWalk(warn);
  return { subfolders: listSubfolders, imageFiles: (dir) => walk.imageFiles(dir), join, relative };
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** A folder on disk; `root` is its absolute path. */
export class ImageFolder extends SplitFolder<FileDataset> {
  static async open(folder: string, options: ImageFolderOptions = {}): Promise<ImageFolder> {
    const root = resolve(folder);
    if (!(await isDirectory(root))) {
      const exists = await stat(root).then(() => true, () => false);
      throw folderError(
        exists
          ? `${root} is a file, not a folder; pass the folder that holds one sub-folder per class`
          : `folder ${root} does not exist; pass the folder that holds one sub-folder per class (or train/ and valid/)`,
      );
    }
    const decode = options.decode ?? {};
    const maxPixels = decode.maxPixels ?? DEFAULT_MAX_PIXELS;
    const check = options.verify === 'decode' ? (path: string) => decodeImageFile(path, decode) : (path: string) => probeImageFile(path, maxPixels);
    const warn = options.warn ?? ((line: string) => console.warn(line));
    const layout = await readFolderLayout(root, diskListing(warn), check, { ...options, warn });
    const datasetOptions = { decode: options.decode, cache: options.cache };
    return new ImageFolder(root, layout, (items) => new FileDataset(items, layout.classes, datasetOptions));
  }
}
