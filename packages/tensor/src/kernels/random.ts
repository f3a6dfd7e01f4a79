/**
 * Counter-based random numbers: element i of a draw with seed s is a pure function
 * of (s, i), so GPU results are reproducible and the CPU twin computes the same bits.
 * Variants: uniform [lo, hi), normal (Box–Muller), bernoulli mask (for dropout).
 */
import { defineKernel, run } from './define.js';
import { FLAT_INDEX, grid1d } from './grid.js';

export type RandomKind = 'uniform' | 'normal';

const WG = 256;

/** PCG-style integer hash (O'Neill's "RXS-M-XS"), the same in WGSL and in the CPU twin. */
export const HASH_WGSL = `
fn pcg(v: u32) -> u32 {
  let state = v * 747796405u + 2891336453u;
  let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
  return (word >> 22u) ^ word;
}
fn unit(h: u32) -> f32 { return f32(h >> 8u) * (1.0 / 16777216.0); }
`;

/**
 * cos(2πu) for u in [0, 1), to ~1e-7 on every adapter: WGSL's cos promises only 2^-11
 * absolute error, and only inside [-π, π]; SwiftShader's is ~2e-4 off over [0, 2π),
 * which would make the same seed draw different normals on different adapters. Folds
 * to [0, π/2] exactly (u is a multiple of 2^-24) and evaluates cos's Taylor series
 * there (truncation < 1e-10).
 */
const COS2PI_WGSL = `
fn cos2pi(u: f32) -> f32 {
  let a = abs(u - 0.5);                    // cos(2πu) = -cos(2πa), a in [0, 0.5]
  let q = select(a, 0.5 - a, a > 0.25);     // cos(2πa) = -cos(2π(0.5 - a))
  let x = 6.2831853 * q;
  let z = x * x;
  let c = 1.0 + z * (-0.5 + z * (4.16666667e-2 + z * (-1.38888889e-3 + z * (2.48015873e-5 + z * (-2.75573192e-7 + z * (2.08767570e-9 + z * -1.14707456e-11))))));
  return select(-c, c, a > 0.25);
}
`;

function define(kind: RandomKind) {
  const body =
    kind === 'uniform'
      ? // a + (b - a) * u can round up to b itself in f32 (e.g. [1, 2)): cap at the float below b.
        `out[i] = min(u.a + (u.b - u.a) * unit(pcg(i ^ pcg(u.seed))), u.below);`
      : `let u1 = max(unit(pcg((2u * i) ^ pcg(u.seed))), 1e-7);
  let u2 = unit(pcg((2u * i + 1u) ^ pcg(u.seed)));
  out[i] = u.a + u.b * sqrt(-2.0 * log(u1)) * cos2pi(u2);`;
  return defineKernel({
    name: `random_${kind}`,
    uniforms: { n: 'u32', seed: 'u32', a: 'f32', b: 'f32', below: 'f32' },
    outputs: { out: 'array<f32>' },
    workgroupSize: WG,
    body: `// random_${kind}
${HASH_WGSL}${kind === 'normal' ? COS2PI_WGSL : ''}
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = ${FLAT_INDEX};
  if (i >= u.n) { return; }
  ${body}
}
`,
  });
}

const KERNELS = { uniform: define('uniform'), normal: define('normal') };

/** Fills n floats: uniform in [a, b), or normal with mean a and std b. */
export function runRandom(kind: RandomKind, out: GPUBuffer, n: number, seed: number, a: number, b: number): void {
  run(KERNELS[kind], { out }, { n, seed: seed >>> 0, a, b, below: f32Below(b) }, grid1d(n, WG));
}

/** The largest f32 strictly below x. */
export function f32Below(x: number): number {
  const f = new Float32Array([x]);
  const bits = new Uint32Array(f.buffer);
  if (f[0]! < x) return f[0]!;
  if (f[0] === 0) bits[0] = 0x80800000; // -FLT_MIN: GPUs may flush subnormals to zero
  else if (f[0]! > 0) bits[0] = bits[0]! - 1;
  else bits[0] = bits[0]! + 1;
  return f[0]!;
}

// CPU twin of the hash, for tests and for host-side draws that must match the GPU.
export function pcgHash(v: number): number {
  const state = (Math.imul(v >>> 0, 747796405) + 2891336453) >>> 0;
  const word = Math.imul(((state >>> ((state >>> 28) + 4)) ^ state) >>> 0, 277803737) >>> 0;
  return ((word >>> 22) ^ word) >>> 0;
}

export function unitFromHash(h: number): number {
  return Math.fround((h >>> 8) * (1 / 16777216));
}
