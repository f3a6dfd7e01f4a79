/**
 * Winograd F(2×2, 3×3) and F(4×4, 3×3) (kernels/winograd.ts), three ways:
 *  1. each kernel against its float64 CPU twin (ops/conv/winograd-twin.ts) on awkward shapes
 *     (batch 1 and 3, odd sizes, padding 0, 1, 2 and mixed, channels 4, 8, 12, 20,
 *     operands at nonzero offsets with filler around them, outputs pre-filled with NaN so
 *     that an element left unwritten or a store outside its range shows);
 *  2. the twins composed against the direct convolution (ops/conv/twin.ts) in float64,
 *     which proves the twins and the tiles' matrices themselves;
 *  3. conv2d with the algorithm forced (setConvAlgorithm), forward and both gradients,
 *     against the direct twin, plus a finite-difference gradient check.
 * A planted-error block shows the twin comparisons catch a wrong transform.
 *
 * Tolerances (|a − e| ≤ atol + rtol·|e|):
 *  - a single transform in f32 sums ≤ α² terms with coefficients of at most ~5 (F4x4's
 *    Bᵀ), so its error is a few ulps of the largest intermediate: rtol 1e-6 and atol
 *    1e-6·max|e| (measured ≲ 2e-7·max|e|);
 *  - the products are f32 GEMMs: 1e-5·√K as in gemm.test.ts;
 *  - the whole convolution: fp32 accumulation over K = 9·C terms gives errors ~√K, and the
 *    F(4×4) transforms amplify rounding (entries up to 8 in Aᵀ, 1/24 in G; relative error
 *    ~1e-5 at K ≈ 1000). ops/conv/conv.test.ts allows rtol 1e-4, atol 1e-4·√K (forward, input
 *    gradient) and 1e-4·√(N·OH·OW) (filter gradient, reduced over the pixels); the errors
 *    measured here allow 1e-5 for F(2×2) and 3e-5 for F(4×4) in place of 1e-4 (CONV_TOL).
 *    An indexing or transform bug gives O(1) errors.
 */
import { afterAll, describe, expect, it } from 'vitest';
import {
  initDevice,
  tensor,
  Tensor,
  tidy,
  noGrad,
  slice,
  conv2d,
  conv2dFused,
  setConvAlgorithm,
  type ConvAlgorithm,
} from '../index.js';
import {
  F2x2,
  F4x4,
  alphaOf,
  runWinogradGradOutput,
  runWinogradGradProducts,
  runWinogradGradWeights,
  runWinogradInput,
  runWinogradOutput,
  runWinogradProducts,
  runWinogradWeights,
  winogradTiles,
  type WinogradEpilogue,
  type WinogradProblem,
  type WinogradTile,
} from './winograd.js';
import * as twin from '../ops/conv/winograd-twin.js';
import type { BufferView } from './define.js';
import { conv2dBackwardRef, conv2dRef, convShapes, type ConvAttrs } from '../ops/conv/twin.js';
import { assertClose, gradCheck, kernelsDispatched, uniform, type OpSet } from '../testing/index.js';

await initDevice();

const TILES: [string, WinogradTile][] = [
  ['F2x2', F2x2],
  ['F4x4', F4x4],
];

// ---------------------------------------------------------------------------------------------
// Helpers

const maxAbs = (a: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
};
/** max|a − e| / max(1e-30, max|e|): the error relative to the result's scale. */
const relErr = (a: ArrayLike<number>, e: ArrayLike<number>): number => {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - e[i]!));
  return d / Math.max(1e-30, maxAbs(e));
};
/** rtol r, atol r·max(1, max|e|). */
const scaled = (r: number, e: ArrayLike<number>) => ({ rtol: r, atol: r * Math.max(1, maxAbs(e)) });
const TRANSFORM_TOL = 1e-6;

/** Measured worst relative errors, printed at the end (the numbers quoted in the header). */
const measured = new Map<string, number>();
const note = (key: string, err: number) => measured.set(key, Math.max(measured.get(key) ?? 0, err));
afterAll(() => {
  const rows = [...measured].map(([k, v]) => `  ${k.padEnd(44)} ${v.toExponential(2)}`);
  console.log(`[winograd.test] worst max|err|/max|ref|:\n${rows.join('\n')}`);
});

/** Filler around an input operand: a kernel that ignores the offset reads these and is far off. */
const FILLER = 777;

/** data at element `offset` of a GPU buffer with filler before it and 4 elements after. */
function input(data: Float32Array, offset: number): { t: Tensor; op: BufferView } {
  const all = new Float32Array(offset + data.length + 4).fill(FILLER);
  all.set(data, offset);
  const t = tensor(all, [all.length]);
  return { t, op: { buffer: t.buffer, offset } };
}

/** An output of n elements at `offset`, everything NaN, 4 spare elements after it. */
function output(n: number, offset = 0): { t: Tensor; op: BufferView } {
  const t = tensor(new Float32Array(offset + n + 4).fill(Number.NaN), [offset + n + 4]);
  return { t, op: { buffer: t.buffer, offset } };
}

/** Reads an output back; fails when anything outside [offset, offset + n) was written. */
async function read(o: { t: Tensor; op: BufferView }, n: number): Promise<Float32Array> {
  const all = (await o.t.toArray()) as Float32Array;
  const { offset } = o.op;
  for (let i = 0; i < all.length; i++) {
    if ((i < offset || i >= offset + n) && !Number.isNaN(all[i]!)) throw new Error(`element ${i} outside the output [${offset}, ${offset + n}) was written (${all[i]})`);
  }
  return all.slice(offset, offset + n);
}

/** A problem without its tile: each case runs under both. */
type KernelCase = Omit<WinogradProblem, 'tile'> & { name: string };

const KERNEL_CASES: KernelCase[] = [
  { name: 'batch 1, 7×10, padding 1, 4→12', N: 1, H: 7, W: 10, K: 4, Nout: 12, ph: 1, pw: 1 },
  { name: 'batch 3, 5×6, padding 0×2, 12→4', N: 3, H: 5, W: 6, K: 12, Nout: 4, ph: 0, pw: 2 },
  { name: 'batch 2, 6×5, padding 2×0, 20→20', N: 2, H: 6, W: 5, K: 20, Nout: 20, ph: 2, pw: 0 },
  { name: 'batch 1, 3×4, padding 0 (one partial tile)', N: 1, H: 3, W: 4, K: 8, Nout: 4, ph: 0, pw: 0 },
];

const problem = (c: KernelCase, tile: WinogradTile): WinogradProblem => ({ N: c.N, H: c.H, W: c.W, K: c.K, Nout: c.Nout, ph: c.ph, pw: c.pw, tile });
const sizes = (p: WinogradProblem) => {
  const s = twin.winogradRefSizes(p);
  const A2 = s.A * s.A;
  return { ...s, A2, x: p.N * p.H * p.W * p.K, w: p.Nout * 9 * p.K, y: p.N * s.OH * s.OW * p.Nout, U: A2 * p.K * p.Nout, V: A2 * s.P * p.K, M: A2 * s.P * p.Nout };
};

const X_OFF = 4;
const W_OFF = 8;
const DY_OFF = 12;
const Y_OFF = 4;

// ---------------------------------------------------------------------------------------------
// 1. Each kernel against its twin

describe('winograd kernels vs their float64 twins', () => {
  it('the twins agree with the kernel module on sizes', () => {
    for (const [, tile] of TILES) {
      for (const c of KERNEL_CASES) {
        const p = problem(c, tile);
        const t = winogradTiles(p);
        const r = twin.winogradRefSizes(p);
        expect([r.TH, r.TW, r.P, r.A]).toEqual([t.TH, t.TW, t.P, alphaOf(tile)]);
      }
    }
  });

  for (const [tname, tile] of TILES) {
    it(`${tname} weights, forward and flipped`, async () => {
      for (const c of KERNEL_CASES) {
        const p = problem(c, tile);
        const s = sizes(p);
        for (const flip of [false, true]) {
          const wd = uniform(s.w, 100 + c.K + c.Nout + (flip ? 1 : 0));
          const w = input(wd, W_OFF);
          const U = output(s.U);
          runWinogradWeights(p, w.op, U.op.buffer, flip);
          const want = twin.winogradWeightsRef(p, wd, flip);
          const got = await read(U, s.U);
          note(`${tname} weights`, relErr(got, want));
          const shape = flip ? [s.A2, c.K, c.Nout] : [s.A2, c.Nout, c.K];
          assertClose(got, want, scaled(TRANSFORM_TOL, want), shape, `${tname} weights${flip ? ' (flip)' : ''}, ${c.name}`);
          for (const b of [w.t, U.t]) b.dispose();
        }
      }
    });

    it(`${tname} input`, async () => {
      for (const c of KERNEL_CASES) {
        const p = problem(c, tile);
        const s = sizes(p);
        const xd = uniform(s.x, 200 + c.N * c.H);
        const x = input(xd, X_OFF);
        const V = output(s.V);
        runWinogradInput(p, x.op, V.op.buffer);
        const want = twin.winogradInputRef(p, xd);
        const got = await read(V, s.V);
        note(`${tname} input`, relErr(got, want));
        assertClose(got, want, scaled(TRANSFORM_TOL, want), [s.A2, s.P, c.K], `${tname} input, ${c.name}`);
        for (const b of [x.t, V.t]) b.dispose();
      }
    });

    it(`${tname} products (U in both layouts) and gradient products (batched GEMMs, automatic variant)`, async () => {
      for (const c of KERNEL_CASES) {
        const p = problem(c, tile);
        const s = sizes(p);
        const Vd = uniform(s.V, 300);
        const Ud = uniform(s.U, 301);
        const dMd = uniform(s.M, 302);
        const [V, U, dMt] = [input(Vd, 0), input(Ud, 0), input(dMd, 0)];
        for (const layout of ['kn', 'nk'] as const) {
          const M = output(s.M);
          runWinogradProducts(p, V.op.buffer, U.op.buffer, M.op.buffer, layout);
          const wantM = twin.winogradProductsRef(p, Vd, Ud, layout);
          const gotM = await read(M, s.M);
          note(`${tname} products`, relErr(gotM, wantM));
          assertClose(gotM, wantM, scaled(1e-5 * Math.sqrt(c.K), wantM), [s.A2, s.P, c.Nout], `${tname} products (U ${layout}), ${c.name}`);
          M.t.dispose();
        }
        const dU = output(s.U);
        runWinogradGradProducts(p, V.op.buffer, dMt.op.buffer, dU.op.buffer);
        const wantDU = twin.winogradGradProductsRef(p, Vd, dMd);
        const gotDU = await read(dU, s.U);
        note(`${tname} grad products`, relErr(gotDU, wantDU));
        assertClose(gotDU, wantDU, scaled(1e-5 * Math.sqrt(s.P), wantDU), [s.A2, c.Nout, c.K], `${tname} grad products, ${c.name}`);
        for (const b of [V.t, U.t, dMt.t, dU.t]) b.dispose();
      }
    });

    it(`${tname} output, plain`, async () => {
      for (const c of KERNEL_CASES) {
        const p = problem(c, tile);
        const s = sizes(p);
        const Md = uniform(s.M, 400 + c.Nout);
        const M = input(Md, 0);
        const y = output(s.y, Y_OFF);
        runWinogradOutput(p, M.op.buffer, y.op, {});
        const want = twin.winogradOutputRef(p, Md);
        const got = await read(y, s.y);
        note(`${tname} output`, relErr(got, want));
        assertClose(got, want, scaled(TRANSFORM_TOL, want), [c.N, s.OH, s.OW, c.Nout], `${tname} output, ${c.name}`);
        for (const b of [M.t, y.t]) b.dispose();
      }
    });

    it(`${tname} output with each epilogue term`, async () => {
      // Batch 3, odd sizes, Nout = 4: one vec4 per pixel.
      for (const c of [KERNEL_CASES[1]!, KERNEL_CASES[0]!]) {
        const p = problem(c, tile);
        const s = sizes(p);
        const Md = uniform(s.M, 500);
        const sc = uniform([c.Nout], 501, { lo: 0.5, hi: 2 });
        const bs = uniform([c.Nout], 502);
        const rs = uniform(s.y, 503);
        const M = input(Md, 0);
        const plain = twin.winogradOutputRef(p, Md);
        expect(plain.some((v) => v < 0) && plain.some((v) => v > 0), 'the activation sees both signs').toBe(true);
        const [scale, bias, res] = [input(sc, 4), input(bs, 8), input(rs, 12)];
        // Every term present in some combination and absent in others (the plain test has none).
        // Each combination is a pipeline of its own, seconds to compile cold on lavapipe for
        // F(4×4), hence three: the last two are also what conv2d with a bias and conv2dFused
        // below generate, so those reuse them.
        const combos: { name: string; e: WinogradEpilogue; r: twin.WinogradEpilogueRef }[] = [
          { name: 'scale + residual + relu', e: { scale: scale.op, residual: res.op, act: 'relu' }, r: { scale: sc, residual: rs, act: 'relu' } },
          { name: 'bias', e: { bias: bias.op }, r: { bias: bs } },
          {
            name: 'scale + bias + residual + leaky 0.1',
            e: { scale: scale.op, bias: bias.op, residual: res.op, act: { leaky: 0.1 } },
            r: { scale: sc, bias: bs, residual: rs, act: { leaky: 0.1 } },
          },
        ];
        for (const { name, e, r } of combos) {
          const y = output(s.y, Y_OFF);
          runWinogradOutput(p, M.op.buffer, y.op, e);
          const want = twin.winogradOutputRef(p, Md, r);
          const got = await read(y, s.y);
          note(`${tname} output + epilogue`, relErr(got, want));
          assertClose(got, want, scaled(TRANSFORM_TOL, want), [c.N, s.OH, s.OW, c.Nout], `${tname} output (${name}), ${c.name}`);
          y.t.dispose();
        }
        for (const b of [M.t, scale.t, bias.t, res.t]) b.dispose();
      }
    });

    it(`${tname} gradient of the output transform`, async () => {
      for (const c of KERNEL_CASES) {
        const p = problem(c, tile);
        const s = sizes(p);
        const dyd = uniform(s.y, 600 + c.Nout);
        const dy = input(dyd, DY_OFF);
        const dM = output(s.M);
        runWinogradGradOutput(p, dy.op, dM.op.buffer);
        const want = twin.winogradGradOutputRef(p, dyd);
        const got = await read(dM, s.M);
        note(`${tname} grad output`, relErr(got, want));
        assertClose(got, want, scaled(TRANSFORM_TOL, want), [s.A2, s.P, c.Nout], `${tname} grad output, ${c.name}`);
        for (const b of [dy.t, dM.t]) b.dispose();
      }
    });

    it(`${tname} gradient of the weight transform`, async () => {
      for (const c of KERNEL_CASES) {
        const p = problem(c, tile);
        const s = sizes(p);
        const dUd = uniform(s.U, 700 + c.K);
        const dU = input(dUd, 0);
        const dw = output(s.w);
        runWinogradGradWeights(p, dU.op.buffer, dw.op.buffer);
        const want = twin.winogradGradWeightsRef(p, dUd);
        const got = await read(dw, s.w);
        note(`${tname} grad weights`, relErr(got, want));
        assertClose(got, want, scaled(TRANSFORM_TOL, want), [c.Nout, 3, 3, c.K], `${tname} grad weights, ${c.name}`);
        for (const b of [dU.t, dw.t]) b.dispose();
      }
    });
  }
});

// ---------------------------------------------------------------------------------------------
// 2. The twins composed are the convolution (float64, no GPU)

interface ConvCase {
  name: string;
  x: [number, number, number, number];
  w: [number, number, number, number];
  padding: number;
}

const ALGEBRA_CASES: ConvCase[] = [
  { name: 'batch 1, 7×10, padding 1, 4→12', x: [1, 7, 10, 4], w: [12, 3, 3, 4], padding: 1 },
  { name: 'batch 3, 5×6, padding 2, 8→4', x: [3, 5, 6, 8], w: [4, 3, 3, 8], padding: 2 },
  { name: 'batch 2, 9×7, padding 0, 4→8', x: [2, 9, 7, 4], w: [8, 3, 3, 4], padding: 0 },
  { name: 'batch 1, 3×3, padding 0 (one output)', x: [1, 3, 3, 4], w: [4, 3, 3, 4], padding: 0 },
];

const attrs = (padding: number): ConvAttrs => ({ stride: [1, 1], padding: [padding, padding], dilation: [1, 1], groups: 1 });
/** The forward Winograd problem of a convolution, and the one of its input gradient (flipped kernel, padding 2 − p). */
const forwardProblem = (c: ConvCase, tile: WinogradTile): WinogradProblem => ({ N: c.x[0], H: c.x[1], W: c.x[2], K: c.x[3], Nout: c.w[0], ph: c.padding, pw: c.padding, tile });
function inputGradProblem(c: ConvCase, tile: WinogradTile): WinogradProblem {
  const s = convShapes(c.x, c.w, attrs(c.padding));
  return { N: s.N, H: s.OH, W: s.OW, K: s.O, Nout: s.C, ph: 2 - c.padding, pw: 2 - c.padding, tile };
}
const ALGEBRA_TOL = 1e-9;

/** Forward, input gradient and filter gradient through the twins vs the direct convolution; throws on a mismatch. */
function checkAlgebra(c: ConvCase, tile: WinogradTile, what: string): void {
  const a = attrs(c.padding);
  const s = convShapes(c.x, c.w, a);
  const xd = uniform(c.x, 31);
  const wd = uniform(c.w, 32);
  const dyd = uniform([s.N, s.OH, s.OW, s.O], 33);
  const y = twin.winogradConvRef(forwardProblem(c, tile), xd, wd);
  const direct = conv2dRef(xd, c.x, wd, c.w, null, a);
  assertClose(y, direct, scaled(ALGEBRA_TOL, direct), [s.N, s.OH, s.OW, s.O], `${what} forward, ${c.name}`);
  const back = conv2dBackwardRef(xd, c.x, wd, c.w, dyd, a);
  const dx = twin.winogradConvRef(inputGradProblem(c, tile), dyd, wd, true);
  assertClose(dx, back.dx, scaled(ALGEBRA_TOL, back.dx), c.x, `${what} input gradient, ${c.name}`);
  const dw = twin.winogradFilterGradRef(forwardProblem(c, tile), xd, dyd);
  assertClose(dw, back.dw, scaled(ALGEBRA_TOL, back.dw), c.w, `${what} filter gradient, ${c.name}`);
}

describe('the twins composed are the direct convolution (float64)', () => {
  for (const [tname, tile] of TILES) {
    it(`${tname}: input → products → output = conv2dRef; flipped = its input gradient; grad-output → products → grad-weights = its filter gradient`, () => {
      for (const c of ALGEBRA_CASES) checkAlgebra(c, tile, tname);
    });
  }
});

// ---------------------------------------------------------------------------------------------
// 3. Planted errors: the comparisons above catch a wrong transform

/** A copy of the tile with f applied to its matrices. */
const alter = (t: WinogradTile, f: (m: { BT: number[][]; G: number[][]; AT: number[][] }) => void): WinogradTile => {
  const copy = { m: t.m, BT: t.BT.map((r) => [...r]), G: t.G.map((r) => [...r]), AT: t.AT.map((r) => [...r]) };
  f(copy);
  return copy;
};

describe('planted errors are caught', () => {
  const c = KERNEL_CASES[2]!; // K = Nout = 20: flipped and plain weights have the same size
  const p = problem(c, F4x4);
  const s = sizes(p);
  const wd = uniform(s.w, 800);

  it('a kernel-transform literal rounded to 4 digits (1/6 → 0.1667 in F4x4 G), a swapped flip, and the other tile', async () => {
    const w = input(wd, W_OFF);
    const U = output(s.U);
    runWinogradWeights(p, w.op, U.op.buffer, false);
    const got = await read(U, s.U);
    const tol = scaled(TRANSFORM_TOL, got);
    // The honest twin agrees…
    assertClose(got, twin.winogradWeightsRef(p, wd, false), tol, [s.A2, c.Nout, c.K], 'honest');
    // …one that rounds 1/6 (relative error 2e-4) does not,
    const rounded = alter(F4x4, (m) => (m.G = m.G.map((r) => r.map((v) => (Math.abs(Math.abs(v) - 1 / 6) < 1e-12 ? Math.sign(v) * 0.1667 : v)))));
    expect(() => assertClose(got, twin.winogradWeightsRef({ ...p, tile: rounded }, wd, false), tol)).toThrow(/elements differ/);
    // nor one that reads the kernel flipped (what a layout mix-up in the generator gives),
    expect(() => assertClose(got, twin.winogradWeightsRef(p, wd, true), tol)).toThrow(/elements differ/);
    // nor F(2×2)'s transform of the same weights: its first 16 products, read as F(4×4)'s.
    const other = twin.winogradWeightsRef({ ...p, tile: F2x2 }, wd, false);
    expect(() => assertClose(got.subarray(0, other.length), other, tol)).toThrow(/elements differ/);
    for (const b of [w.t, U.t]) b.dispose();
  });

  it('an input-transform entry off by one (Bᵀ[1][3] = 2 in F4x4) against the kernel', async () => {
    const xd = uniform(s.x, 801);
    const x = input(xd, X_OFF);
    const V = output(s.V);
    runWinogradInput(p, x.op, V.op.buffer);
    const got = await read(V, s.V);
    const wrong = alter(F4x4, (m) => (m.BT[1]![3] = 2));
    expect(() => assertClose(got, twin.winogradInputRef({ ...p, tile: wrong }, xd), scaled(TRANSFORM_TOL, got))).toThrow(/elements differ/);
    for (const b of [x.t, V.t]) b.dispose();
  });

  it('the algebra check rejects wrong matrices: a perturbed G, Aᵀ or Bᵀ entry, or F(2×2) with its Aᵀ rows swapped', () => {
    const c0 = ALGEBRA_CASES[0]!;
    const wrongs: [string, WinogradTile][] = [
      ['G[3][1] × (1 + 1e-6)', alter(F4x4, (m) => (m.G[3]![1]! *= 1 + 1e-6))],
      ['Aᵀ[3][5] = 2', alter(F4x4, (m) => (m.AT[3]![5] = 2))],
      ['Bᵀ[0][2] = −4', alter(F4x4, (m) => (m.BT[0]![2] = -4))],
      ['F2x2 Aᵀ rows swapped', alter(F2x2, (m) => (m.AT = [m.AT[1]!, m.AT[0]!]))],
    ];
    for (const [name, t] of wrongs) expect(() => checkAlgebra(c0, t, name), name).toThrow(/elements differ/);
  });
});

// ---------------------------------------------------------------------------------------------
// 4. conv2d with the algorithm forced

interface OpCase extends ConvCase {
  bias?: boolean;
  /** x and w as views at nonzero offsets into larger tensors. */
  views?: boolean;
}

const OP_CASES: OpCase[] = [
  { name: 'batch 1, 7×10, padding 1, 4→12, bias', x: [1, 7, 10, 4], w: [12, 3, 3, 4], padding: 1, bias: true },
  { name: 'batch 3, 5×6, padding 2, 12→4', x: [3, 5, 6, 12], w: [4, 3, 3, 12], padding: 2 },
  { name: 'batch 2, 9×7, padding 0, 20→8, views at offsets', x: [2, 9, 7, 20], w: [8, 3, 3, 20], padding: 0, views: true },
];

/**
 * rtol r and atol r·√K (forward, input gradient; K = 9·channels reduced) or r·√(N·OH·OW)
 * (filter and bias gradients). ops/conv/conv.test.ts uses r = 1e-4 for the implicit GEMM;
 * measured here (uniform [−1, 1) data) the worst max|err| is ≈ 3e-7·√K for F(2×2) and
 * ≈ 2.7e-6·√K for F(4×4) (its transforms' larger entries amplify rounding), on lavapipe and
 * SwiftShader alike (within 30%), so r leaves a margin of ~30× and ~10×.
 */
type WinogradAlgorithm = Exclude<ConvAlgorithm, 'gemm'>;
const CONV_TOL: Record<WinogradAlgorithm, number> = { 'winograd-2x2': 1e-5, 'winograd-4x4': 3e-5 };

const ALGOS: [WinogradAlgorithm, string][] = [
  ['winograd-2x2', 'F2x2'],
  ['winograd-4x4', 'F4x4'],
];

/** The names of the kernels fn dispatched, where the adapter can profile; null elsewhere. */
const kernelsRun = (fn: () => void) => kernelsDispatched(fn);

describe('conv2d with a Winograd tile forced', () => {
  for (const [algo, tname] of ALGOS) {
    for (const c of OP_CASES) {
      it(`${algo}: ${c.name}: forward, input and filter gradients`, async () => {
        setConvAlgorithm(algo);
        try {
          const a = attrs(c.padding);
          const s = convShapes(c.x, c.w, a);
          const xs = uniform(c.x, 41);
          const ws = uniform(c.w, 42);
          const bs = c.bias ? uniform([c.w[0]], 43) : null;
          const dys = uniform([s.N, s.OH, s.OW, s.O], 44);
          // With views: x is images 1..N of an N+1-image batch, w filters 2..O+2 of O+3.
          const xParent = c.views ? tensor(new Float32Array([...uniform([1, ...c.x.slice(1)], 45), ...xs]), [c.x[0] + 1, ...c.x.slice(1)]).requireGrad() : tensor(xs, c.x).requireGrad();
          const wParent = c.views
            ? tensor(new Float32Array([...uniform([2, ...c.w.slice(1)], 46), ...ws, ...uniform([1, ...c.w.slice(1)], 47)]), [c.w[0] + 3, ...c.w.slice(1)]).requireGrad()
            : tensor(ws, c.w).requireGrad();
          const b = bs ? tensor(bs, [c.w[0]]).requireGrad() : null;
          const dy = tensor(dys, [s.N, s.OH, s.OW, s.O]);
          let y!: Tensor;
          const names = await kernelsRun(() => {
            y = tidy(() => {
              const x = c.views ? slice(xParent, 0, 1) : xParent;
              const w = c.views ? slice(wParent, 0, 2, 2 + c.w[0]) : wParent;
              if (c.views) expect([x.offset, w.offset]).toEqual([c.x[1] * c.x[2] * c.x[3], 2 * 9 * c.w[3]]);
              const out = conv2d(x, w, b, { padding: c.padding });
              out.mul(dy).sum().backward();
              return out;
            });
          });
          // Winograd ran (forward, input gradient, filter gradient), not the implicit GEMM.
          if (names) {
            for (const k of ['winograd_weights', 'winograd_weights_flip', 'winograd_input', 'winograd_output', 'winograd_grad_output', 'winograd_grad_weights']) {
              expect(names, k).toContain(k);
            }
            expect(names.filter((n) => n.includes('conv2d')), 'no implicit-GEMM convolution').toEqual([]);
            // x's transform once, for the forward, whose V the filter gradient reuses; dy's for the input gradient.
            expect(names.filter((n) => n === 'winograd_input').length, "the filter gradient reuses the forward's input transform").toBe(2);
          }
          const ref = conv2dBackwardRef(xs, c.x, ws, c.w, dys, a);
          const want = conv2dRef(xs, c.x, ws, c.w, bs, a);
          const got = (await y.toArray()) as Float32Array;
          const xg = (await xParent.grad!.toArray()) as Float32Array;
          const wg = (await wParent.grad!.toArray()) as Float32Array;
          const dx = c.views ? xg.subarray(xg.length - xs.length) : xg;
          const dw = c.views ? wg.subarray(2 * 9 * c.w[3], 2 * 9 * c.w[3] + ws.length) : wg;
          if (c.views) {
            // The images and filters outside the views get zero gradient.
            expect(maxAbs(xg.subarray(0, xg.length - xs.length))).toBe(0);
            expect(maxAbs(wg.subarray(0, 2 * 9 * c.w[3])) + maxAbs(wg.subarray(2 * 9 * c.w[3] + ws.length))).toBe(0);
          }
          note(`${tname} conv2d forward`, relErr(got, want));
          note(`${tname} conv2d input gradient`, relErr(dx, ref.dx));
          note(`${tname} conv2d filter gradient`, relErr(dw, ref.dw));
          const Kf = 9 * s.C;
          const Kd = 9 * s.O;
          const P = s.N * s.OH * s.OW;
          const r = CONV_TOL[algo];
          assertClose(got, want, { rtol: r, atol: r * Math.sqrt(Kf) }, [s.N, s.OH, s.OW, s.O], `${algo} forward`);
          assertClose(dx, ref.dx, { rtol: r, atol: r * Math.sqrt(Kd) }, c.x, `${algo} input gradient`);
          assertClose(dw, ref.dw, { rtol: r, atol: r * Math.sqrt(P) }, c.w, `${algo} filter gradient`);
          if (b) assertClose((await b.grad!.toArray()) as Float32Array, ref.db, { rtol: r, atol: r * Math.sqrt(P) }, [s.O], `${algo} bias gradient`);
          for (const t of [xParent, wParent, b, dy, y, xParent.grad, wParent.grad, b?.grad]) t?.dispose();
        } finally {
          setConvAlgorithm(null);
        }
      });
    }

    it(`${algo}: the tile changed between forward and backward: the filter gradient transforms x again`, async () => {
      const c = OP_CASES[0]!;
      const a = attrs(c.padding);
      const s = convShapes(c.x, c.w, a);
      const [xs, ws, dys] = [uniform(c.x, 51), uniform(c.w, 52), uniform([s.N, s.OH, s.OW, s.O], 53)];
      const x = tensor(xs, c.x).requireGrad();
      const w = tensor(ws, c.w).requireGrad();
      const dy = tensor(dys, [s.N, s.OH, s.OW, s.O]);
      const other: ConvAlgorithm = algo === 'winograd-4x4' ? 'winograd-2x2' : 'winograd-4x4';
      try {
        setConvAlgorithm(algo);
        const y = conv2d(x, w, null, { padding: c.padding });
        const loss = y.mul(dy).sum();
        setConvAlgorithm(other);
        const names = await kernelsRun(() => loss.backward());
        if (names) expect(names.filter((n) => n === 'winograd_input').length, 'x and dy transformed with the new tile').toBe(2);
        const ref = conv2dBackwardRef(xs, c.x, ws, c.w, dys, a);
        const r = Math.max(CONV_TOL[algo], CONV_TOL[other]);
        assertClose((await w.grad!.toArray()) as Float32Array, ref.dw, { rtol: r, atol: r * Math.sqrt(s.N * s.OH * s.OW) }, c.w, `${algo} then ${other}: filter gradient`);
        for (const t of [x, w, dy, y, loss, x.grad, w.grad]) t?.dispose();
      } finally {
        setConvAlgorithm(null);
      }
    });

    it(`${algo}: conv2dFused (scale, bias, residual, leaky 0.1) in the output transform`, async () => {
      setConvAlgorithm(algo);
      try {
        const c = OP_CASES[1]!;
        const a = attrs(c.padding);
        const s = convShapes(c.x, c.w, a);
        const O = c.w[0];
        const xs = uniform(c.x, 51);
        const ws = uniform(c.w, 52);
        const sc = uniform([O], 53, { lo: 0.5, hi: 2 });
        const bs = uniform([O], 54);
        const rs = uniform([s.N, s.OH, s.OW, O], 55);
        const ts = [tensor(xs, c.x), tensor(ws, c.w), tensor(sc, [O]), tensor(bs, [O]), tensor(rs, [s.N, s.OH, s.OW, O])] as const;
        const [x, w, scale, bias, residual] = ts;
        const y = noGrad(() => conv2dFused(x, w, bias, { padding: c.padding, scale, residual, act: { leaky: 0.1 } }));
        const want = conv2dRef(xs, c.x, ws, c.w, null, a).map((v, i) => {
          const z = v * sc[i % O]! + bs[i % O]! + rs[i]!;
          return z < 0 ? 0.1 * z : z;
        });
        const r = CONV_TOL[algo];
        assertClose((await y.toArray()) as Float32Array, want, { rtol: r, atol: r * Math.sqrt(9 * s.C) }, [s.N, s.OH, s.OW, O], `${algo} fused`);
        for (const t of [...ts, y]) t.dispose();
      } finally {
        setConvAlgorithm(null);
      }
    });

    it(`${algo}: gradient check against finite differences of the twin (x [1, 5, 6, 4], w [4, 3, 3, 4], padding 1)`, async () => {
      setConvAlgorithm(algo);
      try {
        const xShape = [1, 5, 6, 4];
        const wShape = [4, 3, 3, 4];
        // The GPU side is conv2d (the forced algorithm); the CPU side its twin in f64 (finite differences of it).
        const expr = <T,>(o: OpSet<T>, x: T, w: T): T => o.conv2d(x, w, null, { padding: 1 });
        await gradCheck(expr, [
          { data: uniform(xShape, 61), shape: xShape },
          { data: uniform(wShape, 62), shape: wShape },
        ]);
      } finally {
        setConvAlgorithm(null);
      }
    });
  }
});
