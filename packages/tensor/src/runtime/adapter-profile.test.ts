// The adapter profile: which kind an adapter's info names, what each kind chooses, and the
// config override. Device-free (the fast tier); what the live adapter got is printed by
// runtime/adapter.test.ts and used by ops/matmul/matmul.test.ts.
import { afterEach, describe, expect, it } from 'vitest';
import { config } from '../config.js';
import { detectAdapterKind, profileFor } from './adapter-profile.js';

const LLVMPIPE = { vendor: 'mesa', architecture: 'software', description: 'llvmpipe: Mesa 25.0.7-2~bpo12+1 (LLVM 15.0.6)' };
const SWIFTSHADER = { vendor: 'google', architecture: 'swiftshader', description: '' };
const NVIDIA = { vendor: 'nvidia', architecture: 'hopper', description: 'NVIDIA H100 80GB HBM3' };

describe('adapter profile', () => {
  afterEach(() => {
    config.adapterProfile = null;
  });

  it('is chosen from the adapter info', () => {
    expect(detectAdapterKind(LLVMPIPE)).toBe('lavapipe');
    expect(detectAdapterKind(SWIFTSHADER)).toBe('swiftshader');
    expect(detectAdapterKind({ vendor: 'google', architecture: '', description: 'SwiftShader Device (Subzero)' })).toBe('swiftshader');
    expect(detectAdapterKind(NVIDIA)).toBe('gpu');
  });

  it("keeps lavapipe's measured choices: subgroup GEMM, driver-only bounds checks, Winograd from 16 channels, F(4×4) from 6 outputs", () => {
    const p = profileFor(LLVMPIPE);
    expect(p.kind).toBe('lavapipe');
    expect(p.driverChecksEveryAccess).toBe(true);
    expect(p.gemm).toEqual({ defaultVariant: 'subgroup', subgroupRows: 32, subgroupCols: 1, subgroupKUnroll: 1, unrollRegisterTiled: false, subgroupOff: null, registerTiledOff: null });
    expect(p.conv).toEqual({ winogradMinChannels: 16, winogradF4MinOutput: 6 });
  });

  it('other adapters keep Dawn’s bounds checks and default to the portable GEMM (the tuner picks per call)', () => {
    for (const info of [SWIFTSHADER, NVIDIA]) {
      const p = profileFor(info);
      expect(p.driverChecksEveryAccess).toBe(false);
      expect(p.gemm.defaultVariant).toBe('portable');
    }
    expect(profileFor(NVIDIA).gemm.unrollRegisterTiled).toBe(true);
    // SwiftShader stalled on convolutions through the subgroup and register-tiled GEMMs: both off there, with the reason.
    expect(profileFor(SWIFTSHADER).gemm.subgroupOff).toMatch(/SwiftShader stalls/);
    expect(profileFor(SWIFTSHADER).gemm.registerTiledOff).toMatch(/SwiftShader stalls/);
    expect(profileFor(NVIDIA).gemm.subgroupOff).toBeNull();
    expect(profileFor(NVIDIA).gemm.registerTiledOff).toBeNull();
  });

  it('config.adapterProfile overrides the detected kind', () => {
    config.adapterProfile = 'gpu';
    expect(profileFor(LLVMPIPE).kind).toBe('gpu');
    config.adapterProfile = 'lavapipe';
    expect(profileFor(NVIDIA).gemm.defaultVariant).toBe('subgroup');
  });
});
