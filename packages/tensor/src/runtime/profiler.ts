/**
 * Per-dispatch GPU timing with timestamp queries, for benchmarks and tuning only.
 *
 * While a profile is open, the queue gives every dispatch a compute pass of its own
 * whose beginning and end write timestamps; at each submit the queries are resolved
 * and copied to a mappable buffer. `stopProfile()` (async: it reads back) returns
 * each dispatch's kernel name and device time. Passes of their own cost a little
 * per dispatch, so profile a separate run from the one you time end to end.
 */
import { gpu } from './device.js';

export interface DispatchTiming {
  /** The kernel's name (its pipeline label), e.g. `gemm_conv2d_fwd_portable`. */
  name: string;
  /** Device time between the start and the end of its pass. */
  ms: number;
}

interface Chunk {
  names: string[];
  readback: GPUBuffer;
}

const CAPACITY = 2048; // dispatches per submit: WebGPU allows 4096 queries per set; the queue submits every 512

let active = false;
let querySet: GPUQuerySet | null = null;
let names: string[] = [];
const chunks: Chunk[] = [];

/** Whether this adapter can profile (the `timestamp-query` feature was granted). */
export function canProfile(): boolean {
  return gpu().hasTimestamps;
}

/** Starts recording the device time of every dispatch until stopProfile(). */
export function startProfile(): void {
  if (!canProfile()) throw new Error('profiling needs the timestamp-query feature, which this adapter does not offer');
  active = true;
  names = [];
  chunks.length = 0;
  querySet ??= gpu().device.createQuerySet({ type: 'timestamp', count: CAPACITY * 2, label: 'tessera-profile' });
}

export function isProfiling(): boolean {
  return active;
}

/** Timestamp writes for the next dispatch's own pass, or undefined when not profiling. */
export function nextPassTimestamps(kernelName: string): GPUComputePassTimestampWrites | undefined {
  if (!active || !querySet || names.length >= CAPACITY) return undefined;
  const i = names.length;
  names.push(kernelName);
  return { querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 };
}

/** Called by the queue just before it finishes a command encoder: resolves this submit's queries. */
export function resolveProfile(encoder: GPUCommandEncoder): void {
  if (!active || !querySet || names.length === 0) return;
  const { device } = gpu();
  const bytes = names.length * 16;
  const resolved = device.createBuffer({ size: bytes, usage: 0x200 /* QUERY_RESOLVE */ | 0x4 /* COPY_SRC */, label: 'profile-resolve' });
  const readback = device.createBuffer({ size: bytes, usage: 0x1 /* MAP_READ */ | 0x8 /* COPY_DST */, label: 'profile-read' });
  encoder.resolveQuerySet(querySet, 0, names.length * 2, resolved, 0);
  encoder.copyBufferToBuffer(resolved, 0, readback, 0, bytes);
  chunks.push({ names, readback });
  names = [];
}

/**
 * Ends the profile and returns every dispatch recorded, in order. The caller must
 * have flushed (e.g. awaited sync()) so the last submit's queries were resolved.
 */
export async function stopProfile(): Promise<DispatchTiming[]> {
  active = false;
  const out: DispatchTiming[] = [];
  for (const c of chunks.splice(0)) {
    await c.readback.mapAsync(0x1 /* READ */);
    const t = new BigUint64Array(c.readback.getMappedRange().slice(0));
    c.readback.unmap();
    c.readback.destroy();
    c.names.forEach((name, i) => out.push({ name, ms: Number(t[2 * i + 1]! - t[2 * i]!) / 1e6 }));
  }
  names = [];
  return out;
}
