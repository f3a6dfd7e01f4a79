/**
 * conv2d forward, input gradient, filter gradient and bias gradient against the
 * float64 CPU twin, for every GEMM variant this adapter runs, on ResNet-like and
 * awkward shapes: through the implicit GEMM for every case, and through Winograd
 * F(2×2) and F(4×4) for the 3×3 stride-1 ones. Tolerance: fp32 accumulation over
 * K = KH·KW·C terms of O(1) values gives relative errors ~1e-6·√K (Winograd's
 * transforms add a few times that, measured ≤ 2e-5 relative at K = 1152); 1e-4
 * relative + 1e-4·√K absolute leaves margin without hiding an indexing bug (which
 * produces O(1) errors).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { initDevice, tensor, tidy, conv2d, conv2dFused, noGrad, setGemmVariant, gemmVariantUnsupported, setConvAlgorithm, type ConvAlgorithm, type GemmVariant, memoryStats } from '../../index.js';
import { conv2dBackwardRef, conv2dRef, convShapes, type ConvAttrs } from './twin.js';
import { expectClose, gradCheck, uniform } from '../../testing/index.js';
import { filterGradSplits } from '../../kernels/conv.js';

beforeAll(async () => {
  await initDevice();
});

interface Case {
  name: string;
  x: [number, number, number, number];
  w: [number, number, number, number];
  stride?: number;
  padding?: number;
  dilation?: number;
  groups?: number;
  bias?: boolean;
}

const CASES: Case[] = [
  { name: '3x3/1 ResNet-like', x: [2, 9, 9, 16], w: [16, 3, 3, 16], padding: 1 },
  { name: '3x3/2 odd input', x: [1, 11, 7, 8], w: [12, 3, 3, 8], stride: 2, padding: 1, bias: true },
  { name: '7x7/2 stem, C=3', x: [2, 19, 19, 3], w: [8, 7, 7, 3], stride: 2, padding: 3, bias: true },
  { name: '1x1/2 shortcut', x: [2, 10, 10, 8], w: [16, 1, 1, 8], stride: 2 },
  { name: 'odd channels, batch 1, padding 2', x: [1, 6, 5, 5], w: [7, 3, 3, 5], padding: 2, bias: true },
  { name: 'dilation 2', x: [2, 9, 8, 4], w: [4, 3, 3, 4], padding: 2, dilation: 2 },
  { name: 'groups 2', x: [2, 7, 7, 8], w: [12, 3, 3, 4], padding: 1, groups: 2, bias: true },
  { name: 'groups 3, odd per-group channels', x: [1, 5, 6, 9], w: [6, 3, 3, 3], padding: 1, groups: 3 },
  { name: 'split-K filter gradient', x: [4, 24, 24, 8], w: [8, 3, 3, 8], padding: 1 },
  { name: 'stride 3, 5x5, dilation 2, phases without taps', x: [1, 13, 10, 4], w: [8, 5, 5, 4], stride: 3, padding: 2, dilation: 2, bias: true },
  { name: '3x3/1 no padding, odd sizes, batch 1', x: [1, 7, 10, 4], w: [8, 3, 3, 4], padding: 0, bias: true },
  { name: '3x3/1 padding 2, batch 3', x: [3, 5, 6, 12], w: [4, 3, 3, 12], padding: 2 },
];

/** The cases Winograd takes when forced: 3×3, stride 1, no dilation or groups, channels multiples of 4. */
const winogradCase = (c: Case): boolean =>
  c.w[1] === 3 && c.w[2] === 3 && (c.stride ?? 1) === 1 && (c.dilation ?? 1) === 1 && (c.groups ?? 1) === 1 && c.x[3] % 4 === 0 && c.w[0] % 4 === 0;
const ALGORITHMS: ConvAlgorithm[] = ['gemm', 'winograd-2x2', 'winograd-4x4'];

/** Forces a GEMM variant (null: automatic) and a convolution algorithm for one test, or skips it saying why. */
function force(ctx: { skip: () => void }, v: GemmVariant | null, algo: ConvAlgorithm): void {
  const why = v && gemmVariantUnsupported(v);
  if (why) {
    console.log(`skip ${v}: ${why}`);
    ctx.skip();
  }
  setGemmVariant(v);
  setConvAlgorithm(algo);
}

function unforce(): void {
  setGemmVariant(null);
  setConvAlgorithm(null);
}

const attrsOf = (c: Case): ConvAttrs => ({
  stride: [c.stride ?? 1, c.stride ?? 1],
  padding: [c.padding ?? 0, c.padding ?? 0],
  dilation: [c.dilation ?? 1, c.dilation ?? 1],
  groups: c.groups ?? 1,
});

const variants: GemmVariant[] = ['portable', 'subgroup', 'subgroup-uniform'];

describe('conv2d vs CPU twin', () => {
  const runs = [
    ...variants.flatMap((v) =>
      ALGORITHMS.flatMap((algo) => CASES.filter((c) => algo === 'gemm' || winogradCase(c)).map((c) => ({ v, algo, c }))),
    ),
    // The register-tiled GEMM (a tuner candidate) through the implicit GEMM's three products, forward
    // and both gradients: vec4 and scalar operands, groups (batched products), split-K accumulation.
    ...CASES.filter((c) => /^(3x3\/2 odd input|odd channels|groups 2|split-K)/.test(c.name)).map((c) => ({ v: 'register-tiled' as GemmVariant, algo: 'gemm' as ConvAlgorithm, c })),
  ];
  it('at least four cases are Winograd-eligible (each then runs under both tiles)', () => {
    expect(CASES.filter(winogradCase).length).toBeGreaterThanOrEqual(4);
  });
  for (const { v, algo, c } of runs) {
    it(`${c.name} [${algo}, ${v}]`, async (ctx) => {
      force(ctx, v, algo);
      try {
        const a = attrsOf(c);
        const xs = uniform(c.x, 1);
        const ws = uniform(c.w, 2);
        const bs = c.bias ? uniform([c.w[0]], 3) : null;
        const s = convShapes(c.x, c.w, a);
        const dys = uniform([s.N, s.OH, s.OW, s.O], 4);
        const x = tensor(xs, c.x).requireGrad();
        const w = tensor(ws, c.w).requireGrad();
        const b = bs ? tensor(bs, [c.w[0]]).requireGrad() : null;
        const dy = tensor(dys, [s.N, s.OH, s.OW, s.O]);
        const y = tidy(() => {
          const out = conv2d(x, w, b, { stride: c.stride, padding: c.padding, dilation: c.dilation, groups: c.groups });
          out.mul(dy).sum().backward();
          return out;
        });
        const K = c.w[1] * c.w[2] * c.w[3];
        const tol = { rtol: 1e-4, atol: 1e-4 * Math.sqrt(K) };
        expect(y.shape).toEqual([s.N, s.OH, s.OW, s.O]);
        await expectClose(y, conv2dRef(xs, c.x, ws, c.w, bs, a), tol, 'forward');
        const ref = conv2dBackwardRef(xs, c.x, ws, c.w, dys, a);
        const P = s.N * s.OH * s.OW;
        await expectClose(x.grad!, ref.dx, { rtol: 1e-4, atol: 1e-4 * Math.sqrt(K) }, 'input gradient');
        await expectClose(w.grad!, ref.dw, { rtol: 1e-4, atol: 1e-4 * Math.sqrt(P) }, 'filter gradient');
        if (b) await expectClose(b.grad!, ref.db, { rtol: 1e-4, atol: 1e-4 * Math.sqrt(P) }, 'bias gradient');
        for (const t of [x, w, b, dy, y, x.grad, w.grad, b?.grad]) t?.dispose();
      } finally {
        unforce();
      }
    });
  }

  it('splits the filter-gradient reduction when the pixel count is large', () => {
    const g = { N: 16, H: 56, W: 56, C: 64, O: 64, KH: 3, KW: 3, OH: 56, OW: 56, sh: 1, sw: 1, ph: 1, pw: 1, dh: 1, dw: 1, groups: 1 };
    expect(filterGradSplits(g)).toBeGreaterThan(1);
    expect(filterGradSplits({ ...g, N: 4, H: 24, W: 24, OH: 24, OW: 24, C: 8, O: 8 })).toBeGreaterThan(1);
  });

  it('frees its temporaries', async () => {
    const before = memoryStats().bytesLive;
    const x = tensor(uniform([2, 8, 8, 4], 5), [2, 8, 8, 4]).requireGrad();
    const w = tensor(uniform([4, 3, 3, 4], 6), [4, 3, 3, 4]).requireGrad();
    tidy(() => {
      conv2d(x, w, null, { padding: 1 }).sum().backward();
    });
    for (const t of [x, w, x.grad, w.grad]) t?.dispose();
    expect(memoryStats().bytesLive).toBe(before);
  });
});

/** act(conv·scale + bias + residual) on the CPU twin. */
function fusedRef(conv: Float64Array, O: number, scale: Float32Array, bias: Float32Array, res: Float32Array | null, act: 'relu' | { leaky: number } | null): Float64Array {
  return conv.map((v, i) => {
    const o = i % O;
    const z = v * scale[o]! + bias[o]! + (res ? res[i]! : 0);
    return act === 'relu' ? Math.max(z, 0) : act && z < 0 ? act.leaky * z : z;
  });
}

describe('conv2dFused: scale, bias, residual and activation in the epilogue', () => {
  const fusedCases: { name: string; x: [number, number, number, number]; w: [number, number, number, number]; stride: number; padding: number; residual: boolean; act: 'relu' | { leaky: number } | null }[] = [
    { name: 'O = 8 (vec4 epilogue), ReLU, residual', x: [2, 7, 7, 8], w: [8, 3, 3, 8], stride: 1, padding: 1, residual: true, act: 'relu' },
    { name: 'O = 5 (scalar epilogue), leaky 0.1, stride 2, batch 1', x: [1, 9, 6, 3], w: [5, 3, 3, 3], stride: 2, padding: 1, residual: false, act: { leaky: 0.1 } },
    { name: '1x1, no activation, residual', x: [3, 5, 5, 4], w: [12, 1, 1, 4], stride: 1, padding: 0, residual: true, act: null },
  ];
  // Every case with the variant this adapter picks; the vec4 case under every variant (each
  // combination compiles a GEMM pipeline, seconds apiece on lavapipe).
  // The 3×3/1 case also through both Winograd tiles (their output kernel has its own epilogue).
  const runs = [
    ...fusedCases.map((c) => ({ c, v: null as GemmVariant | null, algo: 'gemm' as ConvAlgorithm })),
    ...variants.map((v) => ({ c: fusedCases[0]!, v, algo: 'gemm' as ConvAlgorithm })),
    ...(['winograd-2x2', 'winograd-4x4'] as const).map((algo) => ({ c: fusedCases[0]!, v: null, algo })),
  ];
  for (const { c, v, algo } of runs) {
    it(`${c.name} [${algo}, ${v ?? 'automatic variant'}]`, async (ctx) => {
      force(ctx, v, algo);
      try {
        const a = attrsOf({ name: c.name, x: c.x, w: c.w, stride: c.stride, padding: c.padding });
        const s = convShapes(c.x, c.w, a);
        const O = c.w[0];
        const xs = uniform(c.x, 11);
        const ws = uniform(c.w, 12);
        const sc = uniform([O], 13, { lo: 0.5, hi: 2 });
        const bs = uniform([O], 14);
        const rs = c.residual ? uniform([s.N, s.OH, s.OW, O], 15) : null;
        const [x, w, scale, bias] = [tensor(xs, c.x), tensor(ws, c.w), tensor(sc, [O]), tensor(bs, [O])];
        const residual = rs ? tensor(rs, [s.N, s.OH, s.OW, O]) : null;
        const y = noGrad(() => conv2dFused(x, w, bias, { stride: c.stride, padding: c.padding, scale, residual, act: c.act }));
        const K = c.w[1] * c.w[2] * c.w[3];
        const want = fusedRef(conv2dRef(xs, c.x, ws, c.w, null, a), O, sc, bs, rs, c.act);
        await expectClose(y, want, { rtol: 1e-4, atol: 2e-4 * Math.sqrt(K) }, 'fused forward');
        for (const t of [x, w, scale, bias, residual, y]) t?.dispose();
      } finally {
        unforce();
      }
    });
  }

  // A NaN reaching the fused ReLU stays NaN, as PyTorch's relu (WGSL's max(z, 0) may drop it).
  for (const algo of ['gemm', 'winograd-2x2'] as const) {
    it(`ReLU keeps a NaN from the residual [${algo}]`, async (ctx) => {
      force(ctx, null, algo);
      try {
        const [xShape, wShape]: [[number, number, number, number], [number, number, number, number]] = [[1, 6, 6, 4], [8, 3, 3, 4]];
        const a = attrsOf({ name: 'nan', x: xShape, w: wShape, stride: 1, padding: 1 });
        const xs = uniform(xShape, 31);
        const ws = uniform(wShape, 32);
        const ones = new Float32Array(8).fill(1);
        const rs = uniform([1, 6, 6, 8], 33);
        for (const k of [0, 9, 100, 287]) rs[k] = NaN;
        const y = noGrad(() => conv2dFused(tensor(xs, xShape), tensor(ws, wShape), tensor(ones, [8]), { padding: 1, scale: tensor(ones, [8]), residual: tensor(rs, [1, 6, 6, 8]), act: 'relu' }));
        const want = fusedRef(conv2dRef(xs, xShape, ws, wShape, null, a), 8, ones, ones, rs, 'relu');
        await expectClose(y, want, { rtol: 1e-4, atol: 2e-4 * Math.sqrt(36) }, 'fused forward with NaNs');
        expect([0, 9, 100, 287].every((k) => Number.isNaN(want[k]!))).toBe(true);
      } finally {
        unforce();
      }
    });
  }

  it('with gradients it composes differentiable ops: the same values, and gradients for every input', async () => {
    const xs = uniform([2, 6, 6, 4], 21);
    const ws = uniform([8, 3, 3, 4], 22);
    const sc = uniform([8], 23, { lo: 0.5, hi: 2 });
    const bs = uniform([8], 24);
    const rs = uniform([2, 6, 6, 8], 25);
    const x = tensor(xs, [2, 6, 6, 4]).requireGrad();
    const w = tensor(ws, [8, 3, 3, 4]).requireGrad();
    const scale = tensor(sc, [8]).requireGrad();
    const bias = tensor(bs, [8]).requireGrad();
    const residual = tensor(rs, [2, 6, 6, 8]).requireGrad();
    const opts = { padding: 1, scale, residual, act: 'relu' as const };
    const fused = noGrad(() => conv2dFused(x, w, bias, opts));
    const y = conv2dFused(x, w, bias, opts);
    await expectClose(y, await fused.toArray(), { rtol: 1e-5, atol: 1e-5 }, 'composed = fused');
    y.sum().backward();
    for (const t of [x, w, scale, bias, residual]) expect(t.grad, 'every input gets a gradient').not.toBeNull();
    // d/d residual of sum(relu(z)) is the ReLU mask.
    const mask = (await y.toArray()).map((v) => (v > 0 ? 1 : 0));
    await expectClose(residual.grad!, Float64Array.from(mask), { rtol: 0, atol: 0 }, 'residual gradient');
  });
});

describe('conv2d in the OpSet: gradCheck over expressions with convolutions', () => {
  it('relu(conv2d(x, w, b)) · stride 2, padding 1, groups 2, and a transposed input', async () => {
    await gradCheck((o, x, w, b) => o.relu(o.conv2d(x, w, b, { stride: 2, padding: 1, groups: 2 })), [
      { data: uniform([2, 5, 6, 4], 71), shape: [2, 5, 6, 4] },
      { data: uniform([6, 3, 3, 2], 72), shape: [6, 3, 3, 2] },
      { data: uniform([6], 73), shape: [6] },
    ]);
    // A strided view as the input: the twin reads it through denseData, the GPU through contiguous().
    await gradCheck((o, x, w) => o.conv2d(o.transpose(x, 1, 2), w, null, { dilation: 2 }), [
      { data: uniform([1, 6, 5, 3], 74), shape: [1, 6, 5, 3] },
      { data: uniform([2, 2, 2, 3], 75), shape: [2, 2, 2, 3] },
    ]);
  });
});

describe('conv2d errors', () => {
  it('names the op and the shapes', () => {
    const x = tensor(uniform([1, 4, 4, 3], 1), [1, 4, 4, 3]);
    expect(() => conv2d(x, tensor(uniform([2, 3, 3, 4], 1), [2, 3, 3, 4]))).toThrow(/conv2d: input \[1, 4, 4, 3\] has 3 channels/);
    expect(() => conv2d(x, tensor(uniform([2, 7, 7, 3], 1), [2, 7, 7, 3]))).toThrow(/larger than the padded input/);
    expect(() => conv2d(tensor(uniform([4, 3], 1), [4, 3]), tensor(uniform([2, 1, 1, 3], 1), [2, 1, 1, 3]))).toThrow(/NHWC/);
    expect(() => conv2d(x, tensor(uniform([6, 3, 3, 1], 1), [6, 3, 3, 1]), null, { groups: 3, padding: 1 })).not.toThrow();
    expect(() => conv2d(x, tensor(uniform([2, 3, 3, 3], 1), [2, 3, 3, 3]), tensor([1, 2, 3], [3]), { padding: 1 })).toThrow(/bias must have shape \[2\]/);
  });
});
