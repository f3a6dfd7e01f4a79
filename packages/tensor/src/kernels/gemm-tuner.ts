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
import { type GemmCall, type GemmVariant, chooseGemmVariant, gemmSubgroupLanes, gemmVariantUnsupported, runGemm } from './gemm.js';

export const GEMM_VARIANTS: readonly GemmVariant[] = ['portable', 'register-tiled', 'subgroup', 'subgroup-uniform'];

/** One thing the tuner measures: a variant, and for the subgroup ones a lane count. */
interface Candidate {
  variant: GemmVariant;
  lanes?: number;
  /** Its key in `TuneEntry.ms`: the variant, `@lanes` added where the lanes differ from the default. */
  label: string;
}

/**
 * What the tuner tries on this adapter: every variant it can run, the subgroup ones at the
 * default lane count (the adapter's smallest subgroup) and at half of it where that is
 * still 8 or more (a narrower tile with more workgroups; a GPU reporting 32..64 lanes
 * gets 32 and 16). The adapter's properties bound the lanes, the measurement picks.
 */
function candidates(): Candidate[] {
  const dflt = gemmSubgroupLanes();
  const out: Candidate[] = [];
  for (const v of GEMM_VARIANTS) {
    if (!v.startsWith('subgroup')) {
      if (gemmVariantUnsupported(v) === null) out.push({ variant: v, label: v });
      continue;
    }
    for (const lanes of dflt / 2 >= 8 ? [dflt, dflt / 2] : [dflt]) {
      if (gemmVariantUnsupported(v, lanes) === null) out.push({ variant: v, lanes, label: lanes === dflt ? v : `${v}@${lanes}` });
    }
  }
  return out;
}

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
  /** Lanes of a subgroup winner when not the default lane count. */
  lanes?: number;
  /**
   * Median ms per candidate measured, keyed by variant (`variant@lanes` for a non-default
   * lane count); NaN: failed the output check; absent: cannot run here.
   */
  ms: Record<string, number>;
}

const table = new Map<string, TuneEntry>();
let recording: Map<string, RecordedGemm> | null = null;

export function gemmKey(call: Pick<GemmCall, 'name' | 'M' | 'N' | 'K' | 'batch'>): string {
  return `${call.name}|${call.M}x${call.N}x${call.K}|${call.batch}`;
}

/** The tuned variant (and lanes) for a call, if it was tuned and can run here. */
export function tunedVariant(call: GemmCall): { variant: GemmVariant; lanes?: number } | undefined {
  if (table.size === 0) return undefined;
  const e = table.get(gemmKey(call));
  if (!e) return undefined;
  const lanes = e.variant.startsWith('subgroup') ? (e.lanes ?? gemmSubgroupLanes()) : undefined;
  return gemmVariantUnsupported(e.variant, lanes) === null ? { variant: e.variant, lanes } : undefined;
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
  const cands = candidates();
  const out: Record<string, TuneEntry> = {};
  const { device } = gpu();
  for (const rec of calls) {
    if (!opts.retune && table.has(rec.key)) continue;
    if (cands.length < 2) {
      // Nothing to choose between on this adapter: record the only variant, unmeasured.
      const only: TuneEntry = { variant: cands[0]?.variant ?? 'portable', ms: {} };
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
    const ms: Record<string, number> = {};
    let reference: Float32Array[] | null = null;
    try {
      for (const { variant: v, lanes, label } of cands) {
        clearOutputs();
        runGemm({ ...call, variant: v, lanes }); // compiles, and gives the output to check
        await sync();
        const got = await Promise.all(rec.outputs.map(async (s) => new Float32Array(await readBuffer(bufs[s]!, 0, rec.sizes[s]!))));
        if (!reference) reference = got;
        else if (got.some((g, i) => !(maxRelDiff(g, reference![i]!) <= 1e-3))) {
          ms[label] = Number.NaN;
          opts.log?.(`  ${rec.key}: ${label} gives different results from ${cands[0]!.label} — not used`);
          continue;
        }
        const times: number[] = [];
        const best = Math.min(...cands.map((x) => ms[x.label] ?? Infinity));
        for (let r = 0; r < reps; r++) {
          clearOutputs();
          times.push(await timeOnce(() => runGemm({ ...call, variant: v, lanes })));
          if (times[0]! > 2 * best) break; // clearly slower: one sample says enough
        }
        times.sort((a, b) => a - b);
        ms[label] = times[times.length >> 1]!;
      }
    } finally {
      for (const b of bufs) b.destroy();
    }
    const ok = cands.filter((c) => Number.isFinite(ms[c.label]));
    const fastest = ok.reduce((best, c) => (ms[c.label]! < ms[best.label]! ? c : best), ok[0]!);
    // Keep the default unless another candidate is clearly faster: small calls time noisily.
    const dflt = ok.find((c) => c.label === chooseGemmVariant());
    const pick = dflt && ms[fastest.label]! > ms[dflt.label]! / (1 + SWITCH_MARGIN) ? dflt : fastest;
    const entry: TuneEntry = pick.label === pick.variant ? { variant: pick.variant, ms } : { variant: pick.variant, lanes: pick.lanes, ms };
    table.set(rec.key, entry);
    out[rec.key] = entry;
    opts.log?.(`  ${rec.key}: ${cands.map((c) => `${c.label} ${Number.isFinite(ms[c.label]) ? ms[c.label]!.toFixed(1) : 'x'} ms`).join(', ')} → ${pick.label}`);
  }
  return out;
}
