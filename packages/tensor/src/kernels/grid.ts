/**
 * Helpers shared by the kernel generators: 1-D launches over many threads (folded
 * into a 2-D grid because one dimension holds at most 65 535 workgroups), and
 * reading packed shapes/strides (define.ts's `dims` uniforms) in WGSL.
 */
import { config } from '../config.js';
import { gpu } from '../runtime/device.js';

export const MAX_RANK = 8;


/**
 * For tests: pretends the device allows at most `n` workgroups per dimension, so
 * the 2-D fold is exercised with small tensors (undefined restores the device limit).
 */
export function setMaxWorkgroupsPerDimensionForTesting(n: number | undefined): void {
  config.maxWorkgroupsPerDimension = n;
}

/** Workgroup counts for `threads` threads in groups of `wgSize`. */
export function grid1d(threads: number, wgSize: number): [number, number] {
  const groups = Math.max(1, Math.ceil(threads / wgSize));
  const maxX = Math.min(config.maxWorkgroupsPerDimension ?? Infinity, gpu().limits.maxComputeWorkgroupsPerDimension);
  if (groups <= maxX) return [groups, 1];
  const y = Math.ceil(groups / maxX);
  if (y > maxX) throw new Error(`internal: ${threads} threads need more than ${maxX}² workgroups`);
  return [Math.ceil(groups / y), y];
}

/** WGSL for the flat thread index of a grid1d launch. */
export const FLAT_INDEX = `(wid.y * nwg.x + wid.x) * WG + lid.x`;

/** WGSL expression reading element i of a packed dims array field. */
export function dimRef(field: string, i: number): string {
  return `${field}[${i >> 2}][${i & 3}]`;
}

