/**
 * Sizes checked against the adapter before anything is allocated, so that `--size 100000` is one
 * line saying what fits instead of "Invalid typed array length" from deep in a worker, and an
 * out-of-memory failure names a batch size to try.
 */
import { formatBytes } from '@tessera/tensor/node';
import { UsageError } from './args.js';

/**
 * Bytes of the largest activation per input pixel of one image: the first convolution's output,
 * 16 float32 channels per input pixel in both families (Tiny Darknet: 16 channels at full
 * resolution; ResNet: 64 channels at half). Every other buffer of a training step is smaller.
 */
const ACTIVATION_BYTES_PER_PIXEL = 16 * 4;

export interface BufferLimits {
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
}

/** The largest single buffer the adapter can bind. */
export function bindLimit(l: BufferLimits): number {
  return Math.min(l.maxStorageBufferBindingSize, l.maxBufferSize);
}

/** The largest batch whose biggest activation fits one buffer at `size` px (0 if not even one image fits). */
export function largestBatch(size: number, l: BufferLimits): number {
  return Math.floor(bindLimit(l) / (size * size * ACTIVATION_BYTES_PER_PIXEL));
}

/** The largest image size (px) at which a batch of `bs` fits. */
export function largestSize(bs: number, l: BufferLimits): number {
  return Math.floor(Math.sqrt(bindLimit(l) / (bs * ACTIVATION_BYTES_PER_PIXEL)));
}

/** Refuses a batch size and image size whose activations cannot fit the adapter, saying what does. */
export function checkBatchFits(command: string, bs: number, size: number, l: BufferLimits): void {
  if (largestBatch(size, l) >= bs) return;
  const need = bs * size * size * ACTIVATION_BYTES_PER_PIXEL;
  const maxBs = largestBatch(size, l);
  const fits = maxBs >= 2 ? `at --size ${size} batches up to --bs ${maxBs} fit; ` : '';
  throw new UsageError(
    `${command}: --bs ${bs} at --size ${size} needs ${formatBytes(need)} for one activation, more than the ${formatBytes(bindLimit(l))} ` +
      `this adapter binds per buffer: ${fits}at --bs ${bs}, sizes up to --size ${largestSize(bs, l)} fit`,
  );
}

/** A batch size to suggest after running out of memory at `bs`: half, and no more than the estimate allows. */
export function smallerBatch(bs: number, size: number, l: BufferLimits): number {
  return Math.max(2, Math.min(bs >> 1, largestBatch(size, l)));
}
