/**
 * A fixed set of loader workers (threads of whatever kind `LoaderThreads` starts), each holding
 * the dataset and producing one batch at a time; requests queue until a worker is free.
 *
 * Workers are unref'd while idle so an unclosed loader never keeps the process alive, and ref'd
 * while they hold a request so that awaiting a batch does. A worker that crashes or cannot start
 * fails every pending request with that error and marks the pool broken: silently continuing
 * with fewer workers would hide a bug.
 */

import type { DatasetSpec } from '../datasets/spec.js';
import { TesseraVisionError } from '../errors.js';
import type { ResolvedTarget } from '../target.js';
import type { BatchPixels } from './batch.js';
import { deserializeError, type BatchReply, type BatchRequest, type LoaderThreads, type LoaderWorker } from './messages.js';

interface Job {
  request: BatchRequest;
  resolve: (pixels: BatchPixels) => void;
  reject: (err: Error) => void;
  /** Aborting it withdraws the job while it waits in the queue. */
  signal?: AbortSignal;
}

interface Slot {
  worker: LoaderWorker;
  job: Job | null;
}

export class WorkerPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  /** Signals already listened to (one listener each). */
  private readonly watched = new WeakSet<AbortSignal>();
  private nextId = 0;
  private failure: Error | null = null;
  private closing = false;

  constructor(count: number, dataset: DatasetSpec, threads: LoaderThreads) {
    for (let i = 0; i < count; i++) {
      const slot: Slot = { worker: undefined as unknown as LoaderWorker, job: null };
      slot.worker = threads.spawn({ dataset }, {
        message: (reply) => this.onReply(slot, reply),
        error: (err) => this.fail(err),
        exit: (code) => {
          if (!this.closing) this.fail(new TesseraVisionError(`a DataLoader worker thread exited unexpectedly (code ${code})`));
        },
      });
      slot.worker.unref?.();
      this.slots.push(slot);
    }
  }

  get size(): number {
    return this.slots.length;
  }

  /**
   * Produces one batch. Aborting `signal` withdraws the request if no worker has started it yet
   * (an epoch abandoned early should not keep the workers busy with batches nobody will read).
   */
  run(indices: number[], target: ResolvedTarget, signal?: AbortSignal): Promise<BatchPixels> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closing) return Promise.reject(new TesseraVisionError('the DataLoader was closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ request: { id: this.nextId++, indices, target }, resolve, reject, signal });
      // One listener per signal (an epoch's), however many of its requests wait: a validation
      // pass queues a dozen or more, past Node's warning at 11 listeners on one target.
      if (signal && !this.watched.has(signal)) {
        this.watched.add(signal);
        signal.addEventListener('abort', () => this.withdraw(signal), { once: true });
      }
      this.dispatch();
    });
  }

  /** Rejects the requests of `signal` that no worker has started (those started run to the end). */
  private withdraw(signal: AbortSignal): void {
    const kept: Job[] = [];
    for (const job of this.queue) {
      if (job.signal === signal) job.reject(new TesseraVisionError('batch request withdrawn'));
      else kept.push(job);
    }
    this.queue.splice(0, this.queue.length, ...kept);
  }

  async close(): Promise<void> {
    this.closing = true;
    this.rejectAll(new TesseraVisionError('the DataLoader was closed'));
    // An unref'd Node worker's terminate() promise does not keep the process alive: awaited with
    // nothing else pending (a run failing at its first batch), the process ended silently with exit
    // code 13 before the error was printed. Ref'd until they exit (onReply no longer unrefs).
    for (const slot of this.slots) slot.worker.ref?.();
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (slot.job) continue;
      const job = this.queue.shift()!;
      slot.job = job;
      slot.worker.ref?.();
      slot.worker.post(job.request);
    }
  }

  private onReply(slot: Slot, reply: BatchReply): void {
    const job = slot.job;
    slot.job = null;
    if (!this.closing) slot.worker.unref?.();
    if (job && job.request.id === reply.id) {
      if (reply.ok) job.resolve({ images: reply.images, labels: reply.labels, indices: reply.indices, failed: reply.failed, workMs: reply.workMs });
      else job.reject(deserializeError(reply.error));
    }
    this.dispatch();
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err instanceof TesseraVisionError ? err : new TesseraVisionError(`DataLoader worker failed: ${err.message}`, { cause: err });
    this.rejectAll(this.failure);
    this.closing = true;
    for (const slot of this.slots) void slot.worker.terminate();
  }

  private rejectAll(err: Error): void {
    for (const slot of this.slots) {
      slot.job?.reject(err);
      slot.job = null;
    }
    for (const job of this.queue.splice(0)) job.reject(err);
  }
}
