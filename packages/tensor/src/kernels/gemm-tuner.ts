/**
 * The GEMM autotuner: for each GEMM-shaped call a workload makes (matmul, the three
 * convolution GEMMs), measure every variant this adapter can run on a copy of the
 * call (fresh buffers of the same sizes, random inputs), keep the fastest whose
 * output matches the portable variant's, and remember it per call key
 * (`name|M×N×K|batch`). The table is plain data: `gemmTuning()` / `setGemmTuning()`
 * move it to and from a file (the Node entry caches it on disk per adapter and driver
 * version, see node/tuning-cache.ts). Calls without an entry use `chooseGemmVariant`'s
 * default, so an untuned adapter runs the portable default or the measured-good one.
 *
 * Recording is synchronous (ops are): `recordGemms(() => step())` collects the calls a
 * step makes; `tuneGemms(calls)` is async (it measures).
 */
import { gpu } from '../runtime/device.js';
import { canProfile, startProfile, stopProfile } from '../runtime/profiler.js';
import { readBuffer, sync, writeBuffer, type BufferBinding } from '../runtime/queue.js';
import { type GemmCall, type GemmVariant, chooseGemmVariant, gemmVariantUnsupported, runGemm } from './gemm.js';

export const GEMM_VARIANTS: readonly GemmVariant[] = ['portable', 'subgroup', 'subgroup-uniform'];

/** A recorded call: the call itself (hooks, params) and the sizes of its buffers, by identity. */
export interface RecordedGemm {
  key: string;
  call: GemmCall;
  /** For each entry of call.buffers: index into `sizes` (the same buffer bound twice shares one). */
  bufferSlots: number[];
  /** The original bindings' offset/size, for entries bound as ranges. */
  ranges: (Omit<BufferBinding, 'buffer'> | null)[];
  sizes: number[];
  /** Slots the call writes (its epilogue's write bindings). */
  outputs: number[];
}

export interface TuneEntry {
  variant: GemmVariant;
  /** Median ms per variant measured (NaN: failed the output check; absent: cannot run here). */
  ms: Partial<Record<GemmVariant, number>>;
}

const table = new Map<string, TuneEntry>();
let recording: Map<string, RecordedGemm> | null = null;

export function gemmKey(call: Pick<GemmCall, 'name' | 'M' | 'N' | 'K' | 'batch'>): string {
  return `${call.name}|${call.M}x${call.N}x${call.K}|${call.batch}`;
}

/** The tuned variant for a call, if it was tuned and can run here. */
export function tunedVariant(call: GemmCall): GemmVariant | undefined {
  if (table.size === 0) return undefined;
  const e = table.get(gemmKey(call));
  return e && gemmVariantUnsupported(e.variant) === null ? e.variant : undefined;
}

/** Called by runGemm for every call while recording. */
export function noteGemm(call: GemmCall): void {
  if (!recording) return;
  const key = gemmKey(call);
  if (recording.has(key)) return;
  const ids = new Map<GPUBuffer, number>();
  const sizes: number[] = [];
  const bufferSlots = call.buffers.map((b) => {
    const buf = 'buffer' in b ? b.buffer : b;
    let slot = ids.get(buf);
    if (slot === undefined) {
      ids.set(buf, (slot = sizes.length));
      sizes.push(buf.size);
    }
    return slot;
  });
  const hooks = [...call.a.bindings, ...call.b.bindings, ...call.c.bindings];
  const outputs = [...new Set(hooks.flatMap((h, i) => (h.write ? [bufferSlots[i]!] : [])))];
  const ranges = call.buffers.map((b) => ('buffer' in b ? { offset: b.offset, size: b.size } : null));
  recording.set(key, { key, call: { ...call, buffers: [], variant: undefined }, bufferSlots, ranges, sizes, outputs });
}

/** Runs `fn` (synchronously) and returns the distinct GEMM calls it made. */
export function recordGemms<T>(fn: () => T): { result: T; calls: RecordedGemm[] } {
  const outer = recording;
  recording = new Map();
  try {
    const result = fn();
    return { result, calls: [...recording.values()] };
  } finally {
    recording = outer;
  }
}

/** The tuning table (call key → winner and timings), e.g. to save it. */
export function gemmTuning(): Record<string, TuneEntry> {
  return Object.fromEntries(table);
}

/** Replaces the tuning table (e.g. loaded from a file); entries for variants this adapter cannot run are ignored at lookup. */
export function setGemmTuning(entries: Record<string, TuneEntry>): void {
  table.clear();
  for (const [k, v] of Object.entries(entries)) if (GEMM_VARIANTS.includes(v.variant)) table.set(k, v);
}

/** Identifies the adapter and its driver version (the tuning is only valid for those). */
export function adapterKey(): string {
  const i = gpu().info;
  return `${i.vendor}|${i.architecture}|${i.description}`;
}

/** Another variant replaces the default only when at least this much faster. */
const SWITCH_MARGIN = 0.1;

/** Device time of the dispatches `run` makes (timestamp queries), else wall time to completion. */
async function timeOnce(run: () => void): Promise<number> {
  await sync();
  if (canProfile()) {
    startProfile();
    run();
    await sync();
    return (await stopProfile()).reduce((sum, t) => sum + t.ms, 0);
  }
  const t0 = performance.now();
  run();
  await sync();
  return performance.now() - t0;
}

export interface TuneOptions {
  /** Timed repetitions per variant (median kept; default 3). */
  reps?: number;
  /** Re-measure calls already in the table (default false). */
  retune?: boolean;
  log?: (line: string) => void;
}

function randomWords(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = ((s >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}

function maxRelDiff(a: Float32Array, b: Float32Array): number {
  let worst = 0;
  let scale = 1e-6;
  for (let i = 0; i < a.length; i++) scale = Math.max(scale, Math.abs(b[i]!));
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / scale);
  return worst;
}

/**
 * Measures every runnable variant for each recorded call not yet tuned (device time
 * by timestamp queries where the adapter has them), records the fastest whose outputs
 * match the first variant's (max |Δ| ≤ 1e-3 of the largest output) — the default
 * unless another is ≥ 10% faster — and returns the new entries. The calls run on fresh buffers; nothing a
 * tensor holds is touched.
 */
export async function tuneGemms(calls: readonly RecordedGemm[], opts: TuneOptions = {}): Promise<Record<string, TuneEntry>> {
  const reps = Math.max(1, opts.reps ?? 3);
  const variants = GEMM_VARIANTS.filter((v) => gemmVariantUnsupported(v) === null);
  const out: Record<string, TuneEntry> = {};
  const { device } = gpu();
  for (const rec of calls) {
    if (!opts.retune && table.has(rec.key)) continue;
    if (variants.length < 2) {
      // Nothing to choose between on this adapter: record the only variant, unmeasured.
      const only: TuneEntry = { variant: variants[0] ?? 'portable', ms: {} };
      table.set(rec.key, only);
      out[rec.key] = only;
      continue;
    }
    const bufs = rec.sizes.map((size, i) => {
      const b = device.createBuffer({ size, usage: 0x80 | 0x4 | 0x8, label: `tune-${i}` });
      if (!rec.outputs.includes(i)) writeBuffer(b, 0, randomWords(size / 4, 1 + i));
      return b;
    });
    const call: GemmCall = {
      ...rec.call,
      buffers: rec.bufferSlots.map((s, i) => (rec.ranges[i] ? { ...rec.ranges[i], buffer: bufs[s]! } : bufs[s]!)),
    };
    const zero = new Float32Array(Math.max(...rec.outputs.map((s) => rec.sizes[s]! / 4), 1));
    const clearOutputs = () => rec.outputs.forEach((s) => writeBuffer(bufs[s]!, 0, zero.subarray(0, rec.sizes[s]! / 4)));
    const ms: Partial<Record<GemmVariant, number>> = {};
    let reference: Float32Array[] | null = null;
    try {
      for (const v of variants) {
        clearOutputs();
        runGemm({ ...call, variant: v }); // compiles, and gives the output to check
        await sync();
        const got = await Promise.all(rec.outputs.map(async (s) => new Float32Array(await readBuffer(bufs[s]!, 0, rec.sizes[s]!))));
        if (!reference) reference = got;
        else if (got.some((g, i) => !(maxRelDiff(g, reference![i]!) <= 1e-3))) {
          ms[v] = Number.NaN;
          opts.log?.(`  ${rec.key}: ${v} gives different results from ${variants[0]} — not used`);
          continue;
        }
        const times: number[] = [];
        const best = Math.min(...variants.map((x) => ms[x] ?? Infinity));
        for (let r = 0; r < reps; r++) {
          clearOutputs();
          times.push(await timeOnce(() => runGemm({ ...call, variant: v })));
          if (times[0]! > 2 * best) break; // clearly slower: one sample says enough
        }
        times.sort((a, b) => a - b);
        ms[v] = times[times.length >> 1]!;
      }
    } finally {
      for (const b of bufs) b.destroy();
    }
    const ok = variants.filter((v) => Number.isFinite(ms[v]));
    const fastest = ok.reduce((best, v) => (ms[v]! < ms[best]! ? v : best), ok[0]!);
    // Keep the default unless another variant is clearly faster: small calls time noisily.
    const dflt = chooseGemmVariant();
    const variant = ok.includes(dflt) && ms[fastest]! > ms[dflt]! / (1 + SWITCH_MARGIN) ? dflt : fastest;
    const entry = { variant, ms };
    table.set(rec.key, entry);
    out[rec.key] = entry;
    opts.log?.(`  ${rec.key}: ${variants.map((v) => `${v} ${Number.isFinite(ms[v]) ? ms[v]!.toFixed(1) : 'x'} ms`).join(', ')} → ${variant}`);
  }
  return out;
}
