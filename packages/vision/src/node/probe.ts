/**
 * Checks a file is a decodable image of acceptable size by reading only its head.
 *
 * Opening a folder of thousands of photos must not decode them all; the head (64 KiB, more only
 * when a large Exif thumbnail pushes the JPEG frame header further) is enough to reject GIFs,
 * text files, empty files, unsupported variants and decompression bombs. Corruption deeper in
 * the file is only found when the image is decoded.
 */

import { open } from 'node:fs/promises';
import { ImageDecodeError } from '../errors.js';
import { probeImage, type ImageInfo } from '../decode/image-info.js';
import { DEFAULT_MAX_PIXELS } from '../decode/options.js';

const FIRST_READ = 64 * 1024;

async function readHead(path: string, length: number): Promise<{ bytes: Uint8Array; size: number }> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const buffer = new Uint8Array(Math.min(length, size));
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return { bytes: buffer.subarray(0, bytesRead), size };
  } finally {
    await handle.close();
  }
}

export async function probeImageFile(path: string, maxPixels = DEFAULT_MAX_PIXELS): Promise<ImageInfo> {
  let length = FIRST_READ;
  for (;;) {
    let head: { bytes: Uint8Array; size: number };
    try {
      head = await readHead(path, length);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new ImageDecodeError(path, code === 'ENOENT' ? 'file not found' : `cannot read (${code ?? String(err)})`, { cause: err });
    }
    try {
      return probeImage(head.bytes, path, maxPixels);
    } catch (err) {
      // A header cut off by our own short read is not a truncated file: read more and retry.
      const cutShort = err instanceof ImageDecodeError && /truncated/.test(err.reason) && head.bytes.length < head.size;
      if (!cutShort) throw err;
      length *= 4;
    }
  }
}
