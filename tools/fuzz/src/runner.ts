/**
 * The main-thread side of a run: one worker thread per target runs the cases; the main
 * thread watches the worker's heartbeat and enforces the time bound from outside. A case
 * that runs past the bound (a hang: an endless loop in a synchronous parser) gets its
 * worker terminated, which stops even a `for (;;)`; a worker that dies (out of memory, a
 * native crash) is a failure too. Either way the case's input is rebuilt by a fresh worker
 * from (seed, index), saved, and the run goes on from the next case.
 *
 * Each worker's JS heap is capped (`resourceLimits`), which bounds what the allocation
 * guard cannot see (plain arrays, strings, objects).
 */

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { encodeInput, hashOf } from './bundle.js';
import type { WorkerJob, WorkerMessage } from './worker.js';
import type { Target } from './target.js';

export interface RunOptions {
  cases: number;
  runSeed: number;
  timeLimitMs: number;
  /** Folder for failing inputs: <out>/<target>/<hash>.bin (+ .txt). */
  out: string;
  /** JS heap cap of a worker, MiB. */
  heapMb?: number;
  log?: (line: string) => void;
}

export interface Failure {
  index: number;
  reason: string;
  detail: string;
  note: string;
  file: string;
}

export interface TargetRun {
  target: string;
  cases: number;
  results: number;
  rejected: number;
  failures: Failure[];
  seconds: number;
  maxMs: number;
  maxAllocated: number;
  seeds: string[];
  truncations: number;
}

/**
 * A worker on worker.ts. A worker does not inherit the parent's TypeScript hooks, so it
 * starts from a bootstrap that loads the entry through tsx's `tsImport` (as vision's loader
 * workers do from sources); the 'development' condition comes with the inherited execArgv.
 */
function spawn(job: WorkerJob, heapMb: number): Worker {
  const entry = new URL('./worker.ts', import.meta.url).href;
  const bootstrap =
    `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => tsx.tsImport(${JSON.stringify(entry)}, ${JSON.stringify(entry)}))` +
    '.catch((err) => { process.nextTick(() => { throw err; }); });';
  return new Worker(bootstrap, {
    eval: true,
    workerData: job,
    resourceLimits: { maxOldGenerationSizeMb: heapMb, maxYoungGenerationSizeMb: 64 },
  });
}

/** Rebuilds case `index`'s input in a fresh worker. */
function sampleCase(target: string, runSeed: number, index: number, heapMb: number): Promise<{ parts: Uint8Array[]; note: string }> {
  return new Promise((resolve, reject) => {
    const w = spawn({ mode: 'sample', target, runSeed, start: index, count: 1, timeLimitMs: 0, heartbeat: new SharedArrayBuffer(16) }, heapMb);
    w.on('message', (m: WorkerMessage) => { if (m.type === 'sample') { resolve({ parts: m.parts, note: m.note }); void w.terminate(); } });
    w.on('error', reject);
    w.on('exit', (code) => reject(new Error(`sample worker exited with ${code}`)));
  });
}

export function saveFailure(out: string, target: string, f: Omit<Failure, 'file'>, parts: Uint8Array[], runSeed: number): string {
  const bytes = encodeInput(parts);
  const dir = join(out, target);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${hashOf(bytes)}.bin`);
  writeFileSync(file, bytes);
  writeFileSync(file.replace(/\.bin$/, '.txt'),
    `target ${target}\nrun seed ${runSeed}, case ${f.index} (${f.note})\n${f.reason}\n${f.detail}\n` +
    `replay: pnpm fuzz --replay ${file}\n`);
  return file;
}

export async function runTarget(target: Target, opts: RunOptions): Promise<TargetRun> {
  const heapMb = opts.heapMb ?? 1024;
  const log = opts.log ?? (() => {});
  const run: TargetRun = {
    target: target.name, cases: 0, results: 0, rejected: 0, failures: [], seconds: 0, maxMs: 0, maxAllocated: 0, seeds: [], truncations: 0,
  };
  const t0 = performance.now();
  let next = 0;
  while (next < opts.cases) {
    const heartbeat = new SharedArrayBuffer(16);
    const index = new Int32Array(heartbeat, 0, 1);
    const began = new Float64Array(heartbeat, 8, 1);
    Atomics.store(index, 0, next);
    const job: WorkerJob = { mode: 'run', target: target.name, runSeed: opts.runSeed, start: next, count: opts.cases - next, timeLimitMs: opts.timeLimitMs, heartbeat };
    const base = { results: run.results, rejected: run.rejected };
    // Resolves with the index of a case that hung or crashed its worker, or null when all ran.
    const stopped = await new Promise<{ index: number; reason: string; detail: string } | null>((resolve, reject) => {
      const w = spawn(job, heapMb);
      let finished = false;
      let lastError = '';
      const watchdog = setInterval(() => {
        const since = began[0]!;
        if (since > 0 && performance.timeOrigin + performance.now() - since > opts.timeLimitMs) {
          finished = true;
          clearInterval(watchdog);
          const i = Atomics.load(index, 0);
          void w.terminate().then(() => resolve({ index: i, reason: 'hang', detail: `still running after ${opts.timeLimitMs} ms; worker terminated` }));
        }
      }, Math.min(250, Math.max(20, opts.timeLimitMs / 4)));
      w.on('message', (m: WorkerMessage) => {
        if (m.type === 'ready') { run.seeds = m.seeds; run.truncations = m.truncations; }
        else if (m.type === 'progress') {
          run.cases = job.start + m.done;
          run.results = base.results + m.results;
          run.rejected = base.rejected + m.rejected;
          run.maxMs = Math.max(run.maxMs, m.maxMs);
          run.maxAllocated = Math.max(run.maxAllocated, m.maxAllocated);
          if (m.done === job.count) { finished = true; clearInterval(watchdog); void w.terminate().then(() => resolve(null)); }
        } else if (m.type === 'failure') {
          const file = saveFailure(opts.out, target.name, m, m.parts, opts.runSeed);
          run.failures.push({ index: m.index, reason: m.reason, detail: m.detail, note: m.note, file });
          log(`  ${target.name}: case ${m.index}: ${m.reason}: ${m.detail.split('\n')[0]} -> ${file}`);
        }
      });
      w.on('error', (err) => { lastError = `${err.name}: ${err.message}`; });
      w.on('exit', (code) => {
        if (finished) return;
        clearInterval(watchdog);
        const detail = `worker exited with code ${code}${lastError ? `: ${lastError}` : ''}`;
        // Between cases (setup, seeds, the mutator) it is the fuzzer's own failure, not a parser's.
        if (began[0] === 0) reject(new Error(`fuzz worker for ${target.name} stopped outside a case: ${detail}`));
        else resolve({ index: Atomics.load(index, 0), reason: 'crash', detail });
      });
    });
    if (!stopped) break;
    const sample = await sampleCase(target.name, opts.runSeed, stopped.index, heapMb);
    const f = { index: stopped.index, reason: stopped.reason, detail: stopped.detail, note: sample.note };
    const file = saveFailure(opts.out, target.name, f, sample.parts, opts.runSeed);
    run.failures.push({ ...f, file });
    log(`  ${target.name}: case ${stopped.index}: ${stopped.reason}: ${stopped.detail} -> ${file}`);
    next = stopped.index + 1;
    run.cases = next;
  }
  run.cases = Math.max(run.cases, Math.min(opts.cases, next));
  run.seconds = (performance.now() - t0) / 1000;
  return run;
}
