/**
 * Tensors, WGSL kernels and autograd on WebGPU.
 * @module @tessera/tensor
 */
// Declarations name WebGPU types (GPUBuffer, GPUDevice): a consumer compiling against them needs these.
/// <reference types="@webgpu/types" preserve="true" />
export { initDevice, gpu, hasDevice, gpuObject, adapterProfile, type GpuContext, type DeviceInfo } from './runtime/device.js';
export { ADAPTER_KINDS, detectAdapterKind, profileFor, type AdapterKind, type AdapterProfile } from './runtime/adapter-profile.js';
export { TesseraError, DeviceError, OutOfMemoryError } from './runtime/errors.js';
export { memoryStats, resetPeak, trimPool, type MemoryStats } from './runtime/pool.js';
export { flush, sync, queueStats, type QueueStats } from './runtime/queue.js';
export { canProfile, startProfile, stopProfile, type DispatchTiming } from './runtime/profiler.js';
export { type DType } from './dtype.js';
export { Tensor } from './tensor.js';
export { tidy, tidyAsync } from './autograd/scope.js';
export { noGrad, isGradEnabled } from './autograd/grad-mode.js';
export { backward, type BackwardOptions } from './autograd/engine.js';
export { defineOp, registeredOps, type OpDef, type ForwardContext, type BackwardContext } from './ops/registry.js';
export { defineApi, apiEntries, type ApiEntry, type TwinOf } from './ops/registry.js';
import './ops/methods.js';
// One line per op family: its api.ts exports the functions and installs the Tensor methods.
export * from './ops/elementwise/api.js';
export * from './ops/reduce/api.js';
export * from './ops/views/api.js';
export * from './ops/create.js';
export * from './ops/gather/api.js';
export * from './ops/softmax/api.js';
export * from './ops/inplace.js';
export * from './ops/matmul/api.js';
export * from './ops/flip/api.js';
export * from './ops/conv/api.js';
export * from './ops/linear.js';
export { config, configFromEnv, type TesseraConfig } from './config.js';
// Kernel authoring: packages that bring their own WGSL (optimizers, augmentation) use these.
export {
  defineKernel, run as runKernel, packUniforms,
  type KernelDef, type KernelSpec, type UniformType, type UniformValue, type BufferView,
} from './kernels/define.js';
export { createKernelsAsync, kernelSources, pipelineStats, type KernelSource } from './runtime/kernel.js';
export { traceKernels } from './runtime/trace.js';
export {
  recordGemms, tuneGemms, gemmTuning, setGemmTuning, adapterKey, gemmKey, GEMM_VARIANTS,
  type RecordedGemm, type TuneEntry, type TuneOptions,
} from './kernels/gemm-tuner.js';
export {
  runGemm, stridedEpilogue, stridedParamValues, gemmSubgroupLanes, MAX_BATCH_RANK,
  type GemmCall, type OperandHook, type EpilogueHook, type HookBinding, type HookParam,
} from './kernels/gemm.js';
export { writeBuffer, readBuffer, copyBuffer, clearBuffer } from './runtime/queue.js';
export { grid1d, FLAT_INDEX } from './kernels/grid.js';
export { HASH_WGSL, pcgHash, unitFromHash } from './kernels/random.js';
export * from './ops/nn/index.js';
export { declaredBindings, warmKernels } from './runtime/warmup.js';
