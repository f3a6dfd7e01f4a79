/**
 * zlib inflate for the PNG decoder in a browser (and the fallback in Node): fflate's stream, fed in
 * slices, stopped once the image's bytes are in.
 */
import { Unzlib } from 'fflate';

/**
 * Inflates zlib data into a buffer of exactly `need` bytes and stops there: data past the image
 * is never allocated, and at most one slice's worth of it is decompressed (pngjs and fast-png
 * inflate all of it; see docs/architecture.md). Returns fewer bytes when the stream ends early.
 */
export function inflateAtMost(data: Uint8Array, need: number): Uint8Array {
  // One push of n compressed bytes yields up to 1032n: slices of need/64 bound the overshoot to
  // ~16x the image (1 MB at least, 17 MB at most); fflate is slow on slices much under 16 KB.
  const slice = Math.min(16384, Math.max(1024, Math.ceil(need / 64)));
  const out = new Uint8Array(need);
  let got = 0;
  const stream = new Unzlib((chunk) => {
    const take = Math.min(chunk.length, need - got);
    out.set(take === chunk.length ? chunk : chunk.subarray(0, take), got);
    got += take;
  });
  for (let at = 0; at < data.length && got < need; at += slice) stream.push(data.subarray(at, at + slice), at + slice >= data.length);
  return got < need ? out.subarray(0, got) : out;
}
