import { describe, expect, it } from 'vitest';
import type { DatasetSpec } from '../datasets/spec.js';
import type { ResolvedTarget } from '../target.js';
import type { BatchRequest, LoaderThreads, LoaderWorkerEvents } from './messages.js';
import { WorkerPool } from './worker-pool.js';

/** One fake worker that records whether it keeps the process alive (ref) and answers on demand. */
function fakeThreads() {
  const state = { refd: false, events: null as LoaderWorkerEvents | null, posted: [] as BatchRequest[], terminated: false };
  const threads: LoaderThreads = {
    defaultCount: () => 1,
    spawn(_init, events) {
      state.events = events;
      return {
        post: (r) => state.posted.push(r),
        ref: () => (state.refd = true),
        unref: () => (state.refd = false),
        terminate: () => {
          state.terminated = true;
        },
      };
    },
  };
  return { state, threads };
}

describe('WorkerPool.close', () => {
  it('keeps terminating workers ref\'d, even when a late reply arrives (no silent exit 13)', async () => {
    const { state, threads } = fakeThreads();
    const pool = new WorkerPool(1, {} as DatasetSpec, threads);
    expect(state.refd).toBe(false); // idle workers never keep the process alive
    const job = pool.run([0], {} as ResolvedTarget);
    job.catch(() => undefined);
    expect(state.refd).toBe(true);
    const closing = pool.close();
    expect(state.terminated).toBe(true);
    // The batch the worker was decoding comes back after close(): the worker must stay ref'd.
    state.events!.message({ id: state.posted[0]!.id, ok: true, images: new Uint8Array(0), labels: new Int32Array(0), workMs: 0 });
    expect(state.refd).toBe(true);
    await closing;
    await expect(job).rejects.toThrow('the DataLoader was closed');
  });
});

describe('WorkerPool.run with a signal', () => {
  it('listens once per signal however many requests wait, and withdraws only the queued ones', async () => {
    const { getEventListeners } = await import('node:events');
    const { state, threads } = fakeThreads();
    const pool = new WorkerPool(1, {} as DatasetSpec, threads);
    const epoch = new AbortController();
    const other = new AbortController();
    // A validation pass held ahead: 16 requests on one epoch's signal (Node warns past 10 listeners).
    const jobs = Array.from({ length: 16 }, (_, i) => pool.run([i], {} as ResolvedTarget, epoch.signal));
    const kept = pool.run([99], {} as ResolvedTarget, other.signal);
    for (const j of [...jobs, kept]) j.catch(() => undefined);
    expect(getEventListeners(epoch.signal, 'abort')).toHaveLength(1);
    expect(state.posted.map((r) => r.indices[0])).toEqual([0]); // one worker: the first started
    epoch.abort();
    await expect(jobs[1]).rejects.toThrow('batch request withdrawn');
    await expect(jobs[15]).rejects.toThrow('batch request withdrawn');
    // The started one runs to its end; the other signal's request is next.
    state.events!.message({ id: state.posted[0]!.id, ok: true, images: new Uint8Array(0), labels: new Int32Array(0), indices: new Int32Array(0), failed: [], workMs: 0 });
    await expect(jobs[0]).resolves.toMatchObject({ workMs: 0 });
    expect(state.posted.map((r) => r.indices[0])).toEqual([0, 99]);
    await pool.close();
  });
});
