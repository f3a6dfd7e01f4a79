/**
 * Batches dispatches into few submits. Ops encode into one open compute pass;
 * kernel parameters are appended to a CPU-side uniform arena that is uploaded with
 * a single writeBuffer just before the submit. Reading back is the only async step,
 * and the only place where errors from the device (failed compiles, validation,
 * out-of-range indices flagged by kernels) can surface: `settle()` reports them.
 */
import { awaitTrailingErrors, discardPendingErrors, gpu, throwPendingErrors } from './device.js';
import { type Kernel, takeCompileFailures } from './kernel.js';
import { DeviceError } from './errors.js';
import { checkBuffer, takeCheckMessages, throwIfFlagged, usedCheckWords } from './checks.js';
import { isProfiling, nextPassTimestamps, resolveProfile } from './profiler.js';
import { isTracing } from './trace.js';

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
  if (kernel.hasUniforms && !uniforms) throw new Error(`internal: kernel ${kernel.name} needs uniforms`);
  if (isTracing()) return;
  // A kernel whose compilation is not confirmed yet runs in a command buffer of its
  // own, so that if it is broken only its own dispatch is lost (see kernel.ts).
  const isolate = !kernel.verified;
  if (isolate) flush();
  const entries: GPUBindGroupEntry[] = [];
  let b = 0;
  if (kernel.hasUniforms) entries.push({ binding: b++, resource: uniformSlot(uniforms!) });
  for (const buf of buffers) {
    entries.push({ binding: b++, resource: 'buffer' in buf ? buf : { buffer: buf } });
  }
  const bindGroup = device.createBindGroup({ label: kernel.name, layout: kernel.layout, entries });
  // Profiling: a pass of its own whose ends carry timestamps (see profiler.ts).
  const timestampWrites = isProfiling() ? nextPassTimestamps(kernel.name) : undefined;
  if (timestampWrites) {
    endPass();
    pass = encoder!.beginComputePass({ timestampWrites });
  }
  const p = openPass();
  p.setPipeline(kernel.pipeline);
  p.setBindGroup(0, bindGroup);
  p.dispatchWorkgroups(workgroups[0], workgroups[1] ?? 1, workgroups[2] ?? 1);
  if (timestampWrites) endPass();
  stats.dispatches++;
  if (++pendingDispatches >= MAX_DISPATCHES_PER_SUBMIT || isolate) flush();
}

/** Encodes a buffer-to-buffer copy (ordered with the dispatches around it). */
export function copyBuffer(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, bytes: number): void {
  if (isTracing()) return;
  endPass().copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
  if (++pendingDispatches >= MAX_DISPATCHES_PER_SUBMIT) flush();
}

/** Encodes zero-filling of a byte range (ordered with the dispatches around it; not a dispatch). */
export function clearBuffer(dst: GPUBuffer, offset: number, bytes: number): void {
  if (isTracing()) return;
  endPass().clearBuffer(dst, offset, bytes);
  if (++pendingDispatches >= MAX_DISPATCHES_PER_SUBMIT) flush();
}

/** Submits everything encoded so far. */
export function flush(): void {
  if (!encoder && !pass) return;
  const { device } = gpu();
  const enc = endPass();
  resolveProfile(enc);
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
  if (isTracing()) return;
  if (hasPendingWork()) flush();
  gpu().device.queue.writeBuffer(dst, dstOffset, data.buffer, data.byteOffset, data.byteLength);
}

/**
 * Reports what went wrong on the device since the last sync point, in order of
 * cause: a kernel that failed to compile (its consequences — invalid pipelines,
 * bind groups, command buffers — are dropped, they would only confuse), then other
 * validation errors, then out-of-range indices flagged by kernels.
 */
async function settle(flags: Uint32Array | null, msgs: ReturnType<typeof takeCheckMessages>): Promise<void> {
  const bad = await takeCompileFailures();
  if (bad.length) {
    await awaitTrailingErrors(true);
    discardPendingErrors();
    throw new DeviceError(bad.join('\n'));
  }
  await awaitTrailingErrors();
  throwPendingErrors();
  if (flags) throwIfFlagged(flags, msgs);
}

/**
 * Encodes the copy of the used index-check words into `staging` at `at`, and the
 * clearing of those words (after the copy: same encoder, in order).
 */
function encodeChecks(staging: GPUBuffer, at: number, words: number): void {
  if (words === 0) return;
  const enc = endPass();
  enc.copyBufferToBuffer(checkBuffer(), 0, staging, at, words * 4);
  enc.clearBuffer(checkBuffer(), 0, words * 4);
}

/** Copies `bytes` from a buffer to the CPU. The one async step. */
export async function readBuffer(src: GPUBuffer, srcOffset: number, bytes: number): Promise<ArrayBuffer> {
  if (isTracing()) throw new Error('internal: a readback inside traceKernels (its values were never computed)');
  const { device } = gpu();
  const dataSize = Math.max(16, Math.ceil(bytes / 16) * 16);
  const checkWords = usedCheckWords();
  const size = dataSize + checkWords * 4;
  const list = mapPool.get(size);
  const staging =
    list?.pop() ?? device.createBuffer({ size, usage: 0x1 /* MAP_READ */ | 0x8 /* COPY_DST */, label: 'readback' });
  const copyBytes = Math.min(dataSize, src.size - srcOffset);
  endPass().copyBufferToBuffer(src, srcOffset, staging, 0, Math.floor(copyBytes / 4) * 4);
  encodeChecks(staging, dataSize, checkWords);
  const msgs = takeCheckMessages();
  flush();
  stats.readbacks++;
  let out: ArrayBuffer;
  let flags: Uint32Array | null = null;
  try {
    await staging.mapAsync(0x1 /* GPUMapMode.READ */);
    const mapped = staging.getMappedRange(0, size);
    out = mapped.slice(0, bytes);
    if (checkWords) flags = new Uint32Array(mapped.slice(dataSize, size));
    staging.unmap();
  } catch (e) {
    await settle(null, msgs); // a device error explains a failed map better than the map error
    throw e;
  }
  let l = mapPool.get(size);
  if (!l) mapPool.set(size, (l = []));
  l.push(staging);
  await settle(flags, msgs);
  return out;
}

/** Waits until the device has finished all submitted work; throws device and index errors. */
export async function sync(): Promise<void> {
  if (usedCheckWords() > 0) {
    await readBuffer(checkBuffer(), 0, 4); // carries the index checks along
    return;
  }
  flush();
  await gpu().device.queue.onSubmittedWorkDone();
  await settle(null, []);
}

export function queueStats(): QueueStats {
  return { ...stats };
}
