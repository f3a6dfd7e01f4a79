/**
 * The messages between the loader and its worker threads, and how errors cross over: structured
 * cloning keeps an Error's message but not its class or fields, so errors travel as plain data
 * and are rebuilt as the same class (an ImageDecodeError still names its file).
 */

import type { DatasetSpec } from '../datasets/spec.js';
import { ImageDecodeError, TesseraVisionError } from '../errors.js';
import type { ResolvedTarget } from '../target.js';

export interface WorkerInit {
  dataset: DatasetSpec;
}

export interface BatchRequest {
  id: number;
  indices: number[];
  target: ResolvedTarget;
}

export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  file?: string;
  reason?: string;
}

export type BatchReply =
  | { id: number; ok: true; images: Uint8Array; labels: Int32Array; workMs: number }
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
