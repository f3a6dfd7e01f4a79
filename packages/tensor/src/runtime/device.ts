/**
 * Acquires the WebGPU adapter and device: `navigator.gpu` in a browser, Dawn's
 * `webgpu` package in Node. Requests the largest limits the kernels can use,
 * turns "no adapter" into instructions, and collects validation errors (which
 * name the kernel through pipeline labels) so they surface as exceptions at the
 * next synchronisation point.
 */
// Node's Dawn (`webgpu`) or nothing in a browser: package.json `imports` picks the file by
// the `browser` condition, so browser bundles carry no Node built-ins and no `webgpu`.
import { config } from '../config.js';
import { platformGpu, platformGpuDriverChecked, platformGpuObject } from '#gpu-provider';
import { type AdapterProfile, profileFor } from './adapter-profile.js';
import { DeviceError, OutOfMemoryError } from './errors.js';

export interface DeviceInfo {
  vendor: string;
  architecture: string;
  description: string;
  /** Subgroup size range reported by the adapter; 0 when subgroups are unavailable. */
  subgroupMinSize: number;
  subgroupMaxSize: number;
  isSoftware: boolean;
  /**
   * Whether Dawn's own bounds checks on shader memory accesses are off because the driver
   * checks every storage access itself (llvmpipe; see createContext).
   */
  driverBoundsChecksOnly: boolean;
}

export interface GpuContext {
  device: GPUDevice;
  adapter: GPUAdapter;
  info: DeviceInfo;
  limits: GPUSupportedLimits;
  features: ReadonlySet<string>;
  hasSubgroups: boolean;
  hasTimestamps: boolean;
}

let current: GpuContext | undefined;
let pending: Promise<GpuContext> | undefined;
const uncaptured: string[] = [];
let lostReason: string | undefined;

const DRIVER_HELP =
  'No WebGPU adapter is available. On a machine without a GPU, install the Mesa lavapipe software ' +
  'Vulkan driver: run ./scripts/setup.sh (Debian 12: apt-get install -t bookworm-backports ' +
  'mesa-vulkan-drivers libvulkan1; Ubuntu 24.04: apt-get install mesa-vulkan-drivers libvulkan1). ' +
  'With a GPU, install its Vulkan driver.';

async function getGpu(): Promise<GPU> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return nav.gpu;
  const platform = await platformGpu();
  if (platform) return platform;
  throw new DeviceError('This browser has no WebGPU (navigator.gpu is missing).');
}

function readInfo(adapter: GPUAdapter): Omit<DeviceInfo, 'driverBoundsChecksOnly'> {
  const raw = adapter.info as GPUAdapterInfo & { subgroupMinSize?: number; subgroupMaxSize?: number };
  const vendor = raw.vendor ?? '';
  const architecture = raw.architecture ?? '';
  const description = raw.description ?? '';
  const text = `${vendor} ${architecture} ${description}`.toLowerCase();
  return {
    vendor,
    architecture,
    description,
    subgroupMinSize: raw.subgroupMinSize ?? 0,
    subgroupMaxSize: raw.subgroupMaxSize ?? 0,
    isSoftware: /llvmpipe|lavapipe|swiftshader|software/.test(text) || (raw as { isFallbackAdapter?: boolean }).isFallbackAdapter === true,
  };
}

/** Limits Tessera asks for: as large as the adapter allows for what kernels bind. */
const WANTED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxStorageBuffersPerShaderStage',
  'maxComputeWorkgroupsPerDimension',
  // Alignments are "better when lower": the default 256 wastes most of each uniform slot.
  'minUniformBufferOffsetAlignment',
  'minStorageBufferOffsetAlignment',
] as const;

export interface InitOptions {
  powerPreference?: GPUPowerPreference;
  /**
   * Keep Dawn's bounds checks in shaders even on llvmpipe, whose driver checks every
   * storage access itself (default false; also TESSERA_DAWN_ROBUSTNESS=1).
   */
  keepDawnRobustness?: boolean;
}

/** Returns the process-wide GPU context, creating it on first call. */
export function initDevice(opts: InitOptions = {}): Promise<GpuContext> {
  if (current) return Promise.resolve(current);
  pending ??= createContext(opts).catch((e) => {
    pending = undefined;
    throw e;
  });
  return pending;
}

/** Whether the driver compares every storage-buffer access with the buffer's size (the adapter profile says: llvmpipe). */
const checksEveryAccess = (info: Omit<DeviceInfo, 'driverBoundsChecksOnly'>): boolean => profileFor(info).driverChecksEveryAccess;

async function createContext(opts: InitOptions): Promise<GpuContext> {
  const gpu = await getGpu();
  const powerPreference = opts.powerPreference ?? 'high-performance';
  let adapter = await gpu.requestAdapter({ powerPreference });
  if (!adapter) throw new DeviceError(DRIVER_HELP);
  // Dawn makes every array index in a shader safe (clamped to the buffer) before the driver
  // sees it. lavapipe then bounds-checks each access again, lane by lane, so on lavapipe
  // Dawn's clamps are pure cost: about 8% of the GEMM's inner loop (5507 → 5057 x86
  // instructions per iteration, GALLIVM_DEBUG=asm). There we take the device from a Dawn
  // instance with its robustness pass off; memory safety stays with the driver.
  let driverBoundsChecksOnly = false;
  const keep = opts.keepDawnRobustness || config.dawnRobustness;
  if (!keep && checksEveryAccess(readInfo(adapter))) {
    const lean = await platformGpuDriverChecked()?.requestAdapter({ powerPreference });
    if (lean && checksEveryAccess(readInfo(lean))) {
      adapter = lean;
      driverBoundsChecksOnly = true;
    }
  }
  const requiredLimits: Record<string, number> = {};
  for (const k of WANTED_LIMITS) {
    const v = (adapter.limits as unknown as Record<string, number>)[k];
    if (typeof v === 'number') requiredLimits[k] = v;
  }
  const features = new Set<string>();
  for (const f of ['subgroups', 'timestamp-query', 'shader-f16'] as const) {
    if (adapter.features.has(f)) features.add(f);
  }
  const device = await adapter.requestDevice({
    label: 'tessera',
    requiredLimits,
    requiredFeatures: [...features] as GPUFeatureName[],
  });
  device.addEventListener('uncapturederror', (ev) => {
    const err = (ev as GPUUncapturedErrorEvent).error;
    uncaptured.push(err.message);
    // We report it ourselves at the next sync point; stop Dawn printing it to stderr too.
    ev.preventDefault();
  });
  void device.lost.then((info) => {
    if (current?.device === device) {
      lostReason = `${info.reason}: ${info.message}`;
    }
  });
  current = {
    device,
    adapter,
    info: { ...readInfo(adapter), driverBoundsChecksOnly },
    limits: device.limits,
    features,
    hasSubgroups: features.has('subgroups'),
    hasTimestamps: features.has('timestamp-query'),
  };
  return current;
}

/** The cost choices for this device's adapter (runtime/adapter-profile.ts; `config.adapterProfile` forces one). */
export function adapterProfile(): AdapterProfile {
  return profileFor(gpu().info);
}

/** The initialised context; ops are synchronous, so `await initDevice()` must come first. */
export function gpu(): GpuContext {
  if (lostReason) throw new DeviceError(`The GPU device was lost (${lostReason}). Restart the process.`);
  if (!current) throw new DeviceError('No GPU device yet: call `await initDevice()` before creating tensors.');
  return current;
}

export function hasDevice(): boolean {
  return current !== undefined;
}

/**
 * The GPU object the device came from (Dawn's in Node, `navigator.gpu` in a browser),
 * for libraries that look for `navigator.gpu` — the benchmarks' TensorFlow.js baseline
 * runs on the same adapter through it. Undefined before `initDevice()`.
 */
export function gpuObject(): GPU | undefined {
  return platformGpuObject() ?? (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
}

/**
 * Drops the queued validation errors. Used after a kernel failed to compile: every
 * later error in that batch (invalid pipeline, bind group, command buffer) is a
 * consequence, and reporting them at some unrelated later readback would mislead.
 */
export function discardPendingErrors(): void {
  uncaptured.length = 0;
}

/**
 * Lets errors that trail their cause arrive before they are reported or dropped. Dawn in
 * Node delivers a failed command's whole chain of errors (invalid bind group, then the
 * encoder, then the submit) before the readback that follows it resolves; a browser
 * delivers each as its own event, and some of them can come after that readback, to
 * surface at a later, unrelated one. On the error path only (`force`, or an error already
 * seen): wait for the device to finish the submitted work, then let the event loop run.
 */
export async function awaitTrailingErrors(force = false): Promise<void> {
  if (!current || (!force && uncaptured.length === 0)) return;
  await current.device.queue.onSubmittedWorkDone();
  await new Promise((resolve) => setTimeout(resolve, 0));
}

/** Throws the validation errors Dawn reported since the last check (they name the kernel's label). */
export function throwPendingErrors(): void {
  if (lostReason) throw new DeviceError(`The GPU device was lost (${lostReason}). Restart the process.`);
  if (uncaptured.length === 0) return;
  const msgs = uncaptured.splice(0, uncaptured.length);
  if (msgs.some((m) => /out of memory|OOM/i.test(m))) {
    throw new OutOfMemoryError(`the GPU ran out of memory (${msgs[0]}). Use a smaller batch or image size.`);
  }
  throw new DeviceError(`WebGPU error: ${msgs.join('\n')}`);
}
