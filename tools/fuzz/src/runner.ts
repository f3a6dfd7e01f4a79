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

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { encodeInput, hashOf } from './bundle.js';
import { caseSource } from './cases.js';
import { Heartbeat } from './heartbeat.js';
import type { CaseReport } from './execute.js';
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
  /** Where a line of progress goes every 30 s (long runs). */
  progress?: (line: string) => void;
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

/** file: URL of tsx's ESM API, through its package.json "exports" (as vision's spawn.ts finds it). */
function tsxApiUrl(): string {
  const require = createRequire(import.meta.url);
  const manifestPath = require.resolve('tsx/package.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { exports: Record<string, { import?: { default?: string } } | string> };
  const entry = manifest.exports['./esm/api'];
  const target = typeof entry === 'object' ? entry.import?.default : undefined;
  if (!target) throw new Error('tsx has no "./esm/api" import export');
  return pathToFileURL(join(dirname(manifestPath), target)).href;
}

/**
 * A worker on worker.ts. A worker does not inherit the parent's TypeScript hooks, so it
 * starts from a bootstrap that loads the entry through tsx's `tsImport` (as vision's loader
 * workers do from sources), with the 'development' condition so that workspace packages
 * resolve to their sources, as in the parent.
 */
function spawn(job: WorkerJob, heapMb: number): Worker {
  const entry = new URL('./worker.ts', import.meta.url).href;
  const bootstrap =
    `import(${JSON.stringify(tsxApiUrl())}).then((tsx) => tsx.tsImport(${JSON.stringify(entry)}, ${JSON.stringify(entry)}))` +
    '.catch((err) => { process.nextTick(() => { throw err; }); });';
  const execArgv = process.execArgv.includes('--conditions=development') ? process.execArgv : [...process.execArgv, '--conditions=development'];
  return new Worker(bootstrap, {
    eval: true,
    workerData: job,
    execArgv,
    resourceLimits: { maxOldGenerationSizeMb: heapMb, maxYoungGenerationSizeMb: 64 },
  });
}

/** Why a supervised worker stopped early: the case it was in hung or killed it. */
interface Stopped { index: number; reason: 'hang' | 'crash'; detail: string }

/**
 * Runs a worker to its end, enforcing the time bound from outside: resolves null when the
 * worker finished (`done` said so), or the case that hung or crashed it. A worker that dies
 * between cases (setup, seeds) is the fuzzer's own failure and rejects.
 */
function supervise(job: WorkerJob, heapMb: number, timeLimitMs: number, onMessage: (m: WorkerMessage) => void, done: (m: WorkerMessage) => boolean): Promise<Stopped | null> {
  const beat = new Heartbeat(job.heartbeat);
  return new Promise((resolve, reject) => {
    const w = spawn(job, heapMb);
    let finished = false;
    let lastError = '';
    const finish = (result: Stopped | null) => {
      finished = true;
      clearInterval(watchdog);
      void w.terminate().then(() => resolve(result));
    };
    const watchdog = setInterval(() => {
      const since = beat.began;
      if (!finished && since > 0 && performance.timeOrigin + performance.now() - since > timeLimitMs) {
        finish({ index: beat.index, reason: 'hang', detail: `still running after ${timeLimitMs} ms; worker terminated` });
      }
    }, Math.min(250, Math.max(20, timeLimitMs / 4)));
    w.on('message', (m: WorkerMessage) => {
      onMessage(m);
      if (done(m)) finish(null);
    });
    w.on('error', (err) => { lastError = `${err.name}: ${err.message}`; });
    w.on('exit', (code) => {
      if (finished) return;
      finished = true;
      clearInterval(watchdog);
      const detail = `worker exited with code ${code}${lastError ? `: ${lastError}` : ''}`;
      if (beat.began === 0) reject(new Error(`fuzz worker for ${job.target} stopped outside a case: ${detail}`));
      else resolve({ index: beat.index, reason: 'crash', detail });
    });
  });
}

/**
 * Rebuilds case `index`'s input: in this thread, or in a fresh worker when making the seeds
 * needs the target's setup (a GPU device for the model file).
 */
async function sampleCase(target: Target, runSeed: number, index: number, heapMb: number): Promise<{ parts: Uint8Array[]; note: string }> {
  if (!target.setup) return (await caseSource(target, runSeed)).sample(index);
  let sample: { parts: Uint8Array[]; note: string } | undefined;
  const job: WorkerJob = { mode: 'sample', target: target.name, runSeed, start: index, count: 1, timeLimitMs: 0, heartbeat: new Heartbeat().buffer };
  await supervise(job, heapMb, Infinity, (m) => { if (m.type === 'sample') sample = m; }, (m) => m.type === 'sample');
  return sample!;
}

/** Runs one saved input in a worker, under the same time bound and heap cap as a run. */
export async function replayInWorker(target: Target, parts: Uint8Array[], timeLimitMs: number, heapMb = 1024): Promise<CaseReport> {
  let report: CaseReport | undefined;
  const job: WorkerJob = { mode: 'replay', target: target.name, runSeed: 0, start: 0, count: 1, timeLimitMs, heartbeat: new Heartbeat().buffer, parts };
  const stopped = await supervise(job, heapMb, timeLimitMs, (m) => { if (m.type === 'replayed') report = m.report; }, (m) => m.type === 'replayed');
  if (stopped) return { ms: NaN, allocated: NaN, outcome: { kind: 'failure', reason: stopped.reason, detail: stopped.detail } };
  return report!;
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
  let beat = new Heartbeat();
  const ticker = opts.progress && setInterval(() => {
    const done = run.results + run.rejected + beat.results + beat.rejected + run.failures.length;
    const seconds = (performance.now() - t0) / 1000;
    opts.progress!(`  ${target.name}: ${done} of ${opts.cases} cases, ${(done / seconds).toFixed(0)} cases/s, ${run.failures.length} failures`);
  }, 30_000);
  while (next < opts.cases) {
    beat = new Heartbeat();
    const count = Math.min(opts.cases - next, target.casesPerWorker ?? Infinity);
    const job: WorkerJob = { mode: 'run', target: target.name, runSeed: opts.runSeed, start: next, count, timeLimitMs: opts.timeLimitMs, heartbeat: beat.buffer };
    const stopped = await supervise(job, heapMb, opts.timeLimitMs, (m) => {
      if (m.type === 'ready') { run.seeds = m.seeds; run.truncations = m.truncations; }
      else if (m.type === 'failure') {
        const file = saveFailure(opts.out, target.name, m, m.parts, opts.runSeed);
        run.failures.push({ index: m.index, reason: m.reason, detail: m.detail, note: m.note, file });
        log(`  ${target.name}: case ${m.index}: ${m.reason}: ${m.detail.split('\n')[0]} -> ${file}`);
      }
    }, (m) => m.type === 'progress' && m.done === job.count);
    // The worker's totals survive its termination.
    run.results += beat.results;
    run.rejected += beat.rejected;
    run.maxMs = Math.max(run.maxMs, beat.slowestMs);
    run.maxAllocated = Math.max(run.maxAllocated, beat.largestAllocation);
    if (!stopped) { next += count; continue; }
    const sample = await sampleCase(target, opts.runSeed, stopped.index, heapMb);
    const f = { index: stopped.index, reason: stopped.reason, detail: stopped.detail, note: sample.note };
    const file = saveFailure(opts.out, target.name, f, sample.parts, opts.runSeed);
    run.failures.push({ ...f, file });
    log(`  ${target.name}: case ${stopped.index}: ${stopped.reason}: ${stopped.detail} -> ${file}`);
    next = stopped.index + 1;
  }
  if (ticker) clearInterval(ticker);
  run.cases = next;
  run.seconds = (performance.now() - t0) / 1000;
  return run;
}
