/**
 * zlib inflate for the PNG decoder in Node: Node's own zlib (native, several times faster than
 * fflate on photos), told the image's size. Data that inflates past it (trailing bytes, or a
 * bomb of compressed zeros) is refused by zlib at once; the browser's bounded stream then takes
 * the file, so both platforms keep the image's bytes and ignore the rest alike.
 */
import { inflateSync } from 'node:zlib';
import { inflateAtMost as inflateBounded } from './inflate.browser.js';

export function inflateAtMost(data: Uint8Array, need: number): Uint8Array {
  try {
    const out = inflateSync(data, { maxOutputLength: need });
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') return inflateBounded(data, need);
    throw err;
  }
}
