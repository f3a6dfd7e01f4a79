/**
 * A batch as the GPU wants it: one contiguous uint8 buffer [B, H, W, 3] (NHWC) and int32 labels,
 * assembled the same way in a worker (thread or Web Worker) or, with `workers: 0`, in the calling
 * thread (yielding to the event loop every few milliseconds, so a page stays responsive).
 */

import type { VisionDataset } from '../datasets/dataset.js';
import { ImageDecodeError, TesseraVisionError } from '../errors.js';
import type { ResolvedTarget } from '../target.js';
import type { SkippedItem } from './skipped.js';

export interface Batch {
  /** B*H*W*3 bytes, NHWC, RGB. */
  images: Uint8Array;
  labels: Int32Array;
  /** Dataset index of each item, in batch order. */
  indices: Int32Array;
  /** [B, H, W, 3]. */
  shape: readonly [number, number, number, number];
}

export interface BatchPixels {
  /** The items that decoded, in request order (their pixels, labels and dataset indices). */
  images: Uint8Array;
  labels: Int32Array;
  indices: Int32Array;
  /** Items that could not be decoded (ImageDecodeError), left out of the batch. */
  failed: SkippedItem[];
  /** Milliseconds spent producing the batch (decode, resize, cache), where it was produced. */
  workMs: number;
}

/** Lets the event loop run (a page repaint, input, a GPU readback) without a timer's clamping. */
export function yieldToEventLoop(): Promise<void> {
  const g = globalThis as { setImmediate?: (fn: () => void) => unknown; scheduler?: { yield?: () => Promise<void> } };
  if (g.scheduler?.yield) return g.scheduler.yield();
  if (g.setImmediate) return new Promise((resolve) => g.setImmediate!(resolve));
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}

/**
 * Loads and assembles one batch. An item that fails to decode (ImageDecodeError) is left out and
 * listed in `failed`; any other error is a bug and propagates. With `sliceMs`, control goes back
 * to the event loop whenever that long has passed since the last time: a batch decoded on a page's
 * main thread keeps the page alive.
 */
export async function loadBatch(
  dataset: VisionDataset,
  indices: readonly number[],
  target: ResolvedTarget,
  sliceMs?: number,
): Promise<BatchPixels> {
  const start = performance.now();
  let sliceStart = start;
  const { width, height } = target;
  const itemBytes = width * height * 3;
  let images = new Uint8Array(indices.length * itemBytes);
  const labels: number[] = [];
  const kept: number[] = [];
  const failed: SkippedItem[] = [];
  for (const index of indices) {
    try {
      const img = await dataset.load(index, target);
      if (img.width !== width || img.height !== height) {
        throw new TesseraVisionError(`dataset item ${index} came back ${img.width}x${img.height}, expected ${width}x${height}`);
      }
      images.set(img.data, kept.length * itemBytes);
      labels.push(dataset.label(index));
      kept.push(index);
    } catch (err) {
      if (!(err instanceof ImageDecodeError)) throw err;
      failed.push({ index, file: err.file, reason: err.reason });
    }
    if (sliceMs !== undefined && performance.now() - sliceStart > sliceMs) {
      await yieldToEventLoop();
      sliceStart = performance.now();
    }
  }
  // A fresh, exactly sized buffer: it is transferred whole from a worker.
  if (failed.length > 0) images = images.slice(0, kept.length * itemBytes);
  return { images, labels: Int32Array.from(labels), indices: Int32Array.from(kept), failed, workMs: performance.now() - start };
}
