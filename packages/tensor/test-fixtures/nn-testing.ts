/**
 * Test helpers for the nn ops: seeded inputs, closeness checks that name the worst
 * element, float64 finite differences. Plain TypeScript, so the same tests run in Node
 * and in the browser; the bridge to PyTorch is torch-bridge.ts (Node only).
 */
import { rng } from '../src/testing/random.js';
export { rng };

/** n standard-normal floats (scaled and shifted), rounded to f32. */
export function randn(n: number, seed: number, std = 1, mean = 0): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u1 = Math.max(r(), 1e-12);
    const u2 = r();
    out[i] = mean + std * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }
  return out;
}

export function randInts(n: number, hi: number, seed: number): Int32Array {
  const r = rng(seed);
  return Int32Array.from({ length: n }, () => Math.floor(r() * hi));
}

export const numel = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

/**
 * Throws unless |a − b| ≤ atol + rtol·|b| everywhere (b is the reference). The message
 * names the worst element, so a failure says where and by how much.
 */
export function expectClose(what: string, a: ArrayLike<number>, b: ArrayLike<number>, atol: number, rtol = 0): number {
  if (a.length !== b.length) throw new Error(`${what}: length ${a.length} vs reference ${b.length}`);
  let worst = -1;
  let worstExcess = 0;
  let maxAbs = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    // Equal values match, infinities included (∞ − ∞ is NaN); NaN matches NaN.
    if (a[i] !== b[i] && !(d <= atol + rtol * Math.abs(b[i]!)) && !(Number.isNaN(a[i]!) && Number.isNaN(b[i]!))) {
      const excess = Number.isNaN(d) ? Infinity : d - (atol + rtol * Math.abs(b[i]!));
      if (worst < 0 || excess > worstExcess) {
        worst = i;
        worstExcess = excess;
      }
    }
    if (a[i] !== b[i] && d > maxAbs) maxAbs = d;
  }
  if (worst >= 0) {
    throw new Error(`${what}: element ${worst} is ${a[worst]} but the reference is ${b[worst]} (atol ${atol}, rtol ${rtol}; max |diff| ${maxAbs})`);
  }
  return maxAbs;
}

/**
 * Central-difference gradient of the scalar f at x (float64), h relative to scale.
 * f must be a pure function of its argument.
 */
export function numericGrad(f: (x: Float64Array) => number, x: ArrayLike<number>, h = 1e-5): Float64Array {
  const xv = Float64Array.from(x);
  const g = new Float64Array(xv.length);
  for (let i = 0; i < xv.length; i++) {
    const v = xv[i]!;
    xv[i] = v + h;
    const fp = f(xv);
    xv[i] = v - h;
    const fm = f(xv);
    xv[i] = v;
    g[i] = (fp - fm) / (2 * h);
  }
  return g;
}

export const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};

const maxAbsOf = (a: ArrayLike<number>) => Array.from(a).reduce((m, v) => Math.max(m, Math.abs(v)), 0);

/**
 * Central differences of loss(x, w, b) in each of x, w and b (a normalisation's input,
 * weight and bias); throws unless the GPU's f32 gradients agree within 2e-4 of the
 * largest. Returns the numeric gradients, for checking a twin's analytic ones.
 */
export function expectAffineGradsNumeric(
  gpu: { dx: ArrayLike<number>; dw: ArrayLike<number> | null; db: ArrayLike<number> | null },
  loss: (x: ArrayLike<number>, w: ArrayLike<number>, b: ArrayLike<number>) => number,
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  b: ArrayLike<number>,
): { nx: Float64Array; nw: Float64Array; nb: Float64Array } {
  const nx = numericGrad((v) => loss(v, w, b), x);
  const nw = numericGrad((v) => loss(x, v, b), w);
  const nb = numericGrad((v) => loss(x, w, v), b);
  expectClose('dx (GPU)', gpu.dx, nx, 2e-4 * Math.max(1, maxAbsOf(nx)));
  expectClose('dweight (GPU)', gpu.dw!, nw, 2e-4 * Math.max(1, maxAbsOf(nw)));
  expectClose('dbias (GPU)', gpu.db!, nb, 2e-4 * Math.max(1, maxAbsOf(nb)));
  return { nx, nw, nb };
}
