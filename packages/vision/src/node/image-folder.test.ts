import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TesseraVisionError } from '../errors.js';
import { encodePng } from '../encode/png.js';
import { TINY_GIF, encodeBaselineJpeg, gradientImage, withJpegFrameSize, writeImages } from '../testing/images.js';
import { makeTempDir } from '../testing/temp-dir.js';
import { ImageFolder, type ImageFolderOptions } from './image-folder.js';

const temp = makeTempDir();
afterAll(() => temp.remove());

/** Opens a folder collecting warnings instead of printing them. */
async function open(folder: string, options: ImageFolderOptions = {}): Promise<{ folder: ImageFolder; warnings: string[] }> {
  const warnings: string[] = [];
  const opened = await ImageFolder.open(folder, { ...options, warn: (line) => warnings.push(line) });
  return { folder: opened, warnings };
}

async function openError(folder: string, options: ImageFolderOptions = {}): Promise<TesseraVisionError> {
  const err = await ImageFolder.open(folder, { ...options, warn: () => {} }).then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(TesseraVisionError);
  return err as TesseraVisionError;
}

describe('ImageFolder, one folder per class (random split)', () => {
  const root = join(temp.path, 'pets');
  beforeAll(() => {
    writeImages(join(root, 'dogs'), 5, 20, 1);
    writeImages(join(root, 'cats'), 6, 20, 2);
    writeImages(join(root, 'dogs', 'more'), 1, 20, 3); // nested folders count
    writeFileSync(join(root, 'dogs', 'anim.gif'), TINY_GIF);
    writeFileSync(join(root, 'dogs', 'notes.jpg'), 'this is not a picture\n');
    writeFileSync(join(root, 'dogs', 'empty.png'), new Uint8Array(0));
    writeFileSync(join(root, 'cats', 'bomb.jpg'), withJpegFrameSize(encodeBaselineJpeg(gradientImage(16, 16)), 40000, 40000));
    writeFileSync(join(root, 'cats', 'README.txt'), 'not an image extension: ignored');
    writeFileSync(join(root, 'cats', '.DS_Store'), 'hidden: ignored');
  });

  it('finds sorted classes, skips unreadable files with one warning each, and counts them', async () => {
    const { folder, warnings } = await open(root);
    expect(folder.root).toBe(resolve(root));
    expect(folder.classes).toEqual(['cats', 'dogs']);
    expect(folder.split).toBe('random');
    expect(folder.skipped.map((s) => basename(s.path))).toEqual(['bomb.jpg', 'anim.gif', 'empty.png', 'notes.jpg']);
    expect(folder.skipped.map((s) => s.reason)).toEqual([
      expect.stringMatching(/exceeds the limit/),
      expect.stringMatching(/GIF is not supported/),
      expect.stringMatching(/empty file/),
      expect.stringMatching(/looks like text/),
    ]);
    expect(warnings).toHaveLength(4);
    for (const [i, line] of warnings.entries()) {
      expect(line).toContain(folder.skipped[i]!.path);
      expect(line).toContain(folder.skipped[i]!.reason);
    }
    // 6 cats + 5 dogs + 1 nested dog; 20% of 12 -> 2 validation items (floor, as fastai).
    expect(folder.train.length + folder.valid.length).toBe(12);
    expect(folder.valid.length).toBe(2);
    for (const item of [...folder.train.items, ...folder.valid.items]) {
      expect(item.path.includes(`${folder.classes[item.label]}`)).toBe(true);
    }
  });

  it('draws the same split from the same seed and another from another seed', async () => {
    const paths = (f: ImageFolder) => f.valid.items.map((i) => i.path);
    const a = (await open(root, { seed: 1, validPct: 0.5 })).folder;
    const b = (await open(root, { seed: 1, validPct: 0.5 })).folder;
    expect(paths(a)).toEqual(paths(b));
    const others = await Promise.all([2, 3, 4].map(async (seed) => paths((await open(root, { seed, validPct: 0.5 })).folder)));
    expect(others.some((p) => p.join() !== paths(a).join())).toBe(true);
    expect(a.valid.length).toBe(6);
    const none = (await open(root, { validPct: 0 })).folder;
    expect([none.train.length, none.valid.length]).toEqual([12, 0]);
  });

  it('loads items decoded and fitted to the requested size', async () => {
    const { folder } = await open(root);
    const img = await folder.train.load(0, 16);
    expect([img.width, img.height, img.data.length]).toEqual([16, 16, 16 * 16 * 3]);
    const wide = await folder.train.load(1, { width: 24, height: 8, fit: 'squish', mode: 'align-corners' });
    expect([wide.width, wide.height]).toEqual([24, 8]);
    expect(() => folder.train.load(99, 16)).toThrow(RangeError);
  });

  it("with verify: 'decode' also skips files whose header is fine but whose data is cut off", async () => {
    const dir = join(temp.path, 'truncated');
    writeImages(join(dir, 'a'), 2);
    writeImages(join(dir, 'b'), 2);
    const bytes = encodeBaselineJpeg(gradientImage(64, 64));
    writeFileSync(join(dir, 'b', 'cut.jpg'), bytes.subarray(0, bytes.length - 300));
    expect((await open(dir)).folder.skipped).toHaveLength(0);
    const thorough = (await open(dir, { verify: 'decode' })).folder;
    expect(thorough.skipped.map((s) => basename(s.path))).toEqual(['cut.jpg']);
    expect(thorough.skipped[0]!.reason).toMatch(/truncated/);
  });
});

describe('ImageFolder, train/ and valid/ (or val/) folders', () => {
  it('uses the folders as the split, with classes from train/', async () => {
    for (const validName of ['valid', 'val']) {
      const root = join(temp.path, `split-${validName}`);
      writeImages(join(root, 'train', 'bees'), 3);
      writeImages(join(root, 'train', 'ants'), 4);
      writeImages(join(root, validName, 'ants'), 2);
      writeImages(join(root, validName, 'bees'), 1);
      writeImages(join(root, 'test', 'unlabelled'), 1); // ignored
      const { folder } = await open(root, { validPct: 0.5 });
      expect(folder.split).toBe('folders');
      expect(folder.classes).toEqual(['ants', 'bees']);
      expect([folder.train.length, folder.valid.length]).toEqual([7, 3]);
      expect(folder.valid.items.map((i) => i.label)).toEqual([0, 0, 1]);
      expect(folder.valid.items.every((i) => i.path.includes(`${validName}/`))).toBe(true);
    }
  });
});

describe('ImageFolder errors say what is wrong and what to do', () => {
  function layout(name: string, files: Record<string, string | Uint8Array | number>): string {
    const root = join(temp.path, name);
    mkdirSync(root, { recursive: true });
    for (const [path, content] of Object.entries(files)) {
      if (typeof content === 'number') {
        writeImages(join(root, path), content);
      } else {
        mkdirSync(dirname(join(root, path)), { recursive: true });
        writeFileSync(join(root, path), content);
      }
    }
    return root;
  }

  it('missing folder, or a file instead of a folder', async () => {
    const missing = join(temp.path, 'no-such-folder');
    expect((await openError(missing)).message).toMatch(new RegExp(`folder ${missing} does not exist; pass the folder`));
    const file = layout('file-root', { 'x.txt': 'x' });
    expect((await openError(join(file, 'x.txt'))).message).toMatch(/is a file, not a folder/);
  });

  it('empty folder, or images not sorted into class folders', async () => {
    expect((await openError(layout('empty', {}))).message).toMatch(/has no class sub-folders: expected one sub-folder per class/);
    const loose = layout('loose', { 'a.png': encodePng(gradientImage(4, 4)) });
    expect((await openError(loose)).message).toMatch(/holds 1 image files directly; move them into one sub-folder per class/);
  });

  it('only one class', async () => {
    const root = layout('one-class', { cats: 3 });
    const err = await openError(root);
    expect(err.message).toContain(join(root, 'cats'));
    expect(err.message).toMatch(/only class folder; a classifier needs at least two classes/);
  });

  it('a class folder with no image files, or none readable', async () => {
    const noImages = layout('no-images', { cats: 2, 'dogs/readme.txt': 'hi' });
    const err = await openError(noImages);
    expect(err.message).toContain(join(noImages, 'dogs'));
    expect(err.message).toMatch(/has no image files .*add images or remove the folder/);
    const unreadable = layout('unreadable', { cats: 2, 'dogs/a.gif': TINY_GIF, 'dogs/b.jpg': 'text' });
    expect((await openError(unreadable)).message).toMatch(/dogs has no readable images \(2 skipped, e\.g\. dogs\/a\.gif: GIF is not supported/);
  });

  it('train/ without valid/, and validation classes missing from train/', async () => {
    const noValid = layout('no-valid', { 'train/a': 1, 'train/b': 1, 'test/a': 1 });
    expect((await openError(noValid)).message).toMatch(/has train\/ but no valid\/ or val\/; add the validation folder, or open .*train to split it at random/);
    const stray = layout('stray', { 'train/a': 1, 'train/b': 1, 'valid/c': 1 });
    expect((await openError(stray)).message).toMatch(/validation class folder .*valid\/c has no matching folder in .*train/);
  });
});

const dataRoot = resolve(process.env['TESSERA_DATA'] ?? 'data');
const hymenoptera = join(dataRoot, 'hymenoptera');
const haveHymenoptera = existsSync(join(hymenoptera, 'train'));
if (!haveHymenoptera) console.log(`skipping hymenoptera tests: ${hymenoptera} not found (set TESSERA_DATA to the shared data folder)`);

describe.skipIf(!haveHymenoptera)('ImageFolder on real photos ($TESSERA_DATA/hymenoptera)', () => {
  it('reads train/ and val/, skips the GIF, and decodes real JPEG variants', async () => {
    const { folder, warnings } = await open(hymenoptera);
    expect(folder.split).toBe('folders');
    expect(folder.classes).toEqual(['ants', 'bees']);
    expect(folder.skipped).toEqual([{ path: join(hymenoptera, 'train', 'ants', 'imageNotFound.gif'), reason: 'GIF is not supported (only JPEG and PNG)' }]);
    expect(warnings).toEqual([expect.stringContaining('imageNotFound.gif')]);
    expect([folder.train.length, folder.valid.length]).toEqual([244, 153]);
    // Progressive (SOF2), Adobe-marked and Exif-carrying photos from the set.
    const names = ['ant photos.jpg', 'kurokusa.jpg', 'MehdiabadiAnt2_600.jpg', '0013035.jpg'];
    const indices = names.map((name) => folder.train.items.findIndex((i) => i.path.endsWith(`/${name}`)));
    expect(indices.every((i) => i >= 0)).toBe(true);
    for (const i of indices) {
      const img = await folder.train.load(i, 64);
      expect([img.width, img.height]).toEqual([64, 64]);
      // A photo, not a blank: plenty of distinct values.
      expect(new Set(img.data).size).toBeGreaterThan(50);
    }
  });
});
