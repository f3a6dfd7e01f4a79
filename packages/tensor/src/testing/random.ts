/**
 * Seeded test inputs (mulberry32 on the CPU): the same seed gives the same array in
 * every run, so a failing case can be replayed. Helpers keep inputs away from the
 * points where finite differences break (kinks of relu/abs/clamp, ties of max).
 */
import { numel, type Shape } from '../shape.js';

/** A uniform [0, 1) generator. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const size = (s: Shape | number) => (typeof s === 'number' ? s : numel(s));

export interface UniformOptions {
  lo?: number;
  hi?: number;
  /** Resample values closer than `margin` to any of these points (non-differentiable spots). */
  avoid?: number[];
  margin?: number;
}

/** Uniform f32 values in [lo, hi). */
export function uniform(shape: Shape | number, seed: number, opts: UniformOptions = {}): Float32Array {
  const { lo = -1, hi = 1, avoid = [], margin = 0.05 } = opts;
  const r = rng(seed);
  const out = new Float32Array(size(shape));
  for (let i = 0; i < out.length; i++) {
    let v: number;
    do v = lo + (hi - lo) * r();
    while (avoid.some((p) => Math.abs(v - p) < margin));
    out[i] = v;
  }
  return out;
}

/** Normal f32 values (Box–Muller), mean then std as in torch.normal(mean, std). */
export function normal(shape: Shape | number, seed: number, mean = 0, std = 1): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(size(shape));
  for (let i = 0; i < out.length; i++) {
    const u1 = Math.max(r(), 1e-12);
    out[i] = mean + std * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * r());
  }
  return out;
}

/** Integers in [lo, hi) as i32. */
export function ints(shape: Shape | number, seed: number, lo: number, hi: number): Int32Array {
  const r = rng(seed);
  const out = new Int32Array(size(shape));
  for (let i = 0; i < out.length; i++) out[i] = lo + Math.floor((hi - lo) * r());
  return out;
}

/**
 * Distinct values spaced `gap` apart in shuffled order, scaled into about [-1, 1]:
 * max/min have a unique winner with a margin, so their gradients are well defined.
 */
export function distinct(shape: Shape | number, seed: number): Float32Array {
  const n = size(shape);
  const r = rng(seed);
  const perm = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [perm[i], perm[j]] = [perm[j]!, perm[i]!];
  }
  return Float32Array.from(perm, (p) => (2 * p) / Math.max(n - 1, 1) - 1);
}
