/**
 * The mutator: from a valid seed to a nearly valid input. Parsers fail on inputs that are
 * almost right (a length one too large, a chunk cut in half), so every operator keeps most
 * of the seed and changes a little:
 *  - on even cases, until done: truncation at every structure boundary (and every byte of a
 *    small seed), in order;
 *  - on the others: 1..4 stacked random edits: bit flips, interesting bytes, insertions, deletions,
 *    truncation, copied ranges, a splice with another seed, "lying length fields" (1/2/4/8
 *    bytes, either byte order, set to 0, ±1 around the input size, 2^31-1, 2^32-1, ...), and
 *    for text (JSON headers) a number or a string literal replaced by an interesting value.
 * Positions favour the target's boundaries (where length fields and markers sit) and its
 * focus range (e.g. a model file's header rather than its megabytes of floats).
 */

import { Rng } from './rng.js';
import type { Sample, Seed } from './target.js';

/** Byte offsets that are worth cutting at or writing near, per part. */
function cutPoints(seed: Seed, part: number): number[] {
  const bytes = seed.parts[part]!;
  const points = new Set<number>([0, 1]);
  for (const b of seed.boundaries?.[part] ?? []) for (const d of [-1, 0, 1]) points.add(b + d);
  // Small parts: every offset. Large ones: the boundaries and an even spread.
  const step = bytes.length <= 2048 ? 1 : Math.ceil(bytes.length / 128);
  for (let at = 0; at < bytes.length; at += step) points.add(at);
  return [...points].filter((p) => p >= 0 && p < bytes.length).sort((a, b) => a - b);
}

/** The deterministic part of a run: each seed cut at each of its cut points. */
export function truncationSchedule(seeds: readonly Seed[]): { seed: number; part: number; at: number }[] {
  const out: { seed: number; part: number; at: number }[] = [];
  seeds.forEach((seed, s) => seed.parts.forEach((_, p) => { for (const at of cutPoints(seed, p)) out.push({ seed: s, part: p, at }); }));
  return out;
}

const INTERESTING_BYTES = [0x00, 0x01, 0x7f, 0x80, 0xff, 0xfe, 0x20, 0x0a, 0x7b, 0x22];

function interestingInts(length: number): number[] {
  return [
    0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff,
    length - 1, length, length + 1, length * 2, 2 ** 30, 2 ** 53 - 1,
  ];
}

const INTERESTING_NUMBERS = ['-1', '0', '1', '2', '65535', '65536', '4294967295', '4294967296', '9007199254740993',
  '1e308', '1e400', '-0', '0.5', '1e9', '2147483648', '99999999999999999999', 'null', '"x"', '[]', '{}', 'true'];

/** A position in the part: near a boundary, inside the focus range, or anywhere. */
function position(rng: Rng, seed: Seed | undefined, part: number, length: number): number {
  if (length === 0) return 0;
  const boundaries = seed?.boundaries?.[part];
  const focus = seed?.focus?.[part];
  const r = rng.next();
  if (boundaries && boundaries.length && r < 0.4) {
    const at = rng.pick(boundaries) + rng.int(9) - 2;
    return Math.min(length - 1, Math.max(0, at));
  }
  if (focus && r < 0.9) {
    const [a, b] = focus;
    const end = Math.min(length, b);
    if (end > a) return a + rng.int(end - a);
  }
  return rng.int(length);
}

function splice(a: Uint8Array, at: number, remove: number, insert: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(a.length - remove + insert.length);
  out.set(a.subarray(0, at), 0);
  out.set(insert, at);
  out.set(a.subarray(at + remove), at + insert.length);
  return out;
}

function writeInt(out: Uint8Array, at: number, width: number, value: number, little: boolean): void {
  let v = BigInt(Math.max(0, Math.floor(value))) & ((1n << BigInt(8 * width)) - 1n);
  for (let i = 0; i < width && at + i < out.length; i++) {
    const k = little ? i : width - 1 - i;
    out[at + k] = Number(v & 0xffn);
    v >>= 8n;
  }
}

/** Replaces the run of digits (a number in a JSON header) at or after `at` by an interesting literal. */
function mutateNumber(rng: Rng, bytes: Uint8Array, at: number): Uint8Array | null {
  const isDigit = (i: number) => bytes[i]! >= 0x30 && bytes[i]! <= 0x39;
  let a = at;
  while (a < bytes.length && !isDigit(a)) a++;
  if (a === bytes.length) {
    a = 0;
    while (a < at && !isDigit(a)) a++;
    if (a === at) return null;
  }
  while (a > 0 && isDigit(a - 1)) a--;
  let b = a;
  while (b < bytes.length && isDigit(b)) b++;
  const text = rng.pick(INTERESTING_NUMBERS);
  return splice(bytes, a, b - a, Array.from(text, (c) => c.charCodeAt(0)));
}

const INTERESTING_STRINGS = ['""', '"null"', '"1"', '"-1"', '"[]"', '"{}"', '"[null]"', '"[1]"', '"{\\"size\\":-1}"', 'null', '1', '[]', '{}', '"\\u0000"'];

/**
 * Replaces the JSON string literal (a name, a dtype, JSON-in-JSON metadata) that `at` is in
 * or that follows it by an interesting value. Unescaped quotes pair up as open/close.
 */
function mutateString(rng: Rng, bytes: Uint8Array, at: number): Uint8Array | null {
  const quotes: number[] = [];
  for (let i = 0; i < bytes.length; i++) if (bytes[i] === 0x22 && bytes[i - 1] !== 0x5c) quotes.push(i);
  if (quotes.length < 2) return null;
  let k = quotes.findIndex((q) => q >= at);
  if (k < 0) k = quotes.length - 1;
  k -= k % 2; // the opening quote of its pair
  if (k + 1 >= quotes.length) return null;
  const [a, b] = [quotes[k]!, quotes[k + 1]!];
  const text = rng.pick(INTERESTING_STRINGS);
  return splice(bytes, a, b + 1 - a, Array.from(text, (c) => c.charCodeAt(0)));
}

/** One random edit of `bytes`. */
function mutateOnce(rng: Rng, bytes: Uint8Array, seed: Seed | undefined, part: number, others: readonly Seed[]): Uint8Array {
  const n = bytes.length;
  const at = position(rng, seed, part, n);
  switch (rng.int(11)) {
    case 0: { // bit flip
      if (n === 0) return bytes;
      const out = bytes.slice();
      out[at] ^= 1 << rng.int(8);
      return out;
    }
    case 1: { // interesting byte
      if (n === 0) return bytes;
      const out = bytes.slice();
      out[at] = rng.chance(0.7) ? rng.pick(INTERESTING_BYTES) : rng.int(256);
      return out;
    }
    case 2: { // insertion: random bytes or a copy of a nearby range
      const len = 1 + rng.int(rng.chance(0.8) ? 16 : 512);
      const insert = rng.chance(0.5) && n > 0
        ? bytes.subarray(rng.int(n)).subarray(0, len)
        : Uint8Array.from({ length: len }, () => rng.int(256));
      return splice(bytes, at, 0, insert);
    }
    case 3: // deletion
      return splice(bytes, at, Math.min(n - at, 1 + rng.int(rng.chance(0.8) ? 8 : 1024)), []);
    case 4: // truncation
      return bytes.subarray(0, at);
    case 5:
    case 6: { // lying length field
      if (n === 0) return bytes;
      const out = bytes.slice();
      const width = rng.pick([1, 2, 4, 8]);
      const base = rng.pick(interestingInts(n));
      const value = rng.chance(0.2) ? base + rng.int(17) - 8 : base;
      writeInt(out, at, width, value, rng.chance(0.5));
      return out;
    }
    case 7: { // copy a range over another place
      if (n < 2) return bytes;
      const out = bytes.slice();
      const from = rng.int(n);
      const len = Math.min(1 + rng.int(64), n - from, n - at);
      out.copyWithin(at, from, from + len);
      return out;
    }
    case 8: { // splice with another seed's same part
      const other = rng.pick(others).parts[part];
      if (!other || other.length === 0) return bytes;
      return splice(bytes, at, n - at, other.subarray(rng.int(other.length)));
    }
    case 9: // a number in text
      return mutateNumber(rng, bytes, at) ?? bytes;
    default: // a string in text
      return mutateString(rng, bytes, at) ?? bytes;
  }
}

/**
 * Case `index` of a run. Even cases walk the truncation schedule until it is done, odd ones
 * (and all after it) are random mutations, so a short run already has some of both.
 * `repair` (e.g. recomputing PNG CRCs) is applied to most random mutations, so that edits
 * reach the code behind a checksum.
 */
export function makeCase(
  seeds: readonly Seed[], runSeed: number, target: string, index: number,
  schedule = truncationSchedule(seeds), repair?: (parts: Uint8Array[]) => Uint8Array[],
): Sample {
  if (index % 2 === 0 && index / 2 < schedule.length) {
    const t = schedule[index / 2]!;
    const parts = seeds[t.seed]!.parts.slice();
    parts[t.part] = parts[t.part]!.subarray(0, t.at);
    return { parts, note: `seed ${t.seed} part ${t.part} cut at ${t.at}` };
  }
  const rng = Rng.forCase(runSeed, target, index);
  const s = rng.int(seeds.length);
  const seed = seeds[s]!;
  const parts = seed.parts.slice();
  const weights = seed.partWeights ?? parts.map(() => 1);
  let p = 0;
  for (let r = rng.next() * weights.reduce((a, b) => a + b, 0); p < parts.length - 1 && r >= weights[p]!; p++) r -= weights[p]!;
  const edits = 1 + rng.int(4);
  let bytes = parts[p]!;
  for (let e = 0; e < edits; e++) bytes = mutateOnce(rng, bytes, seed, p, seeds);
  parts[p] = bytes;
  if (repair && rng.chance(0.8)) return { parts: repair(parts), note: `seed ${s} part ${p}, ${edits} edit(s), repaired` };
  return { parts, note: `seed ${s} part ${p}, ${edits} edit(s)` };
}
