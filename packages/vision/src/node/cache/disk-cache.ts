/**
 * Prepared images on disk, so decoding 2592-px JPEGs is paid once per machine rather than once
 * per epoch, and shared by all worker threads and later runs.
 *
 * One file per entry: a 12-byte header ("TSV1", width, height as little-endian u32) then the RGB
 * bytes. Writes are atomic; a damaged or foreign file reads as a miss and is rewritten.
 */

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { imageBytes, type RgbImage } from '../../image.js';
import { writeFileAtomic } from '../atomic-write.js';

const MAGIC = 0x31565354; // "TSV1" read as little-endian u32
const HEADER = 12;

export class DiskImageCache {
  constructor(readonly dir: string) {}

  /** Two-level layout keeps directories small for datasets of many thousand images. */
  pathOf(key: string): string {
    return join(this.dir, key.slice(0, 2), `${key}.rgb`);
  }

  async get(key: string): Promise<RgbImage | undefined> {
    let bytes: Buffer;
    try {
      bytes = await readFile(this.pathOf(key));
    } catch {
      return undefined;
    }
    if (bytes.length < HEADER) return undefined;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const width = view.getUint32(4, true);
    const height = view.getUint32(8, true);
    if (view.getUint32(0, true) !== MAGIC || width === 0 || height === 0) return undefined;
    if (bytes.length !== HEADER + imageBytes(width, height)) return undefined;
    return { width, height, data: new Uint8Array(bytes.buffer, bytes.byteOffset + HEADER, imageBytes(width, height)) };
  }

  async set(key: string, img: RgbImage): Promise<void> {
    const bytes = new Uint8Array(HEADER + img.data.length);
    const view = new DataView(bytes.buffer);
    view.setUint32(0, MAGIC, true);
    view.setUint32(4, img.width, true);
    view.setUint32(8, img.height, true);
    bytes.set(img.data, HEADER);
    await writeFileAtomic(this.pathOf(key), bytes);
  }
}
