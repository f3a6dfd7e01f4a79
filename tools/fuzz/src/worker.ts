/**
 * The fuzz worker thread. Mode 'run' runs cases [start, start + count) of one target and
 * reports failures and progress; 'sample' only rebuilds one case's input (after a hang or a
 * crash the main thread needs the bytes that caused it); 'replay' runs one saved input.
 * While in a case it publishes the case's index and start time in shared memory, so the
 * main thread can terminate it when the case hangs (see runner.ts).
 */

import { parentPort, workerData } from 'node:worker_threads';
import { installAllocationGuard } from './alloc-guard.js';
import type { CaseReport } from './execute.js';
import { Heartbeat } from './heartbeat.js';

export interface WorkerJob {
  mode: 'run' | 'sample' | 'replay';
  target: string;
  runSeed: number;
  start: number;
  count: number;
  timeLimitMs: number;
  /** Shared counters, readable by the main thread even after it terminated this worker (see Heartbeat). */
  heartbeat: SharedArrayBuffer;
  /** The input to replay (mode 'replay'). */
  parts?: Uint8Array[];
}

export type WorkerMessage =
  | { type: 'ready'; seeds: string[]; truncations: number }
  | { type: 'failure'; index: number; reason: string; detail: string; note: string; parts: Uint8Array[] }
  | { type: 'progress'; done: number }
  | { type: 'sample'; parts: Uint8Array[]; note: string }
  | { type: 'replayed'; report: CaseReport };

// Before any parser loads: fflate keeps the Uint8Array it sees at load time.
installAllocationGuard();

const job = workerData as WorkerJob;
const post = (m: WorkerMessage) => parentPort!.postMessage(m);
const beat = new Heartbeat(job.heartbeat);

const { targetNamed } = await import('./targets/index.js');
const { caseSource } = await import('./cases.js');
const { executeCase, labelFor } = await import('./execute.js');

const target = targetNamed(job.target);
await target.setup?.();

/** One case, with the heartbeat set around it. */
function timed(i: number, parts: Uint8Array[]): CaseReport {
  beat.enter(i);
  const report = executeCase(target, parts, labelFor(target, i), job.timeLimitMs);
  beat.leave(report);
  return report;
}

async function runCases(): Promise<void> {
  const source = await caseSource(target, job.runSeed);
  post({ type: 'ready', seeds: source.seeds.map((s) => s.name), truncations: source.truncations });
  for (let i = job.start; i < job.start + job.count; i++) {
    const sample = source.sample(i);
    const o = timed(i, sample.parts).outcome;
    if (o.kind === 'failure') post({ type: 'failure', index: i, reason: o.reason, detail: o.detail, note: sample.note, parts: sample.parts });
  }
  post({ type: 'progress', done: job.count });
}

if (job.mode === 'replay') {
  post({ type: 'replayed', report: timed(0, job.parts!) });
} else if (job.mode === 'sample') {
  const s = (await caseSource(target, job.runSeed)).sample(job.start);
  post({ type: 'sample', parts: s.parts, note: s.note });
} else {
  await runCases();
}
