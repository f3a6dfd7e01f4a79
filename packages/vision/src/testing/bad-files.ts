/**
 * Test-only broken image files of the kinds users have in their folders: a JPEG cut off mid-data
 * (an interrupted download: the header is fine, so a folder scan passes it), a PNG whose pixel
 * data stops after two rows, and a text file with an image's name.
 */

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { zlibSync } from 'fflate';
import { pngFile } from './png-chunks.js';
import { encodeBaselineJpeg, gradientImage } from './images.js';

/** A baseline JPEG whose entropy-coded data stops halfway (no EOI). */
export function truncatedJpeg(size = 48): Uint8Array {
  const whole = encodeBaselineJpeg(gradientImage(size, size));
  return whole.subarray(0, Math.floor(whole.length / 2));
}

/** A valid PNG header for width x height RGB, with pixel rows for only the first two rows. */
export function shortPng(width = 64, height = 48): Uint8Array {
  const rowBytes = 1 + width * 3;
  const rows = new Uint8Array(2 * rowBytes).fill(90); // grey pixels
  rows[0] = 0;
  rows[rowBytes] = 0;
  return pngFile({ width, height, bitDepth: 8, colorType: 2 }, zlibSync(rows), []);
}

export interface BadFiles {
  truncatedJpeg: string;
  shortPng: string;
  notAnImage: string;
}

/** Writes the three bad files into `dir` (named so they sort among the good ones). */
export function writeBadFiles(dir: string, prefix = 'bad'): BadFiles {
  const files = {
    truncatedJpeg: join(dir, `${prefix}-truncated.jpg`),
    shortPng: join(dir, `${prefix}-short.png`),
    notAnImage: join(dir, `${prefix}-text.jpg`),
  };
  writeFileSync(files.truncatedJpeg, truncatedJpeg());
  writeFileSync(files.shortPng, shortPng());
  writeFileSync(files.notAnImage, 'this is not an image\n');
  return files;
}
