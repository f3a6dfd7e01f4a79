/**
 * zlib inflate for the PNG decoder in a browser (and the fallback in Node): fflate, stopped once
 * the image's bytes are in.
 */
import { Unzlib, unzlibSync } from 'fflate';

/** Deflate expands at most 1032:1 (a 258-byte match in two bits). */
const MAX_RATIO = 1032;

/**
 * Inflates zlib data into a buffer of exactly `need` bytes and stops there: data past the image
 * is never allocated, and little of it is decompressed (pngjs and fast-png inflate all of it;
 * see docs/architecture.md). Returns fewer bytes when the stream ends early.
 */
export function inflateAtMost(data: Uint8Array, need: number): Uint8Array {
  // Past the image, at most max(1 MB, 16x the image) is ever decompressed. Input too short to
  // exceed that is inflated in one call (fflate's fastest path); longer input goes through the
  // stream in slices of need/16, each of which yields at most 1032 times its size.
  const overshoot = Math.max(1 << 20, 16 * need);
  if (data.length * MAX_RATIO <= need + overshoot) {
    const raw = unzlibSync(data, { out: new Uint8Array(need) });
    return raw.length > need ? raw.subarray(0, need) : raw;
  }
  const slice = Math.min(65536, Math.max(1024, Math.floor(overshoot / MAX_RATIO)));
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
