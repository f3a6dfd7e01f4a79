/**
 * The messages between the loader and its workers (Node worker threads or a browser's Web
 * Workers), the interface a worker is driven through, and how errors cross over: structured
 * cloning keeps an Error's message but not its class or fields, so errors travel as plain data
 * and are rebuilt as the same class (an ImageDecodeError still names its file). Items that failed
 * to decode are not errors at all: a batch reply lists them (file and reason) beside the pixels.
 */

import type { DatasetSpec } from '../datasets/spec.js';
import { ImageDecodeError, TesseraVisionError } from '../errors.js';
import type { ResolvedTarget } from '../target.js';
import type { SkippedItem } from './skipped.js';

export interface WorkerInit {
  dataset: DatasetSpec;
}

export interface BatchRequest {
  id: number;
  indices: number[];
  target: ResolvedTarget;
}

/** What the pool needs from one worker, whatever kind of thread it is. */
export interface LoaderWorker {
  post(request: BatchRequest): void;
  /** Node: let an idle worker not keep the process alive (unref) / keep it while busy (ref). */
  ref?(): void;
  unref?(): void;
  terminate(): Promise<unknown> | void;
}

export interface LoaderWorkerEvents {
  message(reply: BatchReply): void;
  error(err: Error): void;
  exit(code: number): void;
}

/**
 * How a DataLoader starts its workers: @tessera/vision/node's `workerThreads`, or
 * `webWorkers(...)` in a browser. Without one, a loader decodes in the calling thread.
 */
export interface LoaderThreads {
  /** Workers a loader starts when not told how many. */
  defaultCount(): number;
  /** Starts a worker holding the dataset described by `init`, reporting through `events`. */
  spawn(init: WorkerInit, events: LoaderWorkerEvents): LoaderWorker;
}

export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  file?: string;
  reason?: string;
}

export type BatchReply =
  | { id: number; ok: true; images: Uint8Array; labels: Int32Array; indices: Int32Array; failed: SkippedItem[]; workMs: number }
  | { id: number; ok: false; error: SerializedError };

export function serializeError(err: unknown): SerializedError {
  if (err instanceof ImageDecodeError) return { name: err.name, message: err.message, file: err.file, reason: err.reason };
  if (err instanceof Error) return { name: err.name, message: err.message, stack: err.stack };
  return { name: 'Error', message: String(err) };
}

export function deserializeError(data: SerializedError): Error {
  if (data.name === 'ImageDecodeError' && data.file !== undefined && data.reason !== undefined) {
    return new ImageDecodeError(data.file, data.reason);
  }
  if (data.name === 'TesseraVisionError') return new TesseraVisionError(data.message);
  const err = data.name === 'RangeError' ? new RangeError(data.message) : new Error(data.message);
  if (data.stack) err.stack = `${data.stack}\n    (in a @tessera/vision worker thread)`;
  return err;
}
