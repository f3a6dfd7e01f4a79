/**
 * ImageFolder: a folder with one sub-folder per class, as fastai's `from_folder` and torchvision's
 * ImageFolder read it.
 *
 * Layout: if `train/` and `valid/` (or `val/`) exist they are the split; otherwise all class
 * folders are pooled and split at random with `validPct` and `seed` (fastai's RandomSplitter).
 * Class names are the training class folders, sorted. Every file is checked from its header when
 * the folder is opened; files that are not decodable images (a GIF, a text file named .jpg, an
 * empty file, a decompression bomb) are skipped with one warning line each and listed in
 * `skipped`. Folder problems the user must fix (missing, empty, one class, a class without
 * images) throw a TesseraVisionError saying so.
 */

import { stat } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import type { ImageCacheOptions } from '../cache/image-cache.js';
import { decodeImageFile } from '../decode/decode.js';
import { DEFAULT_MAX_PIXELS } from '../decode/options.js';
import { probeImageFile } from '../decode/probe.js';
import { ImageDecodeError, TesseraVisionError } from '../errors.js';
import { FileDataset, type FileDecodeOptions, type FileItem } from './file-dataset.js';
import { listImageFiles, listSubfolders } from './image-files.js';
import { randomSplit } from './split.js';

export interface ImageFolderOptions {
  /** Fraction held out for validation when there is no train/valid layout. Default 0.2. */
  validPct?: number;
  /** Seed of the random split. Default 42. */
  seed?: number;
  decode?: FileDecodeOptions;
  cache?: ImageCacheOptions;
  /** 'header' (default) reads each file's header when opening; 'decode' decodes every image (slow, thorough). */
  verify?: 'header' | 'decode';
  /** Where warnings go (one line per skipped file). Default console.warn. */
  warn?: (line: string) => void;
}

export interface SkippedFile {
  path: string;
  reason: string;
}

const VALID_NAMES = ['valid', 'val'] as const;
const PROBE_CONCURRENCY = 16;

function folderError(message: string): TesseraVisionError {
  return new TesseraVisionError(`ImageFolder: ${message}`);
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

interface ClassFiles {
  name: string;
  dir: string;
  files: string[];
}

/** Class sub-folders of `dir` with their image files; throws for the folder problems a user must fix. */
async function readClassFolders(dir: string, role: string): Promise<ClassFiles[]> {
  const names = await listSubfolders(dir);
  if (names.length === 0) {
    const loose = await listImageFiles(dir);
    const hint = loose.length > 0 ? `it holds ${loose.length} image files directly; move them into one sub-folder per class` : 'expected one sub-folder per class, e.g. ants/ and bees/';
    throw folderError(`${role}folder ${dir} has no class sub-folders: ${hint}`);
  }
  const classes: ClassFiles[] = [];
  for (const name of names) {
    const classDir = join(dir, name);
    const files = await listImageFiles(classDir);
    if (files.length === 0) {
      throw folderError(`class folder ${classDir} has no image files (.jpg, .jpeg, .png...); add images or remove the folder`);
    }
    classes.push({ name, dir: classDir, files });
  }
  return classes;
}

/** Runs `check` on every path with bounded concurrency; returns the failures by path. */
async function findUnreadable(paths: readonly string[], check: (path: string) => Promise<unknown>): Promise<Map<string, string>> {
  const failures = new Map<string, string>();
  let next = 0;
  const worker = async () => {
    while (next < paths.length) {
      const path = paths[next++]!;
      try {
        await check(path);
      } catch (err) {
        if (!(err instanceof ImageDecodeError)) throw err;
        failures.set(path, err.reason);
      }
    }
  };
  await Promise.all(Array.from({ length: PROBE_CONCURRENCY }, worker));
  return failures;
}

export class ImageFolder {
  private constructor(
    /** Absolute path of the folder. */
    readonly root: string,
    readonly classes: readonly string[],
    readonly train: FileDataset,
    readonly valid: FileDataset,
    /** Files that looked like images but could not be used, in path order. */
    readonly skipped: readonly SkippedFile[],
    /** 'folders' when train/ and valid/ gave the split, 'random' when it was drawn with the seed. */
    readonly split: 'folders' | 'random',
  ) {}

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
    const subfolders = await listSubfolders(root);
    const validName = VALID_NAMES.find((name) => subfolders.includes(name));
    const hasSplitFolders = subfolders.includes('train') && validName !== undefined;

    let trainClasses: ClassFiles[];
    let validClasses: ClassFiles[] = [];
    if (hasSplitFolders) {
      trainClasses = await readClassFolders(join(root, 'train'), 'training ');
      validClasses = await readClassFolders(join(root, validName), 'validation ');
      const known = new Set(trainClasses.map((c) => c.name));
      const stray = validClasses.find((c) => !known.has(c.name));
      if (stray) throw folderError(`validation class folder ${stray.dir} has no matching folder in ${join(root, 'train')}`);
    } else {
      if (subfolders.includes('train') && (await listSubfolders(join(root, 'train'))).length > 0) {
        // train/ holding class folders means a split layout with its validation half missing;
        // pooling would wrongly make "train" (and "test") classes.
        throw folderError(
          `${root} has train/ but no valid/ or val/; add the validation folder, or open ${join(root, 'train')} to split it at random`,
        );
      }
      trainClasses = await readClassFolders(root, '');
    }
    if (trainClasses.length < 2) {
      throw folderError(
        `${trainClasses[0]!.dir} is the only class folder; a classifier needs at least two classes (one sub-folder per class)`,
      );
    }

    const classes = trainClasses.map((c) => c.name);
    const allFiles = [...trainClasses, ...validClasses].flatMap((c) => c.files);
    const decode = options.decode ?? {};
    const maxPixels = decode.maxPixels ?? DEFAULT_MAX_PIXELS;
    const check = options.verify === 'decode' ? (path: string) => decodeImageFile(path, decode) : (path: string) => probeImageFile(path, maxPixels);
    const failures = await findUnreadable(allFiles, check);
    const skipped = allFiles.filter((path) => failures.has(path)).map((path) => ({ path, reason: failures.get(path)! }));
    const warn = options.warn ?? ((line: string) => console.warn(line));
    for (const { path, reason } of skipped) warn(`ImageFolder: skipping ${path}: ${reason}`);

    const toItems = (group: ClassFiles[]): FileItem[] => {
      const items: FileItem[] = [];
      for (const c of group) {
        const usable = c.files.filter((path) => !failures.has(path));
        if (usable.length === 0) {
          throw folderError(`class folder ${c.dir} has no readable images (${c.files.length} skipped, e.g. ${relative(root, c.files[0]!)}: ${failures.get(c.files[0]!)})`);
        }
        const label = classes.indexOf(c.name);
        for (const path of usable) items.push({ path, label });
      }
      return items;
    };

    const datasetOptions = { decode: options.decode, cache: options.cache };
    if (hasSplitFolders) {
      const train = new FileDataset(toItems(trainClasses), classes, datasetOptions);
      const valid = new FileDataset(toItems(validClasses), classes, datasetOptions);
      return new ImageFolder(root, classes, train, valid, skipped, 'folders');
    }
    const items = toItems(trainClasses);
    const split = randomSplit(items.length, options.validPct ?? 0.2, options.seed ?? 42);
    const pick = (indices: number[]) => new FileDataset(indices.map((i) => items[i]!), classes, datasetOptions);
    return new ImageFolder(root, classes, pick(split.train), pick(split.valid), skipped, 'random');
  }
}
