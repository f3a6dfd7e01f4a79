/**
 * Walks a folder on disk the way ImageFolder reads it: image files by extension, recursively,
 * hidden entries ignored, sorted by code point (see ../datasets/image-files.ts).
 */

import { readdir, stat } from 'node:fs/promises';
import type { Dirent } from 'node:fs';
import { join } from 'node:path';
import { compareNames, isImageFileName } from '../datasets/image-files.js';

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
