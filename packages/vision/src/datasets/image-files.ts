/**
 * Which files in a folder count as images: by extension (like fastai's get_image_files), walked
 * recursively, hidden files and folders ignored, in sorted order so that item order - and with
 * it every seeded split - is the same on every machine.
 *
 * Extensions of formats we cannot decode (GIF, WebP...) are included on purpose: such a file is
 * an image the user put there, so it is reported as skipped rather than silently ignored.
 */

import { readdir, stat } from 'node:fs/promises';
import type { Dirent } from 'node:fs';
import { extname, join } from 'node:path';

export const IMAGE_EXTENSIONS: readonly string[] = [
  '.jpg', '.jpeg', '.jpe', '.jfif', '.png', '.gif', '.webp', '.bmp', '.tif', '.tiff', '.heic', '.heif', '.avif',
];

export function isImageFileName(name: string): boolean {
  return IMAGE_EXTENSIONS.includes(extname(name).toLowerCase());
}

/** Code-point order (what Python's sorted() and fastai use), independent of locale. */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export async function listImageFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => compareNames(a.name, b.name));
  const files: string[] = [];
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    const kind = await kindOf(entry, path);
    if (kind === 'dir') files.push(...(await listImageFiles(path)));
    else if (kind === 'file' && isImageFileName(entry.name)) files.push(path);
  }
  return files;
}

/** Follows symbolic links (datasets are often linked in); a dangling link counts as a file so it gets reported. */
async function kindOf(entry: Dirent, path: string): Promise<'dir' | 'file' | 'other'> {
  if (entry.isDirectory()) return 'dir';
  if (entry.isFile()) return 'file';
  if (!entry.isSymbolicLink()) return 'other';
  try {
    const target = await stat(path);
    return target.isDirectory() ? 'dir' : target.isFile() ? 'file' : 'other';
  } catch {
    return 'file';
  }
}

/** Non-hidden sub-folders (links to folders included), sorted. */
export async function listSubfolders(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names: string[] = [];
  for (const entry of entries) {
    if (!entry.name.startsWith('.') && (await kindOf(entry, join(dir, entry.name))) === 'dir') names.push(entry.name);
  }
  return names.sort(compareNames);
}
