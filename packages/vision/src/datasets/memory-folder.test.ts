// MemoryImageFolder must read a tree of files exactly as the Node ImageFolder reads the same
// tree on disk: classes, item order, the seeded split, skipped files and the pixels.
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TesseraVisionError } from '../errors.js';
import { ImageFolder } from '../node/image-folder.js';
import { nodeDatasetFromSpec } from '../node/spec.js';
import { TINY_GIF, encodeBaselineJpeg, gradientImage, withJpegFrameSize, writeImages } from '../testing/images.js';
import { makeTempDir } from '../testing/temp-dir.js';
import { MemoryImageFolder, type FileLike } from './memory-folder.js';
import { datasetFromSpec } from './spec.js';

const temp = makeTempDir();
afterAll(() => temp.remove());

/** Every file under `dir` (hidden ones and non-images too), as a browser's folder picker lists them. */
function pick(dir: string, name: string): FileLike[] {
  const out: FileLike[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d)) {
      const path = join(d, entry);
      if (statSync(path).isDirectory()) walk(path);
      else {
        const bytes = readFileSync(path);
        out.push({ name: entry, webkitRelativePath: `${name}/${relative(dir, path)}`, arrayBuffer: async () => bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer });
      }
    }
  };
  walk(dir);
  return out.reverse(); // a picker's order means nothing
}

const quiet = { warn: () => {} };

describe('MemoryImageFolder', () => {
  const pets = join(temp.path, 'pets');
  const split = join(temp.path, 'split');
  beforeAll(() => {
    writeImages(join(pets, 'dogs'), 5, 20, 1);
    writeImages(join(pets, 'cats'), 6, 20, 2);
    writeImages(join(pets, 'dogs', 'more'), 1, 20, 3); // nested folders count
    writeImages(join(pets, 'dogs b'), 2, 20, 4); // sorts after 'dogs' as a folder, before 'dogs/...' as a path
    writeFileSync(join(pets, 'dogs', 'anim.gif'), TINY_GIF);
    writeFileSync(join(pets, 'cats', 'bomb.jpg'), withJpegFrameSize(encodeBaselineJpeg(gradientImage(16, 16)), 40000, 40000));
    writeFileSync(join(pets, 'cats', 'README.txt'), 'not an image extension: ignored');
    writeFileSync(join(pets, 'cats', '.DS_Store'), 'hidden: ignored');
    for (const part of ['train', 'valid']) {
      writeImages(join(split, part, 'ants'), 3, 16, part === 'train' ? 5 : 6);
      writeImages(join(split, part, 'bees'), 2, 16, part === 'train' ? 7 : 8);
    }
  });

  for (const [name, dir] of [['a random split', () => pets], ['train/ and valid/ folders', () => split]] as const) {
    it(`reads ${name} exactly as ImageFolder does`, async () => {
      const disk = await ImageFolder.open(dir(), { ...quiet, seed: 3, validPct: 0.25 });
      const mem = await MemoryImageFolder.fromFiles(pick(dir(), 'picked'), { ...quiet, seed: 3, validPct: 0.25 });
      expect(mem.root).toBe('picked');
      expect(mem.classes).toEqual(disk.classes);
      expect(mem.split).toBe(disk.split);
      const rel = (p: string, root: string) => relative(root, p);
      for (const part of ['train', 'valid'] as const) {
        expect(mem[part].items.map((i) => [rel(i.name, 'picked'), i.label])).toEqual(disk[part].items.map((i) => [rel(i.path, disk.root), i.label]));
        const a = await mem[part].load(0, 12);
        const b = await disk[part].load(0, 12);
        expect(a).toEqual(b);
      }
      expect(mem.skipped.map((s) => [rel(s.path, 'picked'), s.reason])).toEqual(disk.skipped.map((s) => [rel(s.path, disk.root), s.reason.replaceAll(disk.root, 'picked')]));
    });
  }

  it('takes { path, bytes } entries, and crosses to a worker as a spec', async () => {
    const entries = ['a/1.png', 'a/2.png', 'b/1.png', 'b/2.png', 'b/3.png'].map((path, i) => ({
      path, bytes: readFileSync(writeImages(join(temp.path, 'entries', String(i)), 1, 10, i)[0]!),
    }));
    const folder = await MemoryImageFolder.fromEntries(entries, { ...quiet, validPct: 0.4, memoryBytes: 1 << 20 });
    expect(folder.root).toBe('folder');
    expect(folder.classes).toEqual(['a', 'b']);
    expect(folder.train.length + folder.valid.length).toBe(5);
    const clone = datasetFromSpec(structuredClone(folder.train.spec()));
    expect(await clone.load(1, 8)).toEqual(await folder.train.load(1, 8));
    expect(nodeDatasetFromSpec(folder.valid.spec()).label(0)).toBe(folder.valid.label(0));
  });

  it('says what is wrong with a folder, as ImageFolder does', async () => {
    const png = readFileSync(writeImages(join(temp.path, 'one'), 1, 10, 0)[0]!);
    const err = await MemoryImageFolder.fromEntries([{ path: 'x.png', bytes: png }], quiet).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TesseraVisionError);
    expect((err as Error).message).toMatch(/no class sub-folders: it holds 1 image files directly/);
    await expect(MemoryImageFolder.fromEntries([{ path: 'only/x.png', bytes: png }], quiet)).rejects.toThrow(/only class folder/);
  });
});
