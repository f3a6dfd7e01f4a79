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
