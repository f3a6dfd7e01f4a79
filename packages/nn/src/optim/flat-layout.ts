/**
 * Where each parameter of a group lives in the group's flat buffers, and which
 * parameters one update dispatch can cover in a step. Pure arithmetic on sizes and
 * flags, so it is tested without a device.
 */

/** Parameters start at multiples of 4 elements (16 bytes): packed ranges then always take the vec4 kernels. */
export const ALIGN = 4;

export const padded = (n: number): number => Math.ceil(n / ALIGN) * ALIGN;

export interface Slot {
  /** The parameter's index in its group. */
  index: number;
  /** First element in the chunk (a multiple of ALIGN). */
  offset: number;
  size: number;
}

/** One flat buffer's worth of parameters. */
export interface Chunk {
  /** In buffer order: the decayed parameters first, then the no-decay ones. */
  slots: Slot[];
  /** Elements, padding included (a multiple of ALIGN). */
  length: number;
  /** Where the no-decay parameters start (length when there are none). */
  decayEnd: number;
}

export interface LayoutParam {
  index: number;
  size: number;
  noDecay: boolean;
}

/**
 * Packs parameters into chunks of at most `maxElements` (the device's binding limit):
 * decayed parameters first, so that the no-decay ones form one tail range whose start
 * the kernel receives — one dispatch then serves both kinds.
 */
export function planLayout(params: readonly LayoutParam[], maxElements: number): Chunk[] {
  const ordered = [...params.filter((p) => !p.noDecay), ...params.filter((p) => p.noDecay)];
  const chunks: Chunk[] = [];
  let cur: Chunk | null = null;
  for (const p of ordered) {
    if (padded(p.size) > maxElements) throw new Error(`internal: a parameter of ${p.size} elements exceeds one buffer binding`);
    if (!cur || cur.length + padded(p.size) > maxElements) chunks.push((cur = { slots: [], length: 0, decayEnd: 0 }));
    cur.slots.push({ index: p.index, offset: cur.length, size: p.size });
    cur.length += padded(p.size);
    if (!p.noDecay) cur.decayEnd = cur.length;
  }
  return chunks;
}

/** Slots [first, end) of a chunk, updated by one dispatch. */
export interface Run {
  first: number;
  end: number;
}

/**
 * Splits a chunk's slots into maximal runs of neighbours that can share a dispatch:
 * each has a gradient this step (`key` is null for one that has none — frozen or
 * unused: Adam on a zero gradient is not skipping, so those are left out) and all
 * share the same key (Adam's step count, which its debiasing depends on). A fully
 * trained group is one run; a frozen body whose BatchNorm still trains is one run of
 * the no-decay tail.
 */
export function planRuns(count: number, key: (slot: number) => number | null): Run[] {
  const runs: Run[] = [];
  let open: (Run & { key: number }) | null = null;
  for (let s = 0; s < count; s++) {
    const k = key(s);
    if (k === null || !open || open.key !== k) {
      if (open) runs.push({ first: open.first, end: open.end });
      open = k === null ? null : { first: s, end: s + 1, key: k };
    } else {
      open.end = s + 1;
    }
  }
  if (open) runs.push({ first: open.first, end: open.end });
  return runs;
}

/** The element range a run covers in its chunk: from its first slot to the padded end of its last. */
export function runSpan(chunk: Chunk, run: Run): { start: number; end: number } {
  const last = chunk.slots[run.end - 1]!;
  return { start: chunk.slots[run.first]!.offset, end: last.offset + padded(last.size) };
}
