/**
 * Links inside a dataset folder: a loop must not multiply the images (nor put one file in both
 * halves of the split), and a file linked from train/ into valid/ is used once.
 */
import { linkSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TesseraVisionError } from '../errors.js';
import { writeImages } from '../testing/images.js';
import { makeTempDir } from '../testing/temp-dir.js';
import { ImageFolder } from './image-folder.js';

const temp = makeTempDir();
afterAll(() => temp.remove());

describe('ImageFolder and links', () => {
  it('follows each real file once when a folder links back to an ancestor (a loop), and says so', async () => {
    const root = join(temp.path, 'loop');
    writeImages(join(root, 'ants'), 16, 20, 1);
    writeImages(join(root, 'bees'), 16, 20, 2);
    symlinkSync('..', join(root, 'ants', 'up')); // -> root: walks both classes again and again
    symlinkSync('.', join(root, 'bees', 'self'));
    const warnings: string[] = [];
    const folder = await ImageFolder.open(root, { warn: (line) => warnings.push(line) });
    const real = (items: readonly { path: string }[]) => items.map((i) => realpathSync(i.path));
    const train = real(folder.train.items);
    const valid = real(folder.valid.items);
    expect(train.length + valid.length).toBe(32);
    expect(new Set([...train, ...valid]).size).toBe(32);
    expect(train.filter((p) => valid.includes(p))).toEqual([]);
    expect(warnings).toEqual([
      expect.stringMatching(/skipping .*ants\/up: a link back to .*loop, which holds it \(a loop\)/),
      expect.stringMatching(/skipping .*bees\/self: a link back to .*bees, which holds it \(a loop\)/),
    ]);
  });

  it('uses a file once when train/ and valid/ both reach it (symbolic or hard link)', async () => {
    const root = join(temp.path, 'split');
    const ants = writeImages(join(root, 'train', 'ants'), 4, 20, 1);
    writeImages(join(root, 'train', 'bees'), 4, 20, 2);
    writeImages(join(root, 'valid', 'ants'), 2, 20, 3);
    writeImages(join(root, 'valid', 'bees'), 2, 20, 4);
    symlinkSync(ants[0]!, join(root, 'valid', 'ants', 'linked.jpg'));
    linkSync(ants[1]!, join(root, 'valid', 'ants', 'hard.png'));
    const warnings: string[] = [];
    const folder = await ImageFolder.open(root, { warn: (line) => warnings.push(line) });
    expect([folder.train.length, folder.valid.length]).toEqual([8, 4]);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/valid\/ants\/hard\.png is the same file as .*train\/ants\/img001\.png; using it once/);
    expect(warnings[1]).toMatch(/valid\/ants\/linked\.jpg is the same file as .*train\/ants\/img000\.jpg; using it once/);
  });

  it('refuses a folder with more unusable files than maxBadFraction, naming some', async () => {
    const root = join(temp.path, 'bad-share');
    writeImages(join(root, 'a'), 8, 20, 1);
    writeImages(join(root, 'b'), 8, 20, 2);
    for (const name of ['x', 'y', 'z']) writeFileSync(join(root, 'b', `${name}.jpg`), 'not an image\n');
    const err = await ImageFolder.open(root, { maxBadFraction: 0.1, warn: () => {} }).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(TesseraVisionError);
    expect((err as Error).message).toMatch(/3 of 19 image files in .*bad-share \(15\.8%\) could not be decoded, more than the 10% allowed, e\.g\. .*x\.jpg \(/);
    const lenient = await ImageFolder.open(root, { maxBadFraction: 0.2, warn: () => {} });
    expect([lenient.train.length + lenient.valid.length, lenient.skipped.length]).toEqual([16, 3]);
  });
});
