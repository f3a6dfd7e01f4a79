/**
 * The fuzz worker thread: runs cases [start, start + count) of one target and reports
 * failures and progress. It publishes the index of the case it is in and when that case
 * began in shared memory, so the main thread can terminate it when a case hangs (see
 * runner.ts). Mode 'sample' only rebuilds one case's input (after a hang or a crash, the
 * main thread needs the bytes that caused it).
 */

import { parentPort, workerData } from 'node:worker_threads';
import { installAllocationGuard } from './alloc-guard.js';

export interface WorkerJob {
  mode: 'run' | 'sample';
  target: string;
  runSeed: number;
  start: number;
  count: number;
  timeLimitMs: number;
  /** Int32 [0]: current case index; Float64 at byte 8: its start time (performance.timeOrigin + now). */
  heartbeat: SharedArrayBuffer;
}

export type WorkerMessage =
  | { type: 'ready'; seeds: string[]; truncations: number }
  | { type: 'failure'; index: number; reason: string; detail: string; note: string; parts: Uint8Array[] }
  | { type: 'progress'; done: number; results: number; rejected: number; maxMs: number; maxAllocated: number }
  | { type: 'sample'; parts: Uint8Array[]; note: string };

// Before any parser loads: fflate keeps the Uint8Array it sees at load time.
installAllocationGuard();

const job = workerData as WorkerJob;
const post = (m: WorkerMessage) => parentPort!.postMessage(m);

const { targetNamed } = await import('./targets/index.js');
const { caseSource } = await import('./cases.js');
const { executeCase, labelFor } = await import('./execute.js');

const target = targetNamed(job.target);
await target.setup?.();
const source = await caseSource(target, job.runSeed);

if (job.mode === 'sample') {
  const s = source.sample(job.start);
  post({ type: 'sample', parts: s.parts, note: s.note });
} else {
  post({ type: 'ready', seeds: source.seeds.map((s) => s.name), truncations: source.truncations });
  const index = new Int32Array(job.heartbeat, 0, 1);
  const began = new Float64Array(job.heartbeat, 8, 1);
  let results = 0;
  let rejected = 0;
  let maxMs = 0;
  let maxAllocated = 0;
  let reported = 0;
  const progress = (done: number) => post({ type: 'progress', done, results, rejected, maxMs, maxAllocated });
  for (let i = job.start; i < job.start + job.count; i++) {
    const sample = source.sample(i);
    Atomics.store(index, 0, i);
    began[0] = performance.timeOrigin + performance.now();
    const report = executeCase(target, sample.parts, labelFor(target, i), job.timeLimitMs);
    began[0] = 0;
    maxMs = Math.max(maxMs, report.ms);
    maxAllocated = Math.max(maxAllocated, report.allocated);
    const o = report.outcome;
    if (o.kind === 'result') results++;
    else if (o.kind === 'rejected') rejected++;
    else post({ type: 'failure', index: i, reason: o.reason, detail: o.detail, note: sample.note, parts: sample.parts });
    const done = i - job.start + 1;
    if (done - reported >= 200) { progress(done); reported = done; }
  }
  progress(job.count);
}
