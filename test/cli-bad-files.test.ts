/**
 * Files a user's folder really holds — a JPEG cut off mid-data, a PNG whose pixel data stops
 * early, a text file named .jpg — never end a run: each is named once on stderr, counted in the
 * summary and metrics.json, and the run finishes (train, validation, TTA, lr-find, predict). Past
 * --max-bad-pct the run stops before training with one clear line. Tiny runs: 32 px, darknet-tiny
 * from scratch, one epoch, on the built dist.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, tessera } from './support/cli.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { truncatedJpeg, writeBadFiles, type BadFiles } from '../packages/vision/src/testing/bad-files.js';
import { writeImages } from '../packages/vision/src/testing/images.js';

const work = mkdtempSync(join(tmpdir(), 'tessera-bad-files-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));


const MODEL = ['--arch', 'darknet-tiny', '--no-pretrained', '--size', '32', '--bs', '8', '--workers', '1'];
const TINY = [...MODEL, '--epochs', '1'];

/** How many stderr lines name `file`. */
function mentions(stderr: string, file: string): number {
  return stderr.split('\n').filter((line) => line.includes(file)).length;
}

describe.skipIf(!existsSync(CLI))('tessera CLI with bad files in the dataset', () => {
  const root = join(work, 'mixed');
  let trainBad: BadFiles;
  let validCut: string;
  const out = join(work, 'run');
  beforeAll(() => {
    writeImages(join(root, 'train', 'ants'), 14, 40, 1);
    writeImages(join(root, 'train', 'bees'), 14, 40, 2);
    writeImages(join(root, 'valid', 'ants'), 7, 40, 3);
    writeImages(join(root, 'valid', 'bees'), 7, 40, 4);
    trainBad = writeBadFiles(join(root, 'train', 'bees'));
    validCut = join(root, 'valid', 'ants', 'cut.jpg');
    writeFileSync(validCut, truncatedJpeg());
  });

  it('trains, validates and runs TTA past them, naming each once and counting them', () => {
    const r = tessera(['train', root, ...TINY, '--tta', '--out', out]);
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/); // no stack trace
    expect(r.code).toBe(0);
    for (const file of [trainBad.truncatedJpeg, trainBad.shortPng, trainBad.notAnImage, validCut]) expect(mentions(r.stderr, file), file).toBe(1);
    expect(r.stderr).toMatch(/bad-truncated\.jpg: truncated or corrupt image data/);
    expect(r.stderr).toMatch(/bad-short\.png: truncated or corrupt image data/);
    expect(r.stdout).toMatch(/skipped files: 4 could not be decoded/);
    expect(r.stdout).toMatch(/TTA error_rate: /);
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as { skipped_files?: number; valid_loss: number }[];
    expect(metrics).toHaveLength(1);
    expect(metrics[0]!.skipped_files).toBe(4);
    expect(Number.isFinite(metrics[0]!.valid_loss)).toBe(true);
    expect(existsSync(join(out, 'top_losses.png'))).toBe(true);
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('skipped files: 4');
  });

  it('predicts the good images of a list with a bad one in the middle, names it and exits non-zero', () => {
    const good = [join(root, 'valid', 'bees', 'img000.jpg'), join(root, 'valid', 'bees', 'img001.png')];
    const r = tessera(['predict', out, good[0]!, validCut, good[1]!]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(good[0]!);
    expect(r.stdout).toContain(good[1]!);
    expect(r.stdout).not.toContain(validCut);
    expect(r.stderr).toMatch(/predict: skipping .*cut\.jpg: truncated or corrupt image data/);
    expect(r.stderr).toMatch(/1 of 3 images could not be decoded/);
    const json = tessera(['predict', out, good[0]!, validCut, '--json']);
    expect(json.code).toBe(1);
    const rows = JSON.parse(json.stdout) as { file: string; top?: unknown[]; error?: string }[];
    expect(rows.map((row) => [row.file, row.top !== undefined, row.error !== undefined])).toEqual([[good[0], true, false], [validCut, false, true]]);
  });

  it('finds a learning rate past them', () => {
    const r = tessera(['lr-find', root, ...MODEL, '--num-it', '30', '--out', join(work, 'lr')]);
    expect(r.code).toBe(0);
    expect(mentions(r.stderr, trainBad.truncatedJpeg)).toBe(1);
    expect(mentions(r.stderr, trainBad.notAnImage)).toBe(1);
    expect(r.stdout).toMatch(/suggested learning rates/);
    expect(existsSync(join(work, 'lr', 'lr_find.png'))).toBe(true);
  });

  it('stops before training, in one line, when more than --max-bad-pct of the images are bad', () => {
    const broken = join(work, 'broken');
    writeImages(join(broken, 'ants'), 8, 40, 5);
    writeImages(join(broken, 'bees'), 8, 40, 6);
    for (const name of ['x', 'y', 'z']) writeFileSync(join(broken, 'bees', `${name}.jpg`), 'not an image\n');
    const r = tessera(['train', broken, ...TINY, '--out', join(work, 'broken-run')]);
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n').at(-1)).toMatch(/3 of 19 image files in .*broken \(15\.8%\) could not be decoded, more than the 10% allowed.*--max-bad-pct/);
    expect(r.stdout).not.toMatch(/epoch\s+train_loss/);
    // Files that only fail when decoded count too: they pass the header check, and the loaders stop
    // the run as soon as more than 10% of all its images have failed (here in the first epoch)...
    const cut = join(work, 'cut');
    writeImages(join(cut, 'ants'), 8, 40, 7);
    writeImages(join(cut, 'bees'), 8, 40, 8);
    for (let i = 0; i < 6; i++) writeFileSync(join(cut, 'bees', `cut${i}.jpg`), truncatedJpeg());
    const c = tessera(['train', cut, ...TINY, '--valid-pct', '0.25', '--out', join(work, 'cut-run')]);
    expect(c.code).toBe(1);
    expect(c.stderr.split('\n').at(-1)).toMatch(/3 of 22 images \(13\.6%\) could not be decoded, more than the 10% allowed, e\.g\. .*cut\d\.jpg/);
    expect(existsSync(join(work, 'cut-run', 'metrics.json'))).toBe(false);
    // ...or before training with --verify-images, which decodes every image when the folder is opened.
    const v = tessera(['train', cut, ...TINY, '--verify-images', '--out', join(work, 'cut-run')]);
    expect(v.code).toBe(1);
    expect(v.stderr.split('\n').at(-1)).toMatch(/6 of 22 image files in .*cut \(27\.3%\) could not be decoded/);
    expect(v.stdout).not.toMatch(/^model: /m);
    // A higher limit lets the same folder train.
    expect(tessera(['train', cut, ...TINY, '--valid-pct', '0.25', '--max-bad-pct', '40', '--out', join(work, 'cut-run')]).code).toBe(0);
  });
});
