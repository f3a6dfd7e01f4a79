/**
 * Batches dispatches into few submits. Ops encode into one open compute pass;
 * kernel parameters are appended to a CPU-side uniform arena that is uploaded with
 * a single writeBuffer just before the submit. Reading back is the only async step.
 */
import { gpu, throwPendingErrors } from './device.js';
import { checkCompiles, type Kernel } from './kernel.js';

export interface BufferBinding {
  buffer: GPUBuffer;
  offset?: number;
  size?: number;
}

export interface QueueStats {
  dispatches: number;
  submits: number;
  readbacks: number;
}

const ARENA_BYTES = 1 << 18;
/** Submitting now and then lets the device start while we keep encoding. */
const MAX_DISPATCHES_PER_SUBMIT = 512;

let encoder: GPUCommandEncoder | null = null;
let pass: GPUComputePassEncoder | null = null;
let pendingDispatches = 0;
let arena: GPUBuffer | null = null;
const arenaCpu = new Uint8Array(ARENA_BYTES);
let arenaUsed = 0;
const stats: QueueStats = { dispatches: 0, submits: 0, readbacks: 0 };
const mapPool = new Map<number, GPUBuffer[]>();

function openPass(): GPUComputePassEncoder {
  const { device } = gpu();
  encoder ??= device.createCommandEncoder({ label: 'tessera' });
  pass ??= encoder.beginComputePass();
  return pass;
}

function endPass(): GPUCommandEncoder {
  const { device } = gpu();
  if (pass) {
    pass.end();
    pass = null;
  }
  encoder ??= device.createCommandEncoder({ label: 'tessera' });
  return encoder;
}

function uniformSlot(data: ArrayBufferView): BufferBinding {
  const { device, limits } = gpu();
  const align = Math.max(limits.minUniformBufferOffsetAlignment, 16);
  const size = Math.ceil(data.byteLength / 16) * 16;
  if (arenaUsed + size > ARENA_BYTES) flush();
  arena ??= device.createBuffer({ size: ARENA_BYTES, usage: 0x40 /* UNIFORM */ | 0x8 /* COPY_DST */, label: 'uniform-arena' });
  const offset = arenaUsed;
  arenaCpu.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), offset);
  arenaUsed = Math.ceil((offset + size) / align) * align;
  return { buffer: arena, offset, size };
}

/**
 * Encodes one dispatch. Binding 0 is the uniform block (when the kernel has one),
 * then the storage buffers in order.
 */
export function dispatch(
  kernel: Kernel,
  buffers: (GPUBuffer | BufferBinding)[],
  uniforms: ArrayBufferView | null,
  workgroups: readonly [number, number?, number?],
): void {
  const { device } = gpu();
  const entries: GPUBindGroupEntry[] = [];
  let b = 0;
  if (kernel.hasUniforms) {
    if (!uniforms) throw new Error(`kernel ${kernel.name} needs uniforms`);
    entries.push({ binding: b++, resource: uniformSlot(uniforms) });
  }
  for (const buf of buffers) {
    entries.push({ binding: b++, resource: 'buffer' in buf ? buf : { buffer: buf } });
  }
  const bindGroup = device.createBindGroup({ label: kernel.name, layout: kernel.layout, entries });
  const p = openPass();
  p.setPipeline(kernel.pipeline);
  p.setBindGroup(0, bindGroup);
  p.dispatchWorkgroups(workgroups[0], workgroups[1] ?? 1, workgroups[2] ?? 1);
  stats.dispatches++;
  if (++pendingDispatches >= MAX_DISPATCHES_PER_SUBMIT) flush();
}

/** Encodes a buffer-to-buffer copy (ordered with the dispatches around it). */
export function copyBuffer(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, bytes: number): void {
  endPass().copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
  pendingDispatches++;
}

/** Submits everything encoded so far. */
export function flush(): void {
  if (!encoder && !pass) return;
  const { device } = gpu();
  const enc = endPass();
  if (arenaUsed > 0 && arena) device.queue.writeBuffer(arena, 0, arenaCpu, 0, arenaUsed);
  device.queue.submit([enc.finish()]);
  encoder = null;
  arenaUsed = 0;
  pendingDispatches = 0;
  stats.submits++;
}

export function hasPendingWork(): boolean {
  return encoder !== null || pass !== null;
}

/**
 * Uploads bytes into a buffer. Pending commands are submitted first, because
 * writeBuffer runs ahead of anything not yet submitted and the buffer may be a
 * pooled one that pending commands still read.
 */
export function writeBuffer(dst: GPUBuffer, dstOffset: number, data: ArrayBufferView): void {
  if (hasPendingWork()) flush();
  gpu().device.queue.writeBuffer(dst, dstOffset, data.buffer, data.byteOffset, data.byteLength);
}

/** Copies `bytes` from a buffer to the CPU. The one async step. */
export async function readBuffer(src: GPUBuffer, srcOffset: number, bytes: number): Promise<ArrayBuffer> {
  const { device } = gpu();
  const size = Math.max(16, Math.ceil(bytes / 16) * 16);
  const list = mapPool.get(size);
  const staging =
    list?.pop() ?? device.createBuffer({ size, usage: 0x1 /* MAP_READ */ | 0x8 /* COPY_DST */, label: 'readback' });
  const copyBytes = Math.min(size, src.size - srcOffset);
  endPass().copyBufferToBuffer(src, srcOffset, staging, 0, Math.floor(copyBytes / 4) * 4);
  flush();
  stats.readbacks++;
  await checkCompiles();
  try {
    await staging.mapAsync(0x1 /* GPUMapMode.READ */);
  } finally {
    throwPendingErrors();
  }
  const out = staging.getMappedRange(0, size).slice(0, bytes);
  staging.unmap();
  let l = mapPool.get(size);
  if (!l) mapPool.set(size, (l = []));
  l.push(staging);
  return out;
}

/** Waits until the device has finished all submitted work (for benchmarks). */
export async function sync(): Promise<void> {
  flush();
  await checkCompiles();
  await gpu().device.queue.onSubmittedWorkDone();
  throwPendingErrors();
}

export function queueStats(): QueueStats {
  return { ...stats };
}
