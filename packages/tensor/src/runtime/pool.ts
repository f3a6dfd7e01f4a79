/**
 * Pools GPU storage buffers by size class so that training steps reuse memory
 * instead of allocating. Size classes are powers of two split into eighths, so a
 * pooled buffer wastes at most 12.5%. Reusing a freed buffer inside the same
 * unsubmitted encoder is safe: commands run in encoding order.
 */
import { gpu } from './device.js';
import { OutOfMemoryError } from './errors.js';
import { flush } from './queue.js';

export const STORAGE_USAGE = 0x80 /* STORAGE */ | 0x4 /* COPY_SRC */ | 0x8; /* COPY_DST */

export function sizeClass(bytes: number): number {
  const b = Math.max(16, Math.ceil(bytes / 16) * 16);
  if (b <= 4096) return 2 ** Math.ceil(Math.log2(b));
  const p = 2 ** (Math.floor(Math.log2(b)) - 3);
  return Math.ceil(b / p) * p;
}

export interface MemoryStats {
  /** Bytes held by live tensors (size-class rounded). */
  bytesLive: number;
  /** Bytes sitting in the pool, ready for reuse. */
  bytesPooled: number;
  /** Highest bytesLive seen since the last resetPeak(). */
  peakBytesLive: number;
  /** Highest bytesLive + bytesPooled since the last resetPeak(): the device memory the pool held. */
  peakBytesHeld: number;
  /** Number of createBuffer calls made by the pool. */
  allocations: number;
  /**
   * Bytes given back by the garbage collector (tensors dropped without dispose()
   * or tidy()), cumulative. Growing in a training loop means a leak the GC happens
   * to be mopping up — late, since it cannot see GPU memory pressure.
   */
  bytesReclaimedByGC: number;
}

const free = new Map<number, GPUBuffer[]>();
const stats: MemoryStats = { bytesLive: 0, bytesPooled: 0, peakBytesLive: 0, peakBytesHeld: 0, allocations: 0, bytesReclaimedByGC: 0 };

export function acquireBuffer(bytes: number, label = 'tensor'): GPUBuffer {
  const ctx = gpu();
  let size = sizeClass(bytes);
  // Near the binding limit the rounded class may not fit where the exact size does.
  if (size > ctx.limits.maxStorageBufferBindingSize) size = Math.max(16, Math.ceil(bytes / 16) * 16);
  if (size > ctx.limits.maxStorageBufferBindingSize) {
    throw new OutOfMemoryError(
      `Cannot allocate ${bytes} bytes for ${label}: the adapter binds at most ` +
        `${ctx.limits.maxStorageBufferBindingSize} bytes per buffer. Use a smaller batch or image size.`,
    );
  }
  const list = free.get(size);
  let buf = list?.pop();
  if (buf) {
    stats.bytesPooled -= size;
  } else {
    buf = ctx.device.createBuffer({ size, usage: STORAGE_USAGE, label });
    stats.allocations++;
  }
  stats.bytesLive += size;
  if (stats.bytesLive > stats.peakBytesLive) stats.peakBytesLive = stats.bytesLive;
  stats.peakBytesHeld = Math.max(stats.peakBytesHeld, stats.bytesLive + stats.bytesPooled);
  return buf;
}

export function releaseBuffer(buf: GPUBuffer): void {
  const size = buf.size;
  stats.bytesLive -= size;
  stats.bytesPooled += size;
  let list = free.get(size);
  if (!list) free.set(size, (list = []));
  list.push(buf);
}

/** releaseBuffer for storage whose tensors were garbage-collected without being disposed. */
export function reclaimBuffer(buf: GPUBuffer): void {
  stats.bytesReclaimedByGC += buf.size;
  releaseBuffer(buf);
}

/** Destroys every pooled (unused) buffer, giving the memory back to the driver. */
export function trimPool(): void {
  // Encoded but unsubmitted commands may still use pooled buffers: destroying them
  // first would invalidate that batch. After submit, destroy() waits for the GPU.
  flush();
  for (const list of free.values()) for (const b of list) b.destroy();
  free.clear();
  stats.bytesPooled = 0;
}

export function memoryStats(): MemoryStats {
  return { ...stats };
}

export function resetPeak(): void {
  stats.peakBytesLive = stats.bytesLive;
  stats.peakBytesHeld = stats.bytesLive + stats.bytesPooled;
}
