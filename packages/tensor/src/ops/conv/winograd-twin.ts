/**
 * CPU twins of the Winograd F(m×m, 3×3) convolution's kernels (kernels/winograd.ts), in
 * float64, written from the definitions as small dense matrix products with the tile's
 * Bᵀ, G and Aᵀ (not from the WGSL generator, so they check it independently). Inputs are
 * dense f32 arrays (no offsets), outputs Float64Array in the kernel's layout:
 *  - winogradWeightsRef:      U [α², Nout, K],  U[ξ, n, k] = (G g Gᵀ)[ξ], g = w[n, :, :, k]
 *                             (flip: g[i][j] = w[k, 2−i, 2−j, n], the input gradient's kernel,
 *                             and U [α², K, Nout]: the layouts of winogradULayout);
 *  - winogradInputRef:        V [α², P, K],     V[ξ, t, k] = (Bᵀ d B)[ξ], d the α×α patch of tile t
 *                             at (m·ty − ph, m·tx − pw), zero outside the image;
 *  - winogradProductsRef:     M [α², P, Nout],  M[ξ] = V[ξ] · U[ξ], U in either layout;
 *  - winogradOutputRef:       y [N, OH, OW, Nout] = act((Aᵀ M A) · scale + bias + residual);
 *  - winogradGradOutputRef:   dM [α², P, Nout], dM[ξ, t, n] = (A dy_t Aᵀ)[ξ], dy_t the m×m tile
 *                             of dy, zero beyond OH×OW;
 *  - winogradGradProductsRef: dU [α², Nout, K], dU[ξ] = dM[ξ]ᵀ · V[ξ];
 *  - winogradGradWeightsRef:  dw [Nout, 3, 3, K], dw[n, i, j, k] = (Gᵀ dU[:, n, k] G)[i, j].
 * α = m + 2; tiles t = (n, ty, tx) row-major, TH = ⌈OH/m⌉, TW = ⌈OW/m⌉, P = N·TH·TW;
 * OH = H + 2·ph − 2, OW = W + 2·pw − 2. Composed, they are the convolution (conv2dRef) and
 * its filter gradient (conv2dBackwardRef's dw): kernels/winograd.test.ts checks that too.
 */
import type { WinogradProblem, WinogradTile, WinogradULayout } from '../../kernels/winograd.js';

type Mat = number[][];

export interface WinogradEpilogueRef {
  /** Per output channel [Nout], applied first. */
  scale?: ArrayLike<number> | null;
  /** Per output channel [Nout]. */
  bias?: ArrayLike<number> | null;
  /** Dense [N, OH, OW, Nout]. */
  residual?: ArrayLike<number> | null;
  act?: 'relu' | { leaky: number } | null;
}

const matmul = (a: Mat, b: Mat): Mat =>
  a.map((row) => b[0]!.map((_, j) => row.reduce((s, v, k) => s + v * b[k]![j]!, 0)));
const transpose = (a: Mat): Mat => a[0]!.map((_, j) => a.map((row) => row[j]!));
/** L · X · R. */
const sandwich = (l: Mat, x: Mat, r: Mat): Mat => matmul(matmul(l, x), r);
const grid = (rows: number, cols: number, f: (i: number, j: number) => number): Mat =>
  Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => f(i, j)));

export const winogradAlpha = (t: WinogradTile): number => t.m + 2;

export function winogradRefSizes(p: WinogradProblem): { OH: number; OW: number; TH: number; TW: number; P: number; A: number } {
  const OH = p.H + 2 * p.ph - 2;
  const OW = p.W + 2 * p.pw - 2;
  const TH = Math.ceil(OH / p.tile.m);
  const TW = Math.ceil(OW / p.tile.m);
  return { OH, OW, TH, TW, P: p.N * TH * TW, A: winogradAlpha(p.tile) };
}

/** U [α², Nout, K] from OHWI w ([Nout, 3, 3, K]); flip: U [α², K, Nout] from w [K, 3, 3, Nout] read rotated. */
export function winogradWeightsRef(p: WinogradProblem, w: ArrayLike<number>, flip: boolean): Float64Array {
  const { K, Nout, tile } = p;
  const A = winogradAlpha(tile);
  const GT = transpose(tile.G);
  const U = new Float64Array(A * A * K * Nout);
  for (let k = 0; k < K; k++) {
    for (let n = 0; n < Nout; n++) {
      const g = grid(3, 3, (i, j) => (flip ? w[(k * 9 + (2 - i) * 3 + (2 - j)) * Nout + n]! : w[(n * 9 + i * 3 + j) * K + k]!));
      const u = sandwich(tile.G, g, GT);
      for (let a = 0; a < A; a++) {
        for (let b = 0; b < A; b++) U[flip ? ((a * A + b) * K + k) * Nout + n : ((a * A + b) * Nout + n) * K + k] = u[a]![b]!;
      }
    }
  }
  return U;
}

/** V [α², P, K] from NHWC x [N, H, W, K]. */
export function winogradInputRef(p: WinogradProblem, x: ArrayLike<number>): Float64Array {
  const { N, H, W, K, ph, pw, tile } = p;
  const { TH, TW, P, A } = winogradRefSizes(p);
  const B = transpose(tile.BT);
  const V = new Float64Array(A * A * P * K);
  for (let n = 0; n < N; n++) {
    for (let ty = 0; ty < TH; ty++) {
      for (let tx = 0; tx < TW; tx++) {
        const t = (n * TH + ty) * TW + tx;
        for (let k = 0; k < K; k++) {
          const d = grid(A, A, (a, b) => {
            const ih = tile.m * ty - ph + a;
            const iw = tile.m * tx - pw + b;
            return ih >= 0 && ih < H && iw >= 0 && iw < W ? x[((n * H + ih) * W + iw) * K + k]! : 0;
          });
          const v = sandwich(tile.BT, d, B);
          for (let a = 0; a < A; a++) for (let b = 0; b < A; b++) V[((a * A + b) * P + t) * K + k] = v[a]![b]!;
        }
      }
    }
  }
  return V;
}

/**
 * C[ξ] = op(X[ξ]) · op(Y[ξ]) for ξ < batch: X [batch, rows, inner] (or [batch, inner, rows]
 * transposed), Y [batch, inner, cols] (or [batch, cols, inner] transposed).
 */
function batchedMatmul(X: ArrayLike<number>, Y: ArrayLike<number>, batch: number, rows: number, inner: number, cols: number, transposeX: boolean, transposeY: boolean): Float64Array {
  const C = new Float64Array(batch * rows * cols);
  for (let z = 0; z < batch; z++) {
    const xb = z * rows * inner;
    const yb = z * inner * cols;
    const cb = z * rows * cols;
    for (let i = 0; i < rows; i++) {
      for (let q = 0; q < inner; q++) {
        const a = transposeX ? X[xb + q * rows + i]! : X[xb + i * inner + q]!;
        if (a === 0) continue;
        for (let j = 0; j < cols; j++) C[cb + i * cols + j] += a * Y[transposeY ? yb + j * inner + q : yb + q * cols + j]!;
      }
    }
  }
  return C;
}

/** M [α², P, Nout] = V[ξ] · U[ξ], U [α², K, Nout] ('kn') or [α², Nout, K] ('nk'). */
export function winogradProductsRef(p: WinogradProblem, V: ArrayLike<number>, U: ArrayLike<number>, uLayout: WinogradULayout): Float64Array {
  const { P, A } = winogradRefSizes(p);
  return batchedMatmul(V, U, A * A, P, p.K, p.Nout, false, uLayout === 'nk');
}

/** y [N, OH, OW, Nout] = act((Aᵀ M A) · scale + bias + residual), from M [α², P, Nout]. */
export function winogradOutputRef(p: WinogradProblem, M: ArrayLike<number>, e: WinogradEpilogueRef = {}): Float64Array {
  const { N, Nout, tile } = p;
  const { OH, OW, TH, TW, P, A } = winogradRefSizes(p);
  const AT = tile.AT;
  const Am = transpose(AT);
  const y = new Float64Array(N * OH * OW * Nout);
  for (let n = 0; n < N; n++) {
    for (let ty = 0; ty < TH; ty++) {
      for (let tx = 0; tx < TW; tx++) {
        const t = (n * TH + ty) * TW + tx;
        for (let o = 0; o < Nout; o++) {
          const mt = grid(A, A, (a, b) => M[((a * A + b) * P + t) * Nout + o]!);
          const r = sandwich(AT, mt, Am);
          for (let a = 0; a < tile.m; a++) {
            for (let b = 0; b < tile.m; b++) {
              const oy = tile.m * ty + a;
              const ox = tile.m * tx + b;
              if (oy >= OH || ox >= OW) continue;
              const i = ((n * OH + oy) * OW + ox) * Nout + o;
              let z = r[a]![b]!;
              if (e.scale) z *= e.scale[o]!;
              if (e.bias) z += e.bias[o]!;
              if (e.residual) z += e.residual[i]!;
              if (e.act === 'relu') z = Math.max(z, 0);
              else if (e.act && z < 0) z *= e.act.leaky;
              y[i] = z;
            }
          }
        }
      }
    }
  }
  return y;
}

/** dM [α², P, Nout] from dy (dense NHWC [N, OH, OW, Nout]). */
export function winogradGradOutputRef(p: WinogradProblem, dy: ArrayLike<number>): Float64Array {
  const { N, Nout, tile } = p;
  const { OH, OW, TH, TW, P, A } = winogradRefSizes(p);
  const Am = transpose(tile.AT);
  const dM = new Float64Array(A * A * P * Nout);
  for (let n = 0; n < N; n++) {
    for (let ty = 0; ty < TH; ty++) {
      for (let tx = 0; tx < TW; tx++) {
        const t = (n * TH + ty) * TW + tx;
        for (let o = 0; o < Nout; o++) {
          const d = grid(tile.m, tile.m, (a, b) => {
            const oy = tile.m * ty + a;
            const ox = tile.m * tx + b;
            return oy < OH && ox < OW ? dy[((n * OH + oy) * OW + ox) * Nout + o]! : 0;
          });
          const g = sandwich(Am, d, tile.AT);
          for (let a = 0; a < A; a++) for (let b = 0; b < A; b++) dM[((a * A + b) * P + t) * Nout + o] = g[a]![b]!;
        }
      }
    }
  }
  return dM;
}

/** dU [α², Nout, K] = dM[ξ]ᵀ · V[ξ]. */
export function winogradGradProductsRef(p: WinogradProblem, V: ArrayLike<number>, dM: ArrayLike<number>): Float64Array {
  const { P, A } = winogradRefSizes(p);
  return batchedMatmul(dM, V, A * A, p.Nout, P, p.K, true, false);
}

/** dw (OHWI [Nout, 3, 3, K]) from dU [α², Nout, K]. */
export function winogradGradWeightsRef(p: WinogradProblem, dU: ArrayLike<number>): Float64Array {
  const { K, Nout, tile } = p;
  const A = winogradAlpha(tile);
  const GT = transpose(tile.G);
  const dw = new Float64Array(Nout * 9 * K);
  for (let k = 0; k < K; k++) {
    for (let n = 0; n < Nout; n++) {
      const q = grid(A, A, (a, b) => dU[((a * A + b) * Nout + n) * K + k]!);
      const h = sandwich(GT, q, tile.G);
      for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) dw[(n * 9 + i * 3 + j) * K + k] = h[i]![j]!;
    }
  }
  return dw;
}

/** The whole forward convolution through the twins (flip: w is the layer's weight, the result its input gradient's conv). */
export function winogradConvRef(p: WinogradProblem, x: ArrayLike<number>, w: ArrayLike<number>, flip = false, e: WinogradEpilogueRef = {}): Float64Array {
  return winogradOutputRef(p, winogradProductsRef(p, winogradInputRef(p, x), winogradWeightsRef(p, w, flip), flip ? 'kn' : 'nk'), e);
}

/** The filter gradient of the forward problem p through the twins. */
export function winogradFilterGradRef(p: WinogradProblem, x: ArrayLike<number>, dy: ArrayLike<number>): Float64Array {
  return winogradGradWeightsRef(p, winogradGradProductsRef(p, winogradInputRef(p, x), winogradGradOutputRef(p, dy)));
}
