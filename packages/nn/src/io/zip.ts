// A minimal ZIP reader: enough for PyTorch's archives (stored entries, data
// descriptors, zip64 past 4 GiB) and ordinary deflated zips. It reads the central
// directory (the authoritative index; local headers may carry zero sizes), checks
// every offset against the buffer and every entry's CRC, and never writes anywhere.
// Pure JavaScript (fflate's inflate), so it runs in a browser too.

import { inflateSync } from 'fflate';
import { crc32 } from './crc32.js';
import { WeightFileError } from './errors.js';

export interface ZipEntry {
  name: string;
  /** 0 = stored, 8 = deflate. */
  method: number;
  compressedSize: number;
  size: number;
  crc: number;
  /** Offset of the entry's local header. */
  localOffset: number;
}

export interface ZipArchive {
  /** Entries by name, in central-directory order. */
  entries: Map<string, ZipEntry>;
  /** The entry's uncompressed bytes (a view into the archive when stored). */
  read(name: string): Uint8Array;
}

const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_LOCAL = 0x04034b50;
const EOCD_SIZE = 22;
const MAX_COMMENT = 0xffff;
// Deflate expands at most 1032:1 (a 258-byte match coded in two bits); a directory that
// claims more for an entry is lying, and believing it would allocate the claim up front.
const MAX_DEFLATE_RATIO = 1032;

/** True when the bytes start like a ZIP archive (a local file header). */
export function looksLikeZip(bytes: Uint8Array): boolean {
  return bytes.byteLength >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
}

/** Indexes a ZIP archive held in memory; `file` names it in errors. */
export function readZip(bytes: Uint8Array, file = '<buffer>'): ZipArchive {
  const fail = (msg: string): never => { throw new WeightFileError(file, `corrupt or truncated zip: ${msg}`); };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u16 = (at: number) => view.getUint16(at, true);
  const u32 = (at: number) => view.getUint32(at, true);
  const u64 = (at: number) => {
    const v = view.getBigUint64(at, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail(`64-bit field at ${at} is too large`);
    return Number(v);
  };
  const need = (at: number, len: number, what: string) => {
    if (at < 0 || at + len > bytes.byteLength) fail(`${what} at offset ${at} runs past the end (${bytes.byteLength} bytes)`);
  };

  // The end-of-central-directory record is the last 22 bytes, unless a comment
  // (up to 64 KiB) follows it: scan backwards for its signature.
  let eocd = -1;
  for (let at = bytes.byteLength - EOCD_SIZE; at >= Math.max(0, bytes.byteLength - EOCD_SIZE - MAX_COMMENT); at--) {
    if (u32(at) === SIG_EOCD && at + EOCD_SIZE + u16(at + 20) === bytes.byteLength) { eocd = at; break; }
  }
  if (eocd < 0) fail('no end-of-central-directory record');

  let count = u16(eocd + 10);
  let cdSize = u32(eocd + 12);
  let cdOffset = u32(eocd + 16);
  // Fields saturated at 0xFFFF/0xFFFFFFFF mean "see the zip64 record".
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const locator = eocd - 20;
    need(locator, 20, 'zip64 locator');
    if (u32(locator) !== SIG_ZIP64_LOCATOR) fail('zip64 fields saturated but no zip64 locator');
    const rec = u64(locator + 8);
    need(rec, 56, 'zip64 end-of-central-directory record');
    if (u32(rec) !== SIG_ZIP64_EOCD) fail('bad zip64 end-of-central-directory signature');
    count = u64(rec + 32);
    cdSize = u64(rec + 40);
    cdOffset = u64(rec + 48);
  }
  need(cdOffset, cdSize, 'central directory');

  const entries = new Map<string, ZipEntry>();
  let at = cdOffset;
  for (let i = 0; i < count; i++) {
    need(at, 46, `central directory entry ${i}`);
    if (u32(at) !== SIG_CENTRAL) fail(`bad central directory signature for entry ${i}`);
    const flags = u16(at + 8);
    const method = u16(at + 10);
    const crc = u32(at + 16);
    let compressedSize = u32(at + 20);
    let size = u32(at + 24);
    const nameLen = u16(at + 28);
    const extraLen = u16(at + 30);
    const commentLen = u16(at + 32);
    let localOffset = u32(at + 42);
    need(at + 46, nameLen + extraLen + commentLen, `central directory entry ${i}`);
    const name = new TextDecoder().decode(bytes.subarray(at + 46, at + 46 + nameLen));
    if (flags & 1) fail(`entry '${name}' is encrypted`);

    // Zip64 extra field (id 1): 8-byte values for exactly the saturated fields, in order.
    let ex = at + 46 + nameLen;
    const exEnd = ex + extraLen;
    while (ex + 4 <= exEnd) {
      const id = u16(ex);
      const len = u16(ex + 2);
      if (ex + 4 + len > exEnd) fail(`entry '${name}' has a malformed extra field`);
      if (id === 1) {
        let p = ex + 4;
        const take = () => { if (p + 8 > ex + 4 + len) fail(`entry '${name}' has a short zip64 field`); const v = u64(p); p += 8; return v; };
        if (size === 0xffffffff) size = take();
        if (compressedSize === 0xffffffff) compressedSize = take();
        if (localOffset === 0xffffffff) localOffset = take();
      }
      ex += 4 + len;
    }
    entries.set(name, { name, method, compressedSize, size, crc, localOffset });
    at += 46 + nameLen + extraLen + commentLen;
  }

  const read = (name: string): Uint8Array => {
    const e = entries.get(name);
    if (!e) throw new WeightFileError(file, `zip has no entry '${name}'`);
    need(e.localOffset, 30, `local header of '${name}'`);
    if (u32(e.localOffset) !== SIG_LOCAL) fail(`bad local header signature for '${name}'`);
    // The local header's own name/extra lengths (PyTorch pads its extra field to align data).
    const start = e.localOffset + 30 + u16(e.localOffset + 26) + u16(e.localOffset + 28);
    need(start, e.compressedSize, `data of '${name}'`);
    const raw = bytes.subarray(start, start + e.compressedSize);
    let out: Uint8Array;
    if (e.method === 0) {
      out = raw;
    } else if (e.method === 8) {
      if (e.size > e.compressedSize * MAX_DEFLATE_RATIO + 64) {
        fail(`entry '${name}' claims ${e.size} bytes, more than its ${e.compressedSize} compressed bytes can hold`);
      }
      try {
        // Inflating into a buffer of the declared size never allocates more than that: an
        // entry that holds more is cut there, and its CRC check below then fails.
        out = inflateSync(raw, { out: new Uint8Array(e.size) });
      } catch (err) {
        return fail(`entry '${name}' does not inflate: ${(err as Error).message}`);
      }
    } else {
      return fail(`entry '${name}' uses unsupported compression method ${e.method}`);
    }
    if (out.byteLength !== e.size) fail(`entry '${name}' holds ${out.byteLength} bytes, directory says ${e.size}`);
    if (crc32(out) !== e.crc) fail(`entry '${name}' fails its CRC check`);
    return out;
  };

  return { entries, read };
}
