/**
 * Names the adapter this project's suite runs on (the same spec files run on Dawn over
 * lavapipe in Node and on SwiftShader in headless Chromium), prints the limits the
 * kernels adapt to. (Which GEMM variants this adapter runs, and why not the others, is
 * tested and printed by ops/matmul/matmul.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { adapterProfile, gpu, initDevice, type GpuContext } from '../index.js';

const ctx: GpuContext = await initDevice();
const where =
  typeof window !== 'undefined' && typeof navigator !== 'undefined' ? `browser (${navigator.userAgent.match(/(Headless)?Chrome\/[\d.]+/)?.[0] ?? navigator.userAgent})` : `Node ${globalThis.process?.version ?? ''} (Dawn)`;
const { info, limits } = ctx;
const summary =
  `${info.vendor || '?'} ${info.architecture || '?'}${info.description ? ` (${info.description})` : ''}; ` +
  `subgroups ${ctx.hasSubgroups ? `${info.subgroupMinSize}..${info.subgroupMaxSize}` : 'none'}, ` +
  `features ${[...ctx.features].join(' ') || 'none'}; ` +
  `max ${limits.maxComputeInvocationsPerWorkgroup} invocations/workgroup, ` +
  `${limits.maxComputeWorkgroupStorageSize / 1024} KiB workgroup storage, ` +
  `${Math.round(limits.maxStorageBufferBindingSize / 2 ** 20)} MiB storage binding; ` +
  `bounds checks: ${info.driverBoundsChecksOnly ? "the driver's only (Dawn's robustness off)" : "Dawn's and the driver's"}; ` +
  `profile ${adapterProfile().kind}`;
console.log(`[adapter] ${where}: ${summary}`);

describe(`the adapter: ${info.vendor} ${info.architecture}`, () => {
  it('is described and has the limits the kernels rely on', () => {
    expect(gpu()).toBe(ctx);
    expect(limits.maxComputeInvocationsPerWorkgroup).toBeGreaterThanOrEqual(256);
    expect(limits.maxComputeWorkgroupStorageSize).toBeGreaterThanOrEqual(16384);
  });

  it("drops Dawn's shader bounds checks exactly where the driver checks every access itself (llvmpipe, unless TESSERA_DAWN_ROBUSTNESS=1)", () => {
    const llvmpipe = info.description.startsWith('llvmpipe');
    const optOut = globalThis.process?.env?.TESSERA_DAWN_ROBUSTNESS === '1';
    expect(info.driverBoundsChecksOnly).toBe(llvmpipe && !optOut && where.startsWith('Node'));
  });

  if (!info.driverBoundsChecksOnly) console.log("[adapter] skipping the driver's bounds-check test: Dawn's own checks are on for this adapter");
  it.runIf(info.driverBoundsChecksOnly)('…and the driver does check them: an out-of-range read gives 0 and an out-of-range write is dropped', async () => {
    const { device } = ctx;
    const module = device.createShaderModule({
      code: `@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read_write> o: array<f32>;
@compute @workgroup_size(8) fn main(@builtin(local_invocation_index) i: u32) {
  let far = 1000000u + i * 4099u;
  o[i] = a[select(i, far, i % 2u == 1u)] + 1.0;
  o[far] = 7.0;
}`,
    });
    const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    const [a, o, guard] = [0, 1, 2].map(() => device.createBuffer({ size: 64, usage }));
    device.queue.writeBuffer(a!, 0, new Float32Array(16).map((_, k) => 10 + k));
    device.queue.writeBuffer(guard!, 0, new Float32Array(16).fill(3));
    const bind = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: a! } }, { binding: 1, resource: { buffer: o!, size: 32 } }] });
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bind);
    pass.dispatchWorkgroups(1);
    pass.end();
    const read = device.createBuffer({ size: 192, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    for (const [k, b] of [a, o, guard].entries()) enc.copyBufferToBuffer(b!, 0, read, 64 * k, 64);
    device.queue.submit([enc.finish()]);
    await read.mapAsync(GPUMapMode.READ);
    const got = new Float32Array(read.getMappedRange().slice(0));
    read.unmap();
    // Even lanes read in range (10 + i, plus 1); odd lanes read far outside: 0 (+ 1).
    expect([...got.subarray(64 / 4, 64 / 4 + 8)]).toEqual([11, 1, 13, 1, 15, 1, 17, 1]);
    // Nothing was written outside o's 8-element binding: its tail and the other buffers are untouched.
    expect([...got.subarray(64 / 4 + 8, 128 / 4)]).toEqual(new Array(8).fill(0));
    expect([...got.subarray(0, 16)]).toEqual([...new Float32Array(16).map((_, k) => 10 + k)]);
    expect([...got.subarray(128 / 4)]).toEqual(new Array(16).fill(3));
    for (const b of [a, o, guard, read]) b!.destroy();
  });
});
