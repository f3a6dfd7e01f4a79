/**
 * The engine's one configuration and debug surface: every switch that tests, benchmarks
 * or a user may turn, typed, with its environment override (read once, at load, in Node;
 * a browser has no environment and keeps the defaults). The setters the packages kept
 * (setGemmVariant, setConvAlgorithm, setConvBnFusion, …) write here. docs/config.md
 * lists every field.
 */
import type { GemmVariant } from './kernels/gemm.js';
import type { ConvAlgorithm } from './kernels/conv.js';
import type { AdapterKind } from './runtime/adapter-profile.js';

export interface TesseraConfig {
  /** Forces one GEMM variant for every product; null: the tuner's or the default choice. TESSERA_GEMM_VARIANT. */
  gemmVariant: GemmVariant | null;
  /**
   * Lanes per workgroup of the subgroup GEMM variants; null: the adapter's smallest subgroup
   * size (subgroupMinSize), the widest a workgroup can be and still sit in one subgroup.
   * A power of two from 4 to that size. TESSERA_GEMM_LANES.
   */
  gemmSubgroupLanes: number | null;
  /** Forces the adapter profile (runtime/adapter-profile.ts); null: detected from the adapter. TESSERA_ADAPTER_PROFILE. */
  adapterProfile: AdapterKind | null;
  /** Forces the convolution algorithm; null: Winograd where it pays, else the implicit GEMM. TESSERA_CONV_ALGORITHM. */
  convAlgorithm: ConvAlgorithm | null;
  /** Conv → BatchNorm → activation as one kernel (@tessera/nn's layers). TESSERA_CONV_BN_FUSION=0 turns it off. */
  convBnFusion: boolean;
  /** Pretends the device dispatches at most this many workgroups per dimension (tests of the 2-D fold). TESSERA_MAX_WORKGROUPS. */
  maxWorkgroupsPerDimension: number | undefined;
  /** On llvmpipe, keep Dawn's own shader bounds checks (read when the device is made). TESSERA_DAWN_ROBUSTNESS=1. */
  dawnRobustness: boolean;
  /** Print each new pipeline's WGSL and compile time to stderr. TESSERA_DEBUG=kernels. */
  debugKernels: boolean;
}

const env = (name: string): string | undefined =>
  typeof process !== 'undefined' && process.env ? process.env[name] || undefined : undefined;

function oneOf<T extends string>(name: string, allowed: readonly T[]): T | null {
  const v = env(name);
  if (v === undefined) return null;
  if (!(allowed as readonly string[]).includes(v)) throw new Error(`${name}=${v}: expected one of ${allowed.join(', ')} (or unset it)`);
  return v as T;
}

function flag(name: string, dflt: boolean): boolean {
  const v = env(name);
  if (v === undefined) return dflt;
  if (v !== '0' && v !== '1') throw new Error(`${name}=${v}: expected 0 or 1 (or unset it)`);
  return v === '1';
}

function positiveInt(name: string): number | undefined {
  const v = env(name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name}=${v}: expected a positive integer (or unset it)`);
  return n;
}

function powerOfTwo(name: string): number | null {
  const n = positiveInt(name);
  if (n === undefined) return null;
  if (n < 4 || (n & (n - 1)) !== 0) throw new Error(`${name}=${n}: expected a power of two, at least 4 (or unset it)`);
  return n;
}

/** The configuration from an environment (exported for tests). */
export function configFromEnv(): TesseraConfig {
  return {
    gemmVariant: oneOf('TESSERA_GEMM_VARIANT', ['portable', 'register-tiled', 'subgroup', 'subgroup-uniform']),
    gemmSubgroupLanes: powerOfTwo('TESSERA_GEMM_LANES'),
    adapterProfile: oneOf('TESSERA_ADAPTER_PROFILE', ['lavapipe', 'swiftshader', 'gpu']),
    convAlgorithm: oneOf('TESSERA_CONV_ALGORITHM', ['gemm', 'winograd-2x2', 'winograd-4x4']),
    convBnFusion: flag('TESSERA_CONV_BN_FUSION', true),
    maxWorkgroupsPerDimension: positiveInt('TESSERA_MAX_WORKGROUPS'),
    dawnRobustness: flag('TESSERA_DAWN_ROBUSTNESS', false),
    debugKernels: (env('TESSERA_DEBUG') ?? '').split(',').includes('kernels'),
  };
}

/** The live configuration: change a field to change what the next dispatch does. */
export const config: TesseraConfig = configFromEnv();
