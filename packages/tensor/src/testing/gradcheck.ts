/**
 * Gradient checks: autograd on the GPU (fp32) against central finite differences
 * of the CPU twin in float64.
 *
 * Why the twin in f64: a central difference (f(x+h) − f(x−h)) / 2h has truncation
 * error ~h²·f‴/6 and rounding error ~ε·|f|/h. In f32 (ε ≈ 6e-8) no h makes both
 * small; in f64 (ε ≈ 1e-16) with h = 1e-4·max(1, |x|) both are ≲ 1e-8 relative, so
 * the numerical gradient is effectively exact and the whole tolerance budget goes
 * to the GPU's fp32 arithmetic.
 *
 * A non-scalar output y is reduced as L = Σ wᵢ·yᵢ with fixed random weights w in
 * [0.5, 1.5) with random signs, so every output element's gradient path is
 * checked with a distinct weight (a plain sum would hide errors that cancel).
 */
import type { DType } from '../dtype.js';
import { memoryStats } from '../runtime/pool.js';
import { tidy } from '../autograd/scope.js';
import { backward } from '../autograd/engine.js';
import { tensor } from '../ops/create.js';
import { mul } from '../ops/elementwise/op.js';
import { sum } from '../ops/reduce/op.js';
import type { Tensor } from '../tensor.js';
import { type CpuTensor, cpuTensor, denseData } from '../reference/cpu-tensor.js';
import { assertClose, type Tolerance } from './check.js';
import { cpuOps, gpuOps, type Expr } from './ops.js';
import { rng } from './random.js';

export interface GradInput {
  data: Float32Array | Int32Array | Uint32Array;
  shape: readonly number[];
  /** Whether to check this input's gradient (default: true for f32 data). */
  grad?: boolean;
}

export interface GradCheckOptions {
  /** GPU forward vs the f64 twin. Default rtol 1e-4, atol 1e-5 (atol scaled by max(1, max|y|)). */
  forward?: Tolerance;
  /** Autograd vs finite differences. Default rtol 1e-3, atol 1e-4 (atol scaled by max(1, max|grad|)). */
  grad?: Tolerance;
  /** Relative step (default 1e-4). */
  h?: number;
  /** Seed of the output weights. */
  seed?: number;
  /** Check that GPU memory returns to where it was (default true): backward must free what the graph held. */
  checkMemory?: boolean;
}

const dtypeOf = (d: GradInput['data']): DType => (d instanceof Float32Array ? 'f32' : d instanceof Int32Array ? 'i32' : 'u32');
function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) if (Number.isFinite(a[i]!)) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

/**
 * Live GPU bytes, not counting what the garbage collector freed meanwhile: the
 * collector may finalize unrelated, earlier tensors at any await, which would make
 * plain bytesLive comparisons flaky.
 */
export function liveBytes(): number {
  const s = memoryStats();
  return s.bytesLive + s.bytesReclaimedByGC;
}

/**
 * ∂f/∂x by central differences, x flat (f is evaluated in float64 on a perturbed copy; it must
 * be a pure function of its argument). The step is h·max(1, |xᵢ|).
 */
export function numericGrad(f: (x: Float64Array) => number, x: ArrayLike<number>, h = 1e-5): Float64Array {
  const xv = Float64Array.from(x);
  const g = new Float64Array(xv.length);
  for (let i = 0; i < xv.length; i++) {
    const v = xv[i]!;
    const step = h * Math.max(1, Math.abs(v));
    xv[i] = v + step;
    const fp = f(xv);
    xv[i] = v - step;
    const fm = f(xv);
    xv[i] = v;
    g[i] = (fp - fm) / (2 * step);
  }
  return g;
}

/** Σ aᵢ·bᵢ: a vector-valued function as a scalar loss for `numericGrad` (b the upstream gradient). */
export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** ∂f/∂inputs[k] for the twin: `numericGrad` over input k's (dense) data, written in place and restored. */
function numericalGrad(f: (xs: CpuTensor[]) => number, inputs: CpuTensor[], k: number, h: number): Float64Array {
  const data = inputs[k]!.data;
  const saved = Float64Array.from(data);
  const g = numericGrad((v) => {
    data.set(v);
    return f(inputs);
  }, saved, h);
  data.set(saved);
  return g;
}

/**
 * A normalisation's gradients (input, weight, bias) from the GPU against central differences
 * of `loss(x, w, b)` (its float64 twin): within 2e-4 of each gradient's largest magnitude.
 * Returns the numeric gradients, for checking the twin's analytic ones too.
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
  const tol = (n: Float64Array) => ({ atol: 2e-4 * Math.max(1, maxAbs(n)), rtol: 0 });
  assertClose(gpu.dx, nx, tol(nx), 'dx (GPU)');
  assertClose(gpu.dw!, nw, tol(nw), 'dweight (GPU)');
  assertClose(gpu.db!, nb, tol(nb), 'dbias (GPU)');
  return { nx, nw, nb };
}

/** Runs `expr` on the GPU with autograd and on the f64 twin; compares the forward values and every input's gradient. */
export async function gradCheck(expr: Expr, inputs: GradInput[], opts: GradCheckOptions = {}): Promise<void> {
  const before = liveBytes();
  const wants = inputs.map((inp) => (inp.grad ?? inp.data instanceof Float32Array) && inp.data instanceof Float32Array);
  const leaves = inputs.map((inp, k) => {
    const t = tensor(inp.data, inp.shape, dtypeOf(inp.data));
    return wants[k] ? t.requireGrad() : t;
  });
  let y: Tensor | undefined;
  let yData: ArrayLike<number>;
  const grads: (ArrayLike<number> | null)[] = [];
  let weights: Float32Array;
  try {
    const r = rng(opts.seed ?? 1234);
    const out = tidy(() => {
      const yy = expr(gpuOps, ...leaves);
      weights = Float32Array.from({ length: yy.size }, () => (0.5 + r()) * (r() < 0.5 ? -1 : 1));
      const loss = sum(mul(yy, tensor(weights, yy.shape)));
      return { y: yy, loss };
    });
    y = out.y;
    yData = await y.toArray();
    backward(out.loss);
    out.loss.dispose();
    for (let k = 0; k < leaves.length; k++) grads.push(wants[k] && leaves[k]!.grad ? await leaves[k]!.grad!.toArray() : null);
  } finally {
    y?.dispose();
    for (const t of leaves) {
      t.grad?.dispose();
      t.dispose();
    }
  }

  // The twin, in f64.
  const xs = inputs.map((inp) => cpuTensor(inp.data, inp.shape, inp.data instanceof Float32Array ? 'f64' : dtypeOf(inp.data)));
  const yRef = expr(cpuOps, ...xs);
  const yRefData = denseData(yRef);
  const fwd = { rtol: 1e-4, atol: 1e-5, ...opts.forward };
  assertClose(yData, yRefData, { rtol: fwd.rtol, atol: fwd.atol * Math.max(1, maxAbs(yRefData)) }, yRef.shape, 'gradCheck forward');
  const f = (args: CpuTensor[]) => {
    const v = denseData(expr(cpuOps, ...args));
    let s = 0;
    for (let i = 0; i < v.length; i++) s += weights[i]! * v[i]!;
    return s;
  };
  const gt = { rtol: 1e-3, atol: 1e-4, ...opts.grad };
  inputs.forEach((inp, k) => {
    if (!wants[k]) return;
    const num = numericalGrad(f, xs, k, opts.h ?? 1e-4);
    const got = grads[k] ?? new Float32Array(num.length); // no path from the output: zero gradient
    assertClose(got, num, { rtol: gt.rtol, atol: gt.atol * Math.max(1, maxAbs(num)) }, inp.shape, `gradCheck d/d(input ${k})`);
  });

  if (opts.checkMemory !== false) {
    const after = liveBytes();
    if (after !== before) throw new Error(`gradCheck: GPU memory went from ${before} to ${after} live bytes: something leaked`);
  }
}
