/**
 * What a fuzz worker shares with the main thread, in a SharedArrayBuffer, so that the main
 * thread can read it at any time, including after it terminated a worker stuck in a case:
 * the case being run and since when (0 between cases), and the running totals.
 */

import type { CaseReport } from './execute.js';

export class Heartbeat {
  static readonly BYTES = 48;
  private readonly ints: Int32Array;
  private readonly floats: Float64Array;

  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(Heartbeat.BYTES)) {
    this.ints = new Int32Array(buffer, 0, 4); // index, results, rejected, failures
    this.floats = new Float64Array(buffer, 16, 3); // began (timeOrigin + now), slowest ms, largest allocation
  }

  enter(index: number): void {
    Atomics.store(this.ints, 0, index);
    this.floats[0] = performance.timeOrigin + performance.now();
  }

  leave(report: CaseReport): void {
    this.floats[0] = 0;
    const kind = report.outcome.kind;
    Atomics.add(this.ints, kind === 'result' ? 1 : kind === 'rejected' ? 2 : 3, 1);
    this.floats[1] = Math.max(this.floats[1]!, report.ms);
    this.floats[2] = Math.max(this.floats[2]!, report.allocated);
  }

  get index(): number { return Atomics.load(this.ints, 0); }
  /** When the current case began, or 0 between cases. */
  get began(): number { return this.floats[0]!; }
  get results(): number { return Atomics.load(this.ints, 1); }
  get rejected(): number { return Atomics.load(this.ints, 2); }
  get slowestMs(): number { return this.floats[1]!; }
  get largestAllocation(): number { return this.floats[2]!; }
}
