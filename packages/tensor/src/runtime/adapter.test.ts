/**
 * Names the adapter this project's suite runs on (the same spec files run on Dawn over
 * lavapipe in Node and on SwiftShader in headless Chromium), prints the limits the
 * kernels adapt to. (Which GEMM variants this adapter runs, and why not the others, is
 * tested and printed by ops/matmul.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { gpu, initDevice, type GpuContext } from '../index.js';

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
  `${Math.round(limits.maxStorageBufferBindingSize / 2 ** 20)} MiB storage binding`;
console.log(`[adapter] ${where}: ${summary}`);

describe(`the adapter: ${info.vendor} ${info.architecture}`, () => {
  it('is described and has the limits the kernels rely on', () => {
    expect(gpu()).toBe(ctx);
    expect(limits.maxComputeInvocationsPerWorkgroup).toBeGreaterThanOrEqual(256);
    expect(limits.maxComputeWorkgroupStorageSize).toBeGreaterThanOrEqual(16384);
  });
});
