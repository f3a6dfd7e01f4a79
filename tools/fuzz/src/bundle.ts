/**
 * Saved failing inputs. A one-part input (an image, a weight file) is saved as its own bytes,
 * so it can be opened with any tool; a several-part input (model.json + shards) as a bundle:
 * "TSFUZZ01", a u32 part count, u32 lengths, then the parts.
 */

import { createHash } from 'node:crypto';

const MAGIC = 'TSFUZZ01';

export function encodeInput(parts: readonly Uint8Array[]): Uint8Array {
  const startsLikeBundle = parts.length === 1 && String.fromCharCode(...parts[0]!.subarray(0, 8)) === MAGIC;
  if (parts.length === 1 && !startsLikeBundle) return parts[0]!;
  const head = new Uint8Array(8 + 4 + 4 * parts.length);
  const view = new DataView(head.buffer);
  head.set(Array.from(MAGIC, (c) => c.charCodeAt(0)));
  view.setUint32(8, parts.length, true);
  parts.forEach((p, i) => view.setUint32(12 + 4 * i, p.byteLength, true));
  return Buffer.concat([head, ...parts]);
}

export function decodeInput(bytes: Uint8Array): Uint8Array[] {
  const isBundle = bytes.length >= 12 && String.fromCharCode(...bytes.subarray(0, 8)) === MAGIC;
  if (!isBundle) return [bytes];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = view.getUint32(8, true);
  const parts: Uint8Array[] = [];
  let at = 12 + 4 * count;
  for (let i = 0; i < count; i++) {
    const len = view.getUint32(12 + 4 * i, true);
    parts.push(bytes.subarray(at, at + len));
    at += len;
  }
  return parts;
}

export function hashOf(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex').slice(0, 16);
}
