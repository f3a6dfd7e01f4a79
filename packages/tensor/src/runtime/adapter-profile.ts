/**
 * The adapter profile: every cost choice that depends on which kind of adapter runs the
 * kernels, in one typed table, picked from the adapter's info (or forced through
 * `config.adapterProfile` / TESSERA_ADAPTER_PROFILE). The kernels ask the profile
 * instead of testing for a driver themselves, so a new adapter is one row here.
 *
 * Three kinds, because the cost models differ (docs/performance.md):
 *  - 'lavapipe': Mesa's CPU rasteriser (llvmpipe). Every storage access is one scalar load
 *    per lane with the driver's own bounds check, a subgroup broadcast is nearly free, and
 *    loop-carried values are blended with the lane mask: the subgroup GEMM wins there.
 *  - 'swiftshader': Chromium's CPU fallback. Kept on the portable GEMM, as before profiles
 *    existed (the subgroup variants are correct on it and the tuner may pick them).
 *  - 'gpu': any hardware adapter. Nothing here was measured on one yet: the defaults are the
 *    portable GEMM and the lavapipe-measured convolution thresholds, and the autotuner
 *    (`pnpm bench --model … --tune`, scripts/gpu-check.sh) picks the GEMM per call.
 * Fields a test or a user forces one at a time (GEMM variant, convolution algorithm,
 * fusion) stay in `config`; the profile supplies what they fall back to.
 */
import { config } from '../config.js';
import type { GemmVariant } from '../kernels/gemm.js';

export type AdapterKind = 'lavapipe' | 'swiftshader' | 'gpu';
export const ADAPTER_KINDS: readonly AdapterKind[] = ['lavapipe', 'swiftshader', 'gpu'];

export interface AdapterProfile {
  kind: AdapterKind;
  /**
   * The driver bounds-checks every storage access itself, so Dawn's own clamps are pure
   * cost and the device is made without them (runtime/device.ts; TESSERA_DAWN_ROBUSTNESS=1
   * keeps them). llvmpipe: the GEMM's inner loop 5507 → 5057 x86 instructions.
   */
  driverChecksEveryAccess: boolean;
  gemm: {
    /** The variant an untuned call uses when the adapter can run it (else 'portable'). */
    defaultVariant: GemmVariant;
    /**
     * Rows per lane of the subgroup variants (at least the lane count; a subgroup tile is
     * rows × 4·lanes·cols). 32 on lavapipe: enough rows to amortise B's per-lane loads.
     */
    subgroupRows: number;
    /** vec4 column groups per lane (cn) and k-chunks per loop iteration (ku). */
    subgroupCols: number;
    subgroupKUnroll: number;
    /** Unroll the register-tiled variant's k-slice (GPUs) or keep it a loop (CPU rasterisers: compile time). */
    unrollRegisterTiled: boolean;
    /** Why the subgroup variants stay off on this kind of adapter, or null where they may run. */
    subgroupOff: string | null;
    /** Why the register-tiled variant stays off on this kind of adapter, or null where it may run. */
    registerTiledOff: string | null;
  };
  conv: {
    /** Below this many channels Winograd's transforms cost more than its products save. */
    winogradMinChannels: number;
    /** F(4×4) from this output size per side, F(2×2) below (its tiles run half empty). */
    winogradF4MinOutput: number;
  };
}

const LAVAPIPE: AdapterProfile = {
  kind: 'lavapipe',
  driverChecksEveryAccess: true,
  gemm: { defaultVariant: 'subgroup', subgroupRows: 32, subgroupCols: 1, subgroupKUnroll: 1, unrollRegisterTiled: false, subgroupOff: null, registerTiledOff: null },
  // Measured on ResNet-34's layers at batch 16 (kernels/conv.ts): F(4×4) forward + both
  // gradients took 1.5× F(2×2)'s time at 4×4 outputs, F(2×2) 1.4× F(4×4)'s at 7×7.
  conv: { winogradMinChannels: 16, winogradF4MinOutput: 6 },
};

const PROFILES: Record<AdapterKind, AdapterProfile> = {
  lavapipe: LAVAPIPE,
  // The subgroup and register-tiled GEMMs are correct on SwiftShader for plain products
  // (ops/matmul/matmul.test.ts passed there), but convolutions through them stalled it: the
  // subgroup GEMM on the 7×7/2 stem and the 1×1/2 shortcut, the register-tiled one on a 3×3
  // with odd channels, each past 100 s, and Chromium then lost the device (2026-12-07). So
  // neither the tests nor the tuner may pick them there. The same subgroup kernels at 4 lanes
  // pass on lavapipe (LP_NATIVE_VECTOR_WIDTH=128), the register-tiled ones at 8.
  swiftshader: {
    ...LAVAPIPE,
    kind: 'swiftshader',
    driverChecksEveryAccess: false,
    gemm: { ...LAVAPIPE.gemm, defaultVariant: 'portable', subgroupOff: 'SwiftShader stalls on convolutions through the subgroup GEMM (docs/performance.md)',
      registerTiledOff: 'SwiftShader stalls on convolutions through the register-tiled GEMM (docs/performance.md)',
    },
  },
  gpu: { ...LAVAPIPE, kind: 'gpu', driverChecksEveryAccess: false, gemm: { ...LAVAPIPE.gemm, defaultVariant: 'portable', unrollRegisterTiled: true } },
};

/** What identifies the adapter: its info as WebGPU reports it. */
export interface AdapterIdentity {
  vendor: string;
  architecture: string;
  description: string;
}

/** The kind of adapter, from its info: llvmpipe names itself in the description, SwiftShader in any field. */
export function detectAdapterKind(info: AdapterIdentity): AdapterKind {
  if (/^llvmpipe/i.test(info.description)) return 'lavapipe';
  if (/swiftshader/i.test(`${info.vendor} ${info.architecture} ${info.description}`)) return 'swiftshader';
  return 'gpu';
}

/** The profile for an adapter: `config.adapterProfile` when set, else the detected kind's. */
export function profileFor(info: AdapterIdentity): AdapterProfile {
  return PROFILES[config.adapterProfile ?? detectAdapterKind(info)];
}
