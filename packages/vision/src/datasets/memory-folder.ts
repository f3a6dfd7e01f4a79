/**
 * Image folders held in memory: the files a browser's folder picker (`<input webkitdirectory>`)
 * or drag-and-drop gives, or any `{ path, bytes }` list. Classes, the train/valid layout, the
 * seeded random split and the skipped files follow exactly the rules of the Node ImageFolder
 * (folder-layout.ts is shared); items decode from their bytes when loaded.
 */

import { decodeImage } from '../decode/decode.js';
import { probeImage } from '../decode/image-info.js';
import { DEFAULT_MAX_PIXELS, type FileDecodeOptions } from '../decode/options.js';
import type { RgbImage } from '../image.js';
import { ByteLru } from '../cache/lru.js';
import { fitImage, resolveTarget, targetKey, type SizeLike } from '../target.js';
import { checkIndex, checkLabels, type VisionDataset } from './dataset.js';
import { SplitFolder, readFolderLayout, type FolderLayoutOptions, type FolderListing } from './folder-layout.js';
import { compareNames, isImageFileName } from './image-files.js';
import type { DatasetSpec } from './spec.js';

/** One encoded image (JPEG or PNG bytes) with its label; `name` names it in errors. */
export interface BytesItem {
  name: string;
  bytes: Uint8Array;
  label: number;
}

export interface ImageBytesDatasetOptions {
  decode?: FileDecodeOptions;
  /** Memory budget in bytes for prepared images; 0 (default) decodes on every load. */
  memoryBytes?: number;
}

/** A dataset of encoded images in memory: decoded, oriented and fitted to the size when loaded. */
export class ImageBytesDataset implements VisionDataset {
  readonly items: readonly BytesItem[];
  readonly classes: readonly string[];
  private readonly cache: ByteLru<RgbImage> | null;

  constructor(
    items: readonly BytesItem[],
    classes: readonly string[],
    readonly options: ImageBytesDatasetOptions = {},
  ) {
    checkLabels(items, classes, (item) => item.name);
    this.items = items.map(({ name, bytes, label }) => ({ name, bytes, label }));
    this.classes = [...classes];
    const budget = options.memoryBytes ?? 0;
    this.cache = budget > 0 ? new ByteLru(budget, (img: RgbImage) => img.data.byteLength) : null;
  }

  get length(): number {
    return this.items.length;
  }

  label(index: number): number {
    checkIndex(index, this.length);
    return this.items[index]!.label;
  }

  async load(index: number, size: SizeLike): Promise<RgbImage> {
    checkIndex(index, this.length);
    const target = resolveTarget(size);
    const key = `${index}|${targetKey(target)}`;
    const cached = this.cache?.get(key);
    if (cached) return cached;
    const { name, bytes } = this.items[index]!;
    const img = fitImage(decodeImage(bytes, { ...this.options.decode, file: name }), target);
    this.cache?.set(key, img);
    return img;
  }

  spec(): DatasetSpec {
    return { kind: 'bytes', items: [...this.items], classes: [...this.classes], options: { ...this.options } };
  }
}

/** A file as a browser gives it (a `File`), or anything shaped like one. */
export interface FileLike {
  name: string;
  /** Path inside the picked folder, starting with the folder's own name ('photos/cats/a.jpg'). */
  webkitRelativePath?: string;
  arrayBuffer(): Promise<ArrayBuffer>;
}

export interface MemoryImageFolderOptions extends FolderLayoutOptions {
  decode?: FileDecodeOptions;
  /** Memory budget in bytes for prepared images, per dataset; 0 (default) decodes on every load. */
  memoryBytes?: number;
  /** 'header' (default) checks each image's header when opening; 'decode' decodes every image (slow, thorough). */
  verify?: 'header' | 'decode';
}

const isHidden = (segment: string) => segment.startsWith('.');

/** Segment-by-segment code-point order: the order of a sorted recursive folder walk. */
function compareSegments(a: string[], b: string[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const c = compareNames(a[i]!, b[i]!);
    if (c !== 0) return c;
  }
  return a.length - b.length;
}

/** The folder tree that a list of '/'-separated paths implies (only files; folders exist through them). */
function pathListing(paths: readonly string[]): FolderListing {
  const split = paths.map((p) => p.split('/'));
  const under = (dir: string) => {
    const prefix = dir.split('/');
    return split.filter((s) => s.length > prefix.length && prefix.every((seg, i) => s[i] === seg)).map((s) => ({ s, rest: s.slice(prefix.length) }));
  };
  return {
    async subfolders(dir) {
      const names = new Set(under(dir).filter(({ rest }) => rest.length > 1 && !isHidden(rest[0]!)).map(({ rest }) => rest[0]!));
      return [...names].sort(compareNames);
    },
    async imageFiles(dir) {
      return under(dir)
        .filter(({ rest }) => !rest.some(isHidden) && isImageFileName(rest[rest.length - 1]!))
        .map(({ s }) => s)
        .sort(compareSegments)
        .map((s) => s.join('/'));
    },
    join: (dir, name) => `${dir}/${name}`,
    relative: (root, path) => (path.startsWith(`${root}/`) ? path.slice(root.length + 1) : path),
  };
}

function normalise(path: string): string {
  return path.replace(/\\/g, '/').split('/').filter((s) => s !== '' && s !== '.').join('/');
}

/** An image folder in memory; `root` is the folder's name (the picked folder, or options.root). */
export class MemoryImageFolder extends SplitFolder<ImageBytesDataset> {
  /**
   * A folder from `{ path, bytes }` entries, paths relative to the folder ('cats/a.jpg' or
   * 'train/cats/a.jpg'); `root` names the folder in messages and item names (default 'folder').
   */
  static async fromEntries(
    entries: readonly { path: string; bytes: Uint8Array }[],
    options: MemoryImageFolderOptions & { root?: string } = {},
  ): Promise<MemoryImageFolder> {
    const root = normalise(options.root ?? 'folder') || 'folder';
    const bytesOf = new Map<string, Uint8Array>();
    for (const e of entries) bytesOf.set(`${root}/${normalise(e.path)}`, e.bytes);
    const decode = options.decode ?? {};
    const maxPixels = decode.maxPixels ?? DEFAULT_MAX_PIXELS;
    const check = async (path: string) => {
      const bytes = bytesOf.get(path)!;
      return options.verify === 'decode' ? decodeImage(bytes, { ...decode, file: path }) : probeImage(bytes, path, maxPixels);
    };
    const layout = await readFolderLayout(root, pathListing([...bytesOf.keys()]), check, options);
    const dataset = (items: typeof layout.train) =>
      new ImageBytesDataset(items.map(({ path, label }) => ({ name: path, bytes: bytesOf.get(path)!, label })), layout.classes, {
        decode: options.decode,
        memoryBytes: options.memoryBytes,
      });
    return new MemoryImageFolder(root, layout, dataset);
  }

  /**
   * A folder from a browser's picked files (`input.files` of `<input type="file" webkitdirectory>`):
   * each file's `webkitRelativePath` starts with the picked folder's name, which becomes `root`.
   * Only image files (by extension, not hidden) are read.
   */
  static async fromFiles(files: ArrayLike<FileLike> | Iterable<FileLike>, options: MemoryImageFolderOptions = {}): Promise<MemoryImageFolder> {
    const list = Array.from(files as Iterable<FileLike>);
    const paths = list.map((f) => normalise(f.webkitRelativePath || f.name));
    const firsts = new Set(paths.map((p) => (p.includes('/') ? p.slice(0, p.indexOf('/')) : '')));
    // One picked folder: its name is the root, paths inside it are relative to it.
    const picked = firsts.size === 1 && !firsts.has('') ? [...firsts][0]! : null;
    const entries: { path: string; bytes: Uint8Array }[] = [];
    for (const [i, f] of list.entries()) {
      const rel = picked ? paths[i]!.slice(picked.length + 1) : paths[i]!;
      if (rel.split('/').some(isHidden) || !isImageFileName(rel)) continue;
      entries.push({ path: rel, bytes: new Uint8Array(await f.arrayBuffer()) });
    }
    return MemoryImageFolder.fromEntries(entries, { ...options, root: picked ?? 'folder' });
  }
}
