/**
 * CPU twins of the counter-based random kernels (kernels/random.ts): element i of
 * a draw with seed s is a pure function of (s, i), so the GPU's numbers can be
 * recomputed here. Arithmetic mirrors the kernel's f32 steps with Math.fround.
 */
import { pcgHash, unitFromHash, f32Below } from '../kernels/random.js';
import { type CpuTensor, fromFn } from './cpu-tensor.js';

const f = Math.fround;

export function rand(shape: readonly number[], lo: number, hi: number, seed: number): CpuTensor {
  const s = pcgHash(seed >>> 0);
  const a = f(lo);
  const span = f(f(hi) - a);
  const below = f32Below(hi);
  return fromFn(shape, 'f32', (i) => Math.min(f(a + f(span * unitFromHash(pcgHash((i ^ s) >>> 0)))), below));
}

export function randn(shape: readonly number[], mean: number, std: number, seed: number): CpuTensor {
  const s = pcgHash(seed >>> 0);
  return fromFn(shape, 'f32', (i) => {
    const u1 = Math.max(unitFromHash(pcgHash(((2 * i) ^ s) >>> 0)), f(1e-7));
    const u2 = unitFromHash(pcgHash(((2 * i + 1) ^ s) >>> 0));
    return mean + std * Math.sqrt(-2 * Math.log(u1)) * Math.cos(6.2831853 * u2);
  });
}
