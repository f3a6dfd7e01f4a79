/**
 * The benchmark harness: what a case is, how it is timed, and the record it yields.
 * GPU work is timed with `await sync()` (everything submitted has finished) around
 * repeated dispatches, after a warm-up that also compiles the pipelines; the figure
 * kept is the median over repetitions.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** A baseline measured in the same run as the case. */
export interface RefResult {
  name: string;
  /** Median milliseconds per operation. */
  ms: number;
  /** How it was measured when not directly (e.g. on a sub-block and scaled). */
  note?: string;
}

/** The unit a case's throughput is reported in. */
export type RateUnit = 'GFLOP/s' | 'GB/s' | 'img/s';

/** One line of the results (and one record of `--json`). */
export interface BenchRecord {
  name: string;
  shape: string;
  /** Median ms per run (NaN when skipped). */
  ms: number;
  /** Throughput in `unit` (work of one run / ms). */
  rate: number;
  unit: RateUnit;
  /** Same as `rate` for GFLOP/s cases (kept for older readers of the JSON). */
  gflops?: number;
  refs: RefResult[];
  /** Why the case did not run. */
  skipped?: string;
  /** Case-specific figures (e.g. per-worker images/s). */
  extra?: Record<string, number>;
}

/** What a case's run() returns. */
export interface CaseResult {
  /** Our median ms per run. */
  ms: number;
  refs: RefResult[];
  notes?: string[];
  /** Set (with ms NaN) when the case could not run here; printed as the reason. */
  skipped?: string;
  extra?: Record<string, number>;
}

export interface BenchContext {
  /** Timed repetitions for our own kernels (median kept). */
  reps: number;
  /** Progress messages (stderr). */
  log(msg: string): void;
}

/**
 * One benchmark. Its work per run is given by exactly one of `flops` (reported in
 * GFLOP/s), `bytes` (GB/s) or `items` (images/s).
 */
export interface BenchCase {
  /** Operation name, e.g. 'matmul'. */
  name: string;
  /** Human-readable problem size, e.g. '1024x1024x1024' (M×N×K for GEMMs). */
  shape: string;
  /** Floating-point operations of one run (a multiply-add counts 2). */
  flops?: number;
  /** Bytes read + written by one run of the minimal algorithm. */
  bytes?: number;
  /** Images processed by one run. */
  items?: number;
  /** Measures ours and the baselines; returns median ms per run for each. */
  run(ctx: BenchContext): Promise<CaseResult>;
}

export function unitOf(c: BenchCase): RateUnit {
  return c.flops !== undefined ? 'GFLOP/s' : c.bytes !== undefined ? 'GB/s' : 'img/s';
}

/** Throughput of one run of `c` taking `ms`, in unitOf(c). */
export function rateOf(c: BenchCase, ms: number): number {
  if (c.flops !== undefined) return c.flops / ms / 1e6;
  if (c.bytes !== undefined) return c.bytes / ms / 1e6;
  return ((c.items ?? 0) * 1000) / ms;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
}

export interface TimeOptions {
  warmup?: number;
  reps?: number;
  /** Runs per repetition (the time is divided by it). */
  inner?: number;
}

/**
 * Median milliseconds of `run`, where `settle` waits for the device to finish. Each
 * repetition encodes `inner` runs and then settles once.
 */
export async function timeMedian(run: () => void, settle: () => Promise<void>, opts: TimeOptions = {}): Promise<number> {
  const { warmup = 1, reps = 5, inner = 1 } = opts;
  for (let i = 0; i < warmup; i++) {
    run();
    await settle();
  }
  const times: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    for (let i = 0; i < inner; i++) run();
    await settle();
    times.push((performance.now() - t0) / inner);
  }
  return median(times);
}

/** The record of one case's run (`namePrefix` marks where it ran, e.g. 'browser '). */
export function benchRecord(c: BenchCase, r: CaseResult, namePrefix = ''): BenchRecord {
  const unit = unitOf(c);
  const rate = r.skipped ? Number.NaN : rateOf(c, r.ms);
  return {
    name: `${namePrefix}${c.name}`,
    shape: c.shape,
    ms: r.skipped ? Number.NaN : r.ms,
    rate,
    unit,
    ...(unit === 'GFLOP/s' ? { gflops: rate } : {}),
    refs: r.refs,
    ...(r.skipped ? { skipped: r.skipped } : {}),
    ...(r.extra ? { extra: r.extra } : {}),
  };
}

export const gflops = (flops: number, ms: number): number => flops / ms / 1e6;

export interface Timed {
  run: () => void;
  settle: () => Promise<void>;
  /** Repetitions for this one (default: the call's reps); slow baselines may take fewer. */
  reps?: number;
}

/**
 * A full garbage collection, run before each timed repetition (outside the timing) so
 * that a collection of garbage the baselines made does not land inside one of ours:
 * tfjs allocates many JS objects per op, and a major GC inside a 20 ms run doubles it.
 * `gc` is exposed at run time (the bench is started without --expose-gc).
 */
export const collectGarbage: () => void = (() => {
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    if (typeof gc === 'function') return gc as () => void;
  } catch {
    // fall through: no collection between repetitions
  }
  return () => {};
})();

/**
 * Milliseconds of each run of several implementations, measured interleaved (one
 * repetition of each in turn, after a warm-up of each), so that load from other
 * processes on a shared machine falls on all of them alike.
 */
export async function timeInterleavedAll(items: Timed[], reps: number): Promise<number[][]> {
  for (const it of items) {
    it.run();
    await it.settle();
  }
  const times: number[][] = items.map(() => []);
  const most = Math.max(...items.map((it) => it.reps ?? reps));
  for (let r = 0; r < most; r++) {
    for (let i = 0; i < items.length; i++) {
      const it = items[i]!;
      if (r >= (it.reps ?? reps)) continue;
      collectGarbage();
      const t0 = performance.now();
      it.run();
      await it.settle();
      times[i]!.push(performance.now() - t0);
    }
  }
  return times;
}

/** Median milliseconds of each implementation, measured interleaved (see timeInterleavedAll). */
export async function timeInterleaved(items: Timed[], reps: number): Promise<number[]> {
  return (await timeInterleavedAll(items, reps)).map(median);
}

/** A plain-text table: header, dashes, rows; columns in `leftAligned` pad right, the rest pad left (numbers). */
export function textTable(rows: string[][], leftAligned: readonly number[] = [0]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows
    .map((r, i) => {
      const line = r.map((cell, c) => (leftAligned.includes(c) ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ');
      return i === 0 ? `${line}\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : line;
    })
    .join('\n');
}
