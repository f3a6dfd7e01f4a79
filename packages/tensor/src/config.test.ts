// The one config surface: environment overrides (checked, with a line naming the variable),
// the setters writing to it, and TESSERA_DEBUG=kernels printing each new pipeline once.
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { config, configFromEnv, initDevice, setConvAlgorithm, setGemmVariant, sync, tensor } from './index.js';
import { defineKernel, run } from './kernels/define.js';

const KEYS = ['TESSERA_GEMM_VARIANT', 'TESSERA_GEMM_LANES', 'TESSERA_ADAPTER_PROFILE', 'TESSERA_CONV_ALGORITHM', 'TESSERA_CONV_BN_FUSION', 'TESSERA_MAX_WORKGROUPS', 'TESSERA_DAWN_ROBUSTNESS', 'TESSERA_DEBUG'];

function withEnv<T>(vars: Record<string, string>, f: () => T): T {
  const saved = KEYS.map((k) => [k, process.env[k]] as const);
  for (const k of KEYS) delete process.env[k];
  Object.assign(process.env, vars);
  try {
    return f();
  } finally {
    for (const [k, v] of saved) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  }
}

// Environment overrides are read from Node's process.env; a browser page has none to read.
const hasEnv = typeof process !== 'undefined' && !!process.versions?.node;
if (!hasEnv) console.log('[config] environment overrides not tested: this runtime has no process.env (a browser)');

describe.skipIf(!hasEnv)('configFromEnv', () => {
  it('defaults without variables', () => {
    expect(withEnv({}, configFromEnv)).toEqual({
      gemmVariant: null, gemmSubgroupLanes: null, adapterProfile: null, convAlgorithm: null, convBnFusion: true, maxWorkgroupsPerDimension: undefined, dawnRobustness: false, debugKernels: false,
    });
  });

  it('reads every override', () => {
    const c = withEnv(
      { TESSERA_GEMM_VARIANT: 'portable', TESSERA_GEMM_LANES: '16', TESSERA_ADAPTER_PROFILE: 'gpu', TESSERA_CONV_ALGORITHM: 'winograd-2x2', TESSERA_CONV_BN_FUSION: '0', TESSERA_MAX_WORKGROUPS: '7', TESSERA_DAWN_ROBUSTNESS: '1', TESSERA_DEBUG: 'other,kernels' },
      configFromEnv,
    );
    expect(c).toEqual({ gemmVariant: 'portable', gemmSubgroupLanes: 16, adapterProfile: 'gpu', convAlgorithm: 'winograd-2x2', convBnFusion: false, maxWorkgroupsPerDimension: 7, dawnRobustness: true, debugKernels: true });
  });

  it('a bad value is one line naming the variable and what it takes', () => {
    expect(() => withEnv({ TESSERA_GEMM_VARIANT: 'fast' }, configFromEnv)).toThrow('TESSERA_GEMM_VARIANT=fast: expected one of portable, register-tiled, subgroup, subgroup-uniform (or unset it)');
    expect(() => withEnv({ TESSERA_GEMM_LANES: '12' }, configFromEnv)).toThrow('TESSERA_GEMM_LANES=12: expected a power of two, at least 4');
    expect(() => withEnv({ TESSERA_ADAPTER_PROFILE: 'nvidia' }, configFromEnv)).toThrow('TESSERA_ADAPTER_PROFILE=nvidia: expected one of lavapipe, swiftshader, gpu');
    expect(() => withEnv({ TESSERA_CONV_BN_FUSION: 'yes' }, configFromEnv)).toThrow('TESSERA_CONV_BN_FUSION=yes: expected 0 or 1');
    expect(() => withEnv({ TESSERA_MAX_WORKGROUPS: '-1' }, configFromEnv)).toThrow('TESSERA_MAX_WORKGROUPS=-1: expected a positive integer');
  });
});

describe('config on the device', () => {
  beforeAll(async () => {
    await initDevice();
  });
  afterEach(() => {
    config.debugKernels = false;
    vi.restoreAllMocks();
  });

  it('the setters write the config', () => {
    setGemmVariant('portable');
    setConvAlgorithm('gemm');
    expect([config.gemmVariant, config.convAlgorithm]).toEqual(['portable', 'gemm']);
    setGemmVariant(null);
    setConvAlgorithm(null);
    expect([config.gemmVariant, config.convAlgorithm]).toEqual([null, null]);
  });

  it('debugKernels prints a new pipeline once, with its WGSL and compile time', async () => {
    const lines: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((s: unknown) => void lines.push(String(s)));
    config.debugKernels = true;
    const k = defineKernel({
      name: 'debug_probe',
      uniforms: { n: 'u32' },
      outputs: { y: 'array<f32>' },
      workgroupSize: 1,
      body: `// debug probe ${Date.now()}\nfn main() { y[0] = f32(u.n); }\n`,
    });
    const y = tensor([0]);
    run(k, { y: y.buffer }, { n: 3 }, [1]);
    run(k, { y: y.buffer }, { n: 3 }, [1]);
    await sync();
    expect(await y.toArray()).toEqual(new Float32Array([3]));
    const printed = lines.filter((l) => l.includes('debug_probe'));
    expect(printed).toHaveLength(1);
    expect(printed[0]).toMatch(/^\[tessera kernels\] debug_probe: pipeline made in \d+\.\d ms\n/);
    expect(printed[0]).toContain(k.code);
  });
});
