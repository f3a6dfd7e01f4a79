/**
 * Helpers shared by the kernel generators: 1-D launches over many threads (folded
 * into a 2-D grid because one dimension holds at most 65 535 workgroups), and
 * packing of shapes/strides into uniform words.
 */
import { gpu } from '../runtime/device.js';

export const MAX_RANK = 8;

let maxXOverride: number | undefined;

/**
 * For tests: pretends the device allows at most `n` workgroups per dimension, so
 * the 2-D fold is exercised with small tensors (undefined restores the device limit).
 */
export function setMaxWorkgroupsPerDimensionForTesting(n: number | undefined): void {
  maxXOverride = n;
}

/** Workgroup counts for `threads` threads in groups of `wgSize`. */
export function grid1d(threads: number, wgSize: number): [number, number] {
  const groups = Math.max(1, Math.ceil(threads / wgSize));
  const maxX = Math.min(maxXOverride ?? Infinity, gpu().limits.maxComputeWorkgroupsPerDimension);
  if (groups <= maxX) return [groups, 1];
  const y = Math.ceil(groups / maxX);
  if (y > maxX) throw new Error(`internal: ${threads} threads need more than ${maxX}² workgroups`);
  return [Math.ceil(groups / y), y];
}

/** WGSL for the flat thread index of a grid1d launch. */
export const FLAT_INDEX = `(wid.y * nwg.x + wid.x) * WG + lid.x`;

/** Packs up to MAX_RANK values into 2 vec4<u32> (8 words), last dimension last. */
export function packDims(values: readonly number[], words: Uint32Array, at: number): void {
  for (let i = 0; i < MAX_RANK; i++) words[at + i] = i < values.length ? values[i]! : 0;
}

/** WGSL expression reading element i of a packed dims array field. */
export function dimRef(field: string, i: number): string {
  return `${field}[${i >> 2}][${i & 3}]`;
}

/** A Uint32Array with a Float32Array view of the same words, for mixed uniform blocks. */
export function uniformWords(n: number): { u32: Uint32Array; f32: Float32Array; i32: Int32Array } {
  const buf = new ArrayBuffer(Math.ceil(n / 4) * 16);
  return { u32: new Uint32Array(buf), f32: new Float32Array(buf), i32: new Int32Array(buf) };
}
