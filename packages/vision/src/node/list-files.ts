/**
 * Walks a folder on disk the way ImageFolder reads it: image files by extension, recursively,
 * hidden entries ignored, sorted by code point (see ../datasets/image-files.ts).
 *
 * Symbolic links are followed (datasets are often linked in), but every real file is listed once
 * (by device and inode, hard links included) and every real folder walked once: a link back to a
 * folder being walked (a loop) is refused with one line, and a file reachable by two paths keeps
 * the first (so it can never be in both train/ and valid/, nor split into both at random).
 */

import { readdir, realpath, stat } from 'node:fs/promises';
import type { Dirent } from 'node:fs';
import { join, sep } from 'node:path';
import { compareNames, isImageFileName } from '../datasets/image-files.js';

/** One walk's memory of what it has seen: share it across the folders of one dataset. */
export class FolderWalk {
  private readonly files = new Map<string, string>();
  private readonly dirs = new Map<string, string>();

  /** `warn` hears one line per loop refused and per file or folder seen a second time. */
  constructor(private readonly warn: (line: string) => void = (line) => console.warn(line)) {}

  /** Image files under `dir`, each real file once over this walk's lifetime. */
  async imageFiles(dir: string): Promise<string[]> {
    const real = await realpath(dir).catch(() => dir);
    const first = this.dirs.get(real);
    if (first !== undefined) {
      this.warn(`ImageFolder: ${dir} is the same folder as ${first} (a link); its files are used once, from ${first}`);
      return [];
    }
    this.dirs.set(real, dir);
    return this.walk(dir, real);
  }

  private async walk(dir: string, realDir: string): Promise<string[]> {
    const entries = await readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => compareNames(a.name, b.name));
    const files: string[] = [];
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const path = join(dir, entry.name);
      const kind = await kindOf(entry, path);
      if (kind === 'dir') {
        const real = await realpath(path).catch(() => path);
        if (realDir === real || realDir.startsWith(real + sep)) {
          this.warn(`ImageFolder: skipping ${path}: a link back to ${real}, which holds it (a loop)`);
          continue;
        }
        const first = this.dirs.get(real);
        if (first !== undefined) {
          this.warn(`ImageFolder: ${path} is the same folder as ${first} (a link); its files are used once, from ${first}`);
          continue;
        }
        this.dirs.set(real, path);
        files.push(...(await this.walk(path, real)));
      } else if (kind === 'file' && isImageFileName(entry.name)) {
        const id = await fileIdentity(path);
        const first = id === null ? undefined : this.files.get(id);
        if (first !== undefined) {
          this.warn(`ImageFolder: ${path} is the same file as ${first}; using it once`);
          continue;
        }
        if (id !== null) this.files.set(id, path);
        files.push(path);
      }
    }
    return files;
  }
}

/** Device and inode of what `path` points to; null for a dangling link (listed, and reported when checked). */
async function fileIdentity(path: string): Promise<string | null> {
  try {
    const s = await stat(path, { bigint: true });
    return `${s.dev}:${s.ino}`;
  } catch {
    return null;
  }
}

/** Image files under `dir` (a walk of its own; ImageFolder shares one FolderWalk across its folders). */
export async function listImageFiles(dir: string, walk: FolderWalk = new FolderWalk()): Promise<string[]> {
  return walk.imageFiles(dir);
}

/** Follows symbolic links; a dangling link counts as a file so it gets reported. */
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
