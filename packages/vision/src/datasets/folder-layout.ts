/**
 * How an image folder becomes a labelled dataset, as fastai's `from_folder` and torchvision's
 * ImageFolder read it, on any tree of files: a folder on disk (@tessera/vision/node's ImageFolder)
 * or files picked in a browser (MemoryImageFolder). One implementation, so both give the same
 * classes, items and seeded split for the same tree.
 *
 * Layout: if `train/` and `valid/` (or `val/`) exist they are the split; otherwise all class
 * folders are pooled and split at random with `validPct` and `seed` (fastai's RandomSplitter).
 * Class names are the training class folders, sorted. Every file is checked (by `check`) when the
 * folder is opened; files that are not decodable images (a GIF, a text file named .jpg, an empty
 * file, a decompression bomb) are skipped with one warning line each and listed in `skipped`.
 * Folder problems the user must fix (empty, one class, a class without images, more than
 * `maxBadFraction` of the files unusable) throw a TesseraVisionError saying so.
 */

import { ImageDecodeError, TesseraVisionError } from '../errors.js';
import { checkBadShare } from '../loader/skipped.js';
import { randomSplit } from './split.js';

/** A tree of files, seen the way ImageFolder reads it. Paths are the tree's own (joined by `join`). */
export interface FolderListing {
  /** Non-hidden sub-folders of `dir` (names), sorted by code point. */
  subfolders(dir: string): Promise<string[]>;
  /** Image files (by extension) anywhere under `dir`, hidden entries ignored, sorted; full paths. */
  imageFiles(dir: string): Promise<string[]>;
  join(dir: string, name: string): string;
  /** `path` relative to `root`, for messages. */
  relative(root: string, path: string): string;
}

export interface FolderLayoutOptions {
  /** Fraction held out for validation when there is no train/valid layout. Default 0.2. */
  validPct?: number;
  /** Seed of the random split. Default 42. */
  seed?: number;
  /** Where warnings go (one line per skipped file). Default console.warn. */
  warn?: (line: string) => void;
  /**
   * Share of the files that may be unusable before opening fails. Default 1 (never: a folder
   * opens as long as each class keeps an image, as torchvision's does); the CLI passes 0.1.
   */
  maxBadFraction?: number;
}

export interface SkippedFile {
  path: string;
  reason: string;
}

export interface LabelledPath {
  path: string;
  label: number;
}

export interface FolderLayout {
  classes: string[];
  train: LabelledPath[];
  valid: LabelledPath[];
  /** Files that looked like images but could not be used, in path order. */
  skipped: SkippedFile[];
  /** 'folders' when train/ and valid/ gave the split, 'random' when it was drawn with the seed. */
  split: 'folders' | 'random';
}

/** An opened image folder: its classes, training and validation datasets, and what was skipped. */
export class SplitFolder<D> {
  readonly classes: readonly string[];
  readonly train: D;
  readonly valid: D;
  /** Files that looked like images but could not be used, in path order. */
  readonly skipped: readonly SkippedFile[];
  /** 'folders' when train/ and valid/ gave the split, 'random' when it was drawn with the seed. */
  readonly split: 'folders' | 'random';

  protected constructor(
    readonly root: string,
    layout: FolderLayout,
    dataset: (items: LabelledPath[]) => D,
  ) {
    this.classes = layout.classes;
    this.train = dataset(layout.train);
    this.valid = dataset(layout.valid);
    this.skipped = layout.skipped;
    this.split = layout.split;
  }
}

const VALID_NAMES = ['valid', 'val'] as const;
const CHECK_CONCURRENCY = 16;

export function folderError(message: string): TesseraVisionError {
  return new TesseraVisionError(`ImageFolder: ${message}`);
}

interface ClassFiles {
  name: string;
  dir: string;
  files: string[];
}

/** Class sub-folders of `dir` with their image files; throws for the folder problems a user must fix. */
async function readClassFolders(listing: FolderListing, dir: string, role: string): Promise<ClassFiles[]> {
  const names = await listing.subfolders(dir);
  if (names.length === 0) {
    const loose = await listing.imageFiles(dir);
    const hint = loose.length > 0 ? `it holds ${loose.length} image files directly; move them into one sub-folder per class` : 'expected one sub-folder per class, e.g. ants/ and bees/';
    throw folderError(`${role}folder ${dir} has no class sub-folders: ${hint}`);
  }
  const classes: ClassFiles[] = [];
  for (const name of names) {
    const classDir = listing.join(dir, name);
    const files = await listing.imageFiles(classDir);
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
  await Promise.all(Array.from({ length: CHECK_CONCURRENCY }, worker));
  return failures;
}

/**
 * Reads the layout of the folder `root` through `listing`, checks every image file with `check`
 * (which throws an ImageDecodeError for an unusable file), and returns the classes, the labelled
 * training and validation files and what was skipped.
 */
export async function readFolderLayout(
  root: string,
  listing: FolderListing,
  check: (path: string) => Promise<unknown>,
  options: FolderLayoutOptions = {},
): Promise<FolderLayout> {
  const subfolders = await listing.subfolders(root);
  const validName = VALID_NAMES.find((name) => subfolders.includes(name));
  const hasSplitFolders = subfolders.includes('train') && validName !== undefined;
  const trainDir = listing.join(root, 'train');

  let trainClasses: ClassFiles[];
  let validClasses: ClassFiles[] = [];
  if (hasSplitFolders) {
    trainClasses = await readClassFolders(listing, trainDir, 'training ');
    validClasses = await readClassFolders(listing, listing.join(root, validName), 'validation ');
    const known = new Set(trainClasses.map((c) => c.name));
    const stray = validClasses.find((c) => !known.has(c.name));
    if (stray) throw folderError(`validation class folder ${stray.dir} has no matching folder in ${trainDir}`);
  } else {
    if (subfolders.includes('train') && (await listing.subfolders(trainDir)).length > 0) {
      // train/ holding class folders means a split layout with its validation half missing;
      // pooling would wrongly make "train" (and "test") classes.
      throw folderError(`${root} has train/ but no valid/ or val/; add the validation folder, or open ${trainDir} to split it at random`);
    }
    trainClasses = await readClassFolders(listing, root, '');
  }
  if (trainClasses.length < 2) {
    throw folderError(`${trainClasses[0]!.dir} is the only class folder; a classifier needs at least two classes (one sub-folder per class)`);
  }

  const classes = trainClasses.map((c) => c.name);
  const allFiles = [...trainClasses, ...validClasses].flatMap((c) => c.files);
  const failures = await findUnreadable(allFiles, check);
  const skipped = allFiles.filter((path) => failures.has(path)).map((path) => ({ path, reason: failures.get(path)! }));
  const warn = options.warn ?? ((line: string) => console.warn(line));
  for (const { path, reason } of skipped) warn(`ImageFolder: skipping ${path}: ${reason}`);
  const asItems = skipped.map(({ path, reason }) => ({ index: -1, file: path, reason }));
  checkBadShare(asItems, allFiles.length, options.maxBadFraction ?? 1, `image files in ${root}`);

  const toItems = (group: ClassFiles[]): LabelledPath[] => {
    const items: LabelledPath[] = [];
    for (const c of group) {
      const usable = c.files.filter((path) => !failures.has(path));
      if (usable.length === 0) {
        throw folderError(`class folder ${c.dir} has no readable images (${c.files.length} skipped, e.g. ${listing.relative(root, c.files[0]!)}: ${failures.get(c.files[0]!)})`);
      }
      const label = classes.indexOf(c.name);
      for (const path of usable) items.push({ path, label });
    }
    return items;
  };

  if (hasSplitFolders) return { classes, train: toItems(trainClasses), valid: toItems(validClasses), skipped, split: 'folders' };
  const items = toItems(trainClasses);
  const split = randomSplit(items.length, options.validPct ?? 0.2, options.seed ?? 42);
  const pick = (indices: number[]) => indices.map((i) => items[i]!);
  return { classes, train: pick(split.train), valid: pick(split.valid), skipped, split: 'random' };
}
