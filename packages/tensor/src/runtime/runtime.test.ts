/**
 * The runtime: device errors surface (naming the kernel) at the next sync point
 * and only there; a broken kernel does not take good work down with it; the
 * buffer pool reuses memory across tidy'd steps and tracks the peak; index-check
 * slots survive overflow.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  initDevice, gpu, hasDevice, tensor, ones, rand, tidy, sync, memoryStats, resetPeak, trimPool, queueStats, gather, zeros,
  DeviceError, TesseraError,
} from '../index.js';
import { getKernel } from './kernel.js';
import { dispatch } from './queue.js';
import { acquireBuffer } from './pool.js';
import { liveBytes } from '../testing/index.js';

beforeAll(async () => {
  await initDevice();
});

describe('device errors', () => {
  it('a broken WGSL kernel fails at the next sync, naming the kernel; good work around it survives', async () => {
    const before = ones([4]).mul(2); // encoded before the bad kernel
    const scratch = zeros([4]);
    const bad = getKernel('deliberately_broken', '@compute @workgroup_size(1) fn main() { let x: i32 = 1.5; }', false);
    dispatch(bad, [], null, [1]);
    const after = ones([4]).mul(3); // encoded after it
    const err = await sync().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeviceError);
    expect(String(err)).toMatch(/kernel "deliberately_broken" failed to compile/);
    expect(String(err)).toMatch(/cannot convert value of type 'abstract-float' to type 'i32'/);
    // No stale follow-up errors (invalid pipeline, bind group, command buffer) at later readbacks.
    expect(Array.from(await before.toArray())).toEqual([2, 2, 2, 2]);
    expect(Array.from(await after.toArray())).toEqual([3, 3, 3, 3]);
    await sync();
    // The broken kernel left the cache: asking again compiles (and fails) again.
    dispatch(getKernel('deliberately_broken', '@compute @workgroup_size(1) fn main() { let x: i32 = 1.5; }', false), [], null, [1]);
    await expect(sync()).rejects.toThrow(/deliberately_broken/);
    scratch.dispose();
  });

  it('a validation error in a dispatch (wrong bindings) surfaces at the next readback with the kernel label', async () => {
    const k = getKernel(
      'needs_two_buffers',
      `@group(0) @binding(0) var<storage, read> a: array<f32>;
       @group(0) @binding(1) var<storage, read_write> b: array<f32>;
       @compute @workgroup_size(1) fn main() { b[0] = a[0]; }`,
      false,
    );
    const t = ones([4]);
    await sync(); // let the kernel's compile check come back clean first
    dispatch(k, [t.buffer], null, [1]); // one buffer short
    const err = await t.toArray().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeviceError);
    expect(String(err)).toMatch(/needs_two_buffers/);
    expect(Array.from(await t.toArray())).toEqual([1, 1, 1, 1]);
  });

  it('the device is up and described', () => {
    expect(hasDevice()).toBe(true);
    expect(gpu().limits.maxComputeWorkgroupsPerDimension).toBeGreaterThan(0);
    expect(typeof gpu().info.isSoftware).toBe('boolean');
  });
});

describe('buffer pool', () => {
  const step = () =>
    tidy(() => {
      const a = rand([3000, 7]);
      const b = a.mul(a).add(1).log();
      return b.sum(1).max();
    });

  it('repeated tidy steps reuse buffers: allocations stop growing, live memory does not creep', async () => {
    for (let i = 0; i < 2; i++) step().dispose(); // warm: the pool now holds every size a step needs
    const allocs = memoryStats().allocations;
    const live = liveBytes();
    for (let i = 0; i < 5; i++) {
      const r = step();
      await r.item();
      r.dispose();
    }
    expect(memoryStats().allocations).toBe(allocs);
    expect(liveBytes()).toBe(live);
  });

  it('tracks the peak of live bytes since resetPeak()', () => {
    resetPeak();
    const base = memoryStats().bytesLive;
    const big = zeros([1 << 20]); // 4 MiB
    const big2 = zeros([1 << 19]);
    big.dispose();
    big2.dispose();
    const s = memoryStats();
    expect(s.peakBytesLive).toBe(base + (1 << 22) + (1 << 21));
    expect(s.bytesLive).toBe(base);
    expect(s.bytesPooled).toBeGreaterThanOrEqual((1 << 22) + (1 << 21));
  });

  it('trimPool() frees pooled buffers without breaking work still in flight', async () => {
    const x = rand([5000]);
    const y = x.mul(2);
    x.dispose(); // x's buffer is pooled but y's pending kernel still reads it
    trimPool();
    expect(memoryStats().bytesPooled).toBe(0);
    const v = await y.toArray();
    expect(v.every((e) => e >= 0 && e < 2)).toBe(true);
  });

  it('an allocation beyond the binding limit is a clear DeviceError', () => {
    const limit = gpu().limits.maxStorageBufferBindingSize;
    expect(() => acquireBuffer(limit + 16, 'huge')).toThrow(/Cannot allocate \d+ bytes for huge: the adapter binds at most/);
  });

  it('counts dispatches, submits and readbacks', async () => {
    const q0 = queueStats();
    const t = ones([10]).add(1);
    await t.toArray();
    const q1 = queueStats();
    expect(q1.dispatches - q0.dispatches).toBe(2);
    expect(q1.readbacks - q0.readbacks).toBe(1);
    expect(q1.submits).toBeGreaterThan(q0.submits);
  });
});

describe('index-check slots', () => {
  it('more index ops than slots between readbacks: a bad index is still reported', async () => {
    const x = tensor([1, 2, 3, 4], [1, 4]);
    const ok = tensor(Int32Array.from([0, 3]), [1, 2]);
    const bad = tensor(Int32Array.from([4]), [1, 1]);
    const outs = [];
    for (let i = 0; i < 300; i++) outs.push(gather(x, 1, i === 290 ? bad : ok));
    const err = await outs[0]!.toArray().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TesseraError);
    expect(String(err)).toMatch(/gather: an index was out of range \(value 4\) in one of the last 45 index ops/);
    await sync();
    for (const o of outs) o.dispose();
  });
});

describe('in-place copies', () => {
  it('copyFrom a view of the destination itself (same storage) stages through a temporary', async () => {
    const t = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    t.slice(0, 0, 1).copyFrom(t.slice(0, 1, 2)); // row 0 ← row 1
    expect(Array.from(await t.toArray())).toEqual([4, 5, 6, 4, 5, 6]);
  });
});
