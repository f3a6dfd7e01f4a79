/**
 * CPU twin of kernel.ts, in float64: batch norm over a channels-last
 * matrix x [M, C] (M = N·H·W for NHWC), its running-stat update, the residual and
 * the activation fused after it, and its backward.
 */

/** The fused activation, as op.ts takes it. */
export type BnActivationRef = 'none' | 'relu' | { leaky: number };

/** act(z) and act'(z) (z > 0 takes the identity branch, as PyTorch's backward does). */
function actRef(act: BnActivationRef | undefined): { f: (z: number) => number; df: (z: number) => number } {
  if (act === 'relu') return { f: (z) => (z > 0 ? z : 0), df: (z) => (z > 0 ? 1 : 0) };
  if (act && act !== 'none') return { f: (z) => (z > 0 ? z : z * act.leaky), df: (z) => (z > 0 ? 1 : act.leaky) };
  return { f: (z) => z, df: () => 1 };
}

export interface BatchNormRefArgs {
  x: ArrayLike<number>;
  M: number;
  C: number;
  weight?: ArrayLike<number> | null;
  bias?: ArrayLike<number> | null;
  runningMean?: ArrayLike<number> | null;
  runningVar?: ArrayLike<number> | null;
  training: boolean;
  momentum?: number;
  eps?: number;
  activation?: BnActivationRef;
  /** [M, C], added before the activation. */
  residual?: ArrayLike<number> | null;
}

export interface BatchNormRefResult {
  /** act(z). */
  y: Float64Array;
  /** The normalised, affine output plus the residual, before the activation. */
  z: Float64Array;
  activation: BnActivationRef;
  /** The statistics used for normalising (batch or running). */
  mean: Float64Array;
  invstd: Float64Array;
  useBatch: boolean;
  /** Running statistics after the update (copies of the inputs when not training). */
  runningMean: Float64Array | null;
  runningVar: Float64Array | null;
}

export function batchNormRef(a: BatchNormRefArgs): BatchNormRefResult {
  const { x, M, C } = a;
  const eps = a.eps ?? 1e-5;
  const momentum = a.momentum ?? 0.1;
  const useBatch = a.training || !a.runningMean;
  const mean = new Float64Array(C);
  const variance = new Float64Array(C);
  const rm = a.runningMean ? Float64Array.from(a.runningMean) : null;
  const rv = a.runningVar ? Float64Array.from(a.runningVar) : null;
  for (let c = 0; c < C; c++) {
    if (useBatch) {
      let s = 0;
      for (let r = 0; r < M; r++) s += x[r * C + c]!;
      const m = s / M;
      let s2 = 0;
      for (let r = 0; r < M; r++) s2 += (x[r * C + c]! - m) ** 2;
      mean[c] = m;
      variance[c] = s2 / M;
      if (a.training && rm && rv) {
        rm[c] = (1 - momentum) * rm[c]! + momentum * m;
        rv[c] = (1 - momentum) * rv[c]! + momentum * (s2 / Math.max(M - 1, 1));
      }
    } else {
      mean[c] = rm![c]!;
      variance[c] = rv![c]!;
    }
  }
  const invstd = variance.map((v) => 1 / Math.sqrt(v + eps));
  const z = new Float64Array(M * C);
  for (let r = 0; r < M; r++) {
    for (let c = 0; c < C; c++) {
      const w = a.weight ? a.weight[c]! : 1;
      const b = a.bias ? a.bias[c]! : 0;
      z[r * C + c] = (x[r * C + c]! - mean[c]!) * invstd[c]! * w + b + (a.residual ? a.residual[r * C + c]! : 0);
    }
  }
  const y = z.map(actRef(a.activation).f);
  return { y, z, activation: a.activation ?? 'none', mean, invstd, useBatch, runningMean: rm, runningVar: rv };
}

/**
 * Gradients of batchNormRef's y for upstream gradient g: dx, dweight, dbias, and the
 * residual's, dresidual = g·act'(z) (meaningful when the forward had a residual). With
 * an activation, g is first multiplied by act'(z), z and the activation from the forward.
 */
export function batchNormBackwardRef(
  gIn: ArrayLike<number>,
  x: ArrayLike<number>,
  M: number,
  C: number,
  weight: ArrayLike<number> | null | undefined,
  fwd: Pick<BatchNormRefResult, 'mean' | 'invstd' | 'useBatch' | 'z' | 'activation'>,
): { dx: Float64Array; dweight: Float64Array; dbias: Float64Array; dresidual: Float64Array } {
  const df = actRef(fwd.activation).df;
  const g = Float64Array.from(gIn, (v, i) => v * df(fwd.z[i]!));
  const dx = new Float64Array(M * C);
  const dweight = new Float64Array(C);
  const dbias = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    const m = fwd.mean[c]!;
    const is = fwd.invstd[c]!;
    let sg = 0;
    let sgx = 0;
    for (let r = 0; r < M; r++) {
      const gv = g[r * C + c]!;
      sg += gv;
      sgx += gv * (x[r * C + c]! - m) * is;
    }
    dbias[c] = sg;
    dweight[c] = sgx;
    const k = (weight ? weight[c]! : 1) * is;
    for (let r = 0; r < M; r++) {
      const gv = g[r * C + c]!;
      dx[r * C + c] = fwd.useBatch ? k * (gv - sg / M - ((x[r * C + c]! - m) * is * sgx) / M) : k * gv;
    }
  }
  return { dx, dweight, dbias, dresidual: g };
}

/** Twin of batchNormFold: [scale; shift] with scale = γ/√(var + ε), shift = β + (convBias − mean)·scale. */
export function batchNormFoldRef(
  w: ArrayLike<number>,
  b: ArrayLike<number>,
  rm: ArrayLike<number>,
  rv: ArrayLike<number>,
  eps: number,
  convBias: ArrayLike<number> | null = null,
): Float64Array {
  const C = w.length;
  const out = new Float64Array(2 * C);
  for (let c = 0; c < C; c++) {
    const scale = w[c]! / Math.sqrt(rv[c]! + eps);
    out[c] = scale;
    out[C + c] = b[c]! + ((convBias ? convBias[c]! : 0) - rm[c]!) * scale;
  }
  return out;
}

/**
 * Twin of batchNormMaxPool2d: batchNormRef over NHWC [N, H, W, C], then a 2×2/2 max-pool
 * in floor mode (ties: the first maximum in row-major order; a NaN replaces). Returns the
 * forward (for the backward) and the pooled y [N, ⌊H/2⌋, ⌊W/2⌋, C] with its argmax (flat
 * index into x).
 */
export function batchNormMaxPoolRef(a: BatchNormRefArgs & { N: number; H: number; W: number }): BatchNormRefResult & { pooled: Float64Array; argmax: Int32Array } {
  const f = batchNormRef(a);
  const { N, H, W, C } = a;
  const OH = Math.floor(H / 2);
  const OW = Math.floor(W / 2);
  const pooled = new Float64Array(N * OH * OW * C);
  const argmax = new Int32Array(pooled.length);
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        for (let c = 0; c < C; c++) {
          let best = -Infinity;
          let arg = -1;
          for (const [dh, dw] of [[0, 0], [0, 1], [1, 0], [1, 1]] as const) {
            const i = ((n * H + 2 * oh + dh) * W + 2 * ow + dw) * C + c;
            const v = f.y[i]!;
            if (arg < 0 || v > best || Number.isNaN(v)) {
              best = v;
              arg = i;
            }
          }
          const o = ((n * OH + oh) * OW + ow) * C + c;
          pooled[o] = best;
          argmax[o] = arg;
        }
      }
    }
  }
  return { ...f, pooled, argmax };
}

/** Gradients of batchNormMaxPoolRef for upstream gradient gy [N, ⌊H/2⌋, ⌊W/2⌋, C]: gy routed to the argmax, then batchNormBackwardRef. */
export function batchNormMaxPoolBackwardRef(
  gy: ArrayLike<number>,
  x: ArrayLike<number>,
  M: number,
  C: number,
  weight: ArrayLike<number> | null | undefined,
  fwd: Pick<BatchNormRefResult, 'mean' | 'invstd' | 'useBatch' | 'z' | 'activation'> & { argmax: Int32Array },
): { dx: Float64Array; dweight: Float64Array; dbias: Float64Array } {
  const g = new Float64Array(M * C);
  fwd.argmax.forEach((i, o) => (g[i] = gy[o]!));
  const { dx, dweight, dbias } = batchNormBackwardRef(g, x, M, C, weight, fwd);
  return { dx, dweight, dbias };
}
