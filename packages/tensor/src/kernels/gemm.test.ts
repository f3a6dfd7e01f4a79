/**
 * The GEMM generator's hooks, used directly (as conv and fused layers will): the
 * epilogue options (bias per column, residual, ReLU, accumulate into the output) and a
 * caller-written implicit-im2col operand (a 1-D convolution with zero padding and
 * stride, its parameters in uniforms), on every variant this adapter runs, against
 * plain-TypeScript references.
 *
 * Tolerance: as in ops/matmul/matmul.test.ts, 1e-5·√K relative to max(1, max|C|).
 */
import { describe, expect, it } from 'vitest';
import { config, gpu, initDevice, tensor, Tensor } from '../index.js';
import {
  gemmSource,
  gemmSubgroupLanes,
  gemmVariantUnsupported,
  runGemm,
  stridedEpilogue,
  stridedOperand,
  stridedParamValues,
  MAX_BATCH_RANK,
  type GemmVariant,
  type OperandHook,
} from './gemm.js';
import { assertClose, uniform } from '../testing/index.js';

await initDevice();

const VARIANTS: GemmVariant[] = ['portable', 'register-tiled', 'subgroup', 'subgroup-uniform'];
const supported = (v: GemmVariant) => gemmVariantUnsupported(v) === null;
for (const v of VARIANTS) {
  const why = gemmVariantUnsupported(v);
  if (why) console.log(`[gemm.test] the '${v}' variant's tests skip on this adapter: ${why}`);
}
const noBatch = { batchShape: [1, 1, 1], batchStrides: [0, 0, 0] };

function ref(a: Float32Array, b: Float32Array, M: number, K: number, N: number): Float64Array {
  const c = new Float64Array(M * N);
  for (let i = 0; i < M; i++) for (let p = 0; p < K; p++) for (let j = 0; j < N; j++) c[i * N + j] += a[i * K + p]! * b[p * N + j]!;
  return c;
}

const tol = (K: number, e: ArrayLike<number>) => {
  let m = 1;
  for (let i = 0; i < e.length; i++) m = Math.max(m, Math.abs(e[i]!));
  return { rtol: 1e-5 * Math.sqrt(K), atol: 1e-5 * Math.sqrt(K) * m };
};

describe('epilogue hooks', () => {
  // N = 36 (vec4 stores), M = 45 and K = 27 not multiples of any tile.
  const [M, K, N] = [45, 27, 36];
  const ad = uniform([M, K], 1);
  const bd = uniform([K, N], 2);
  const bias = uniform([N], 3);
  const res = uniform([M, N], 4);
  const init = uniform([M, N], 5);
  const prod = ref(ad, bd, M, K, N);

  for (const variant of VARIANTS) {
    it.skipIf(!supported(variant))(`bias + residual + ReLU, then accumulate (${variant})`, async () => {
      const A = tensor(ad, [M, K]);
      const B = tensor(bd, [K, N]);
      const bT = tensor(bias, [N]);
      const rT = tensor(res, [M, N]);
      const C = tensor(init, [M, N]);
      const common = {
        name: 'gemm_test',
        M,
        N,
        K,
        batch: 1,
        a: stridedOperand('A', { contiguous: 'rows', batchRank: MAX_BATCH_RANK, vec4: false }),
        b: stridedOperand('B', { contiguous: 'rows', batchRank: MAX_BATCH_RANK, vec4: true, mnMultipleOf4: true }),
        variant,
      };
      const params = {
        ...stridedParamValues('a', { offset: 0, ld: K, ...noBatch }),
        ...stridedParamValues('b', { offset: 0, ld: N, ...noBatch }),
        ...stridedParamValues('c', { offset: 0, ld: N, ...noBatch }),
        bias_off: 0,
        res_off: 0,
      };
      // C = relu(A·B + bias + res)
      runGemm({
        ...common,
        c: stridedEpilogue({ batchRank: MAX_BATCH_RANK, bias: true, residual: true, relu: true, vec4: true }),
        buffers: [A.buffer, B.buffer, B.buffer, C.buffer, bT.buffer, rT.buffer],
        params,
      });
      const e1 = prod.map((v, i) => Math.max(0, v + bias[i % N]! + res[i]!));
      assertClose(await C.toArray(), e1, tol(K, e1), [M, N], 'fused epilogue');
      // C += A·B (split-K style accumulation), scalar stores.
      runGemm({
        ...common,
        c: stridedEpilogue({ batchRank: MAX_BATCH_RANK, accumulate: true }),
        buffers: [A.buffer, B.buffer, B.buffer, C.buffer],
        params,
      });
      const e2 = e1.map((v, i) => v + prod[i]!);
      assertClose(await C.toArray(), e2, tol(K, e2), [M, N], 'accumulate');
      for (const t of [A, B, bT, rT, C]) t.dispose();
    });
  }
});

/**
 * An implicit-im2col operand, written the way conv hooks will be: A(m, k) for output
 * position m and tap k of a 1-D convolution is x[m·stride + k − pad], zero outside
 * the signal. The hook pads; the generator only guarantees m < M, k < K.
 */
function conv1dOperand(): OperandHook {
  return {
    bindings: [{ name: 'xs' }],
    params: [{ name: 'x_len' }, { name: 'x_stride' }, { name: 'x_pad' }],
    code: `fn loadA(base: u32, m: u32, k: u32) -> f32 {
  let p = i32(m * u.x_stride + k) - i32(u.x_pad);
  if (p < 0 || p >= i32(u.x_len)) { return 0.0; }
  return xs[base + u32(p)];
}
fn batchA(b: u32) -> u32 { return b * u.x_len; }
`,
  };
}

/**
 * The same operand with the optional per-row form (rowA once per row outside the K
 * loop, loadARow per k) beside the plain one, which the portable variant still uses.
 * Rows are offset by one tap on purpose: a generator that mixed the two forms up, or
 * handed rowA the wrong row, would give a different answer.
 */
function conv1dRowOperand(): OperandHook {
  const plain = conv1dOperand();
  return {
    ...plain,
    code: `${plain.code}struct ARow { start: i32, base: u32 }
fn rowA(base: u32, m: u32) -> ARow { return ARow(i32(m * u.x_stride) - i32(u.x_pad), base); }
fn loadARow(r: ARow, k: u32) -> f32 {
  let p = r.start + i32(k);
  let ok = p >= 0 && p < i32(u.x_len);
  return select(0.0, xs[select(0u, r.base + u32(p), ok)], ok);
}
`,
  };
}

describe('caller-written operand hooks', () => {
  // Two signals of length 50, 5 taps, stride 2, padding 2 → 25 outputs each; 6 filters.
  const [L, T, S, P, F, NB] = [50, 5, 2, 2, 6, 2];
  const outLen = Math.floor((L + 2 * P - T) / S) + 1;
  const x = uniform([NB, L], 11);
  const w = uniform([T, F], 12);
  const expected = new Float64Array(NB * outLen * F);
  for (let b = 0; b < NB; b++) {
    for (let m = 0; m < outLen; m++) {
      for (let f = 0; f < F; f++) {
        let s = 0;
        for (let k = 0; k < T; k++) {
          const p = m * S + k - P;
          if (p >= 0 && p < L) s += x[b * L + p]! * w[k * F + f]!;
        }
        expected[(b * outLen + m) * F + f] = s;
      }
    }
  }
  for (const variant of VARIANTS) {
    it.skipIf(!supported(variant))(`1-D convolution through an im2col hook, batched (${variant})`, async () => {
      const X = tensor(x, [NB, L]);
      const W = tensor(w, [T, F]);
      const Y = Tensor.empty([NB, outLen, F]);
      const call = {
        name: 'conv1d_test',
        M: outLen,
        N: F,
        K: T,
        batch: NB,
        a: conv1dOperand(),
        b: stridedOperand('B', { contiguous: 'rows', batchRank: MAX_BATCH_RANK, vec4: false }, false),
        c: stridedEpilogue({ batchRank: MAX_BATCH_RANK }),
        buffers: [X.buffer, W.buffer, Y.buffer],
        params: {
          x_len: L,
          x_stride: S,
          x_pad: P,
          ...stridedParamValues('b', { offset: 0, ld: F, ...noBatch }),
          ...stridedParamValues('c', { offset: 0, ld: F, batchShape: [1, 1, NB], batchStrides: [0, 0, outLen * F] }),
        },
        variant,
      };
      expect(runGemm(call)).toBe(variant);
      expect(gemmSource(call, variant)).toContain('fn loadA(base: u32, m: u32, k: u32)');
      assertClose(await Y.toArray(), expected, tol(T, expected), [NB, outLen, F], 'conv1d');
      // The per-row form: the subgroup variants call rowA/loadARow (K = 5: a 4-wide chunk and
      // a tail of one), the portable one keeps loadA; both must give the same result.
      const rowCall = { ...call, name: 'conv1d_row_test', a: conv1dRowOperand() };
      const src = gemmSource(rowCall, variant);
      expect(src.includes('rowA(aB, mr0)')).toBe(variant.startsWith('subgroup'));
      Y.load(new Float32Array(NB * outLen * F).fill(Number.NaN));
      expect(runGemm(rowCall)).toBe(variant);
      assertClose(await Y.toArray(), expected, tol(T, expected), [NB, outLen, F], 'conv1d row form');
      for (const t of [X, W, Y]) t.dispose();
    });
  }
});

/**
 * The subgroup variants are generated for the lane count the adapter reports, not for a
 * fixed 8: forced at the adapter's smallest subgroup size (4 on SwiftShader, 8 on lavapipe,
 * 16 on lavapipe with LP_NATIVE_VECTOR_WIDTH=512), A read by scalar loads and as vec4 runs
 * along m, every tile edge ragged; and the storage-B variant at half of it (a workgroup
 * narrower than the subgroup: idle lanes). Each form is a pipeline of its own, seconds to
 * compile on lavapipe, hence no more.
 */
describe('subgroup lane counts', () => {
  const min = gpu().info.subgroupMinSize;
  const laneCounts = [min, min / 2].filter((l) => l >= 4);
  const why = gemmVariantUnsupported('subgroup', min);
  if (why) console.log(`[gemm.test] subgroup lane counts not tested on this adapter: ${why}`);
  const [M, K, N] = [44, 27, 36];
  const ad = uniform([M, K], 21);
  const bd = uniform([K, N], 22);
  const expected = ref(ad, bd, M, K, N);
  const at = new Float32Array(K * M);
  for (let i = 0; i < M; i++) for (let p = 0; p < K; p++) at[p * M + i] = ad[i * K + p]!;
  const runs = laneCounts.flatMap((lanes) => (lanes === min ? (['subgroup', 'subgroup-uniform'] as const) : (['subgroup'] as const)).map((variant) => ({ lanes, variant })));
  for (const { lanes, variant } of runs) {
    it.skipIf(why !== null)(`${variant} at ${lanes} lanes${lanes === min ? " (the adapter's subgroup size)" : ''}`, async () => {
      const A = tensor(ad, [M, K]);
      const AT = tensor(at, [K, M]);
      const B = tensor(bd, [K, N]);
      const C = Tensor.empty([M, N]);
      // A scalar (row-major, K = 27 is no multiple of 4), and A stored transposed read as vec4
      // runs along m (M = 44); runs along k are covered by ops/matmul/matmul.test.ts at every lane count.
      const forms = [
        { a: A, layout: { contiguous: 'rows' as const, vec4: false }, ld: K },
        { a: AT, layout: { contiguous: 'cols' as const, vec4: true, mnMultipleOf4: true }, ld: M },
      ];
      for (const f of lanes === min && variant === 'subgroup' ? forms : forms.slice(0, 1)) {
        const call = {
          name: 'lanes_test',
          M, N, K, batch: 1,
          a: stridedOperand('A', { ...f.layout, batchRank: MAX_BATCH_RANK }),
          b: stridedOperand('B', { contiguous: 'rows', batchRank: MAX_BATCH_RANK, vec4: true, mnMultipleOf4: true }),
          c: stridedEpilogue({ batchRank: MAX_BATCH_RANK, vec4: true }),
          buffers: [...(f.layout.vec4 ? [f.a.buffer, f.a.buffer] : [f.a.buffer]), B.buffer, B.buffer, C.buffer],
          params: {
            ...stridedParamValues('a', { offset: 0, ld: f.ld, ...noBatch }),
            ...stridedParamValues('b', { offset: 0, ld: N, ...noBatch }),
            ...stridedParamValues('c', { offset: 0, ld: N, ...noBatch }),
          },
          variant,
          lanes,
        };
        const src = gemmSource(call, variant, lanes);
        expect(src).toContain(`@workgroup_size(${lanes})`);
        expect(src).toContain(`subgroupBroadcast(ar0_0, ${lanes - 1}u)`);
        expect(src).not.toContain(`subgroupBroadcast(ar0_0, ${lanes}u)`);
        C.load(new Float32Array(M * N).fill(Number.NaN));
        expect(runGemm(call)).toBe(variant);
        assertClose(await C.toArray(), expected, tol(K, expected), [M, N], `${variant} at ${lanes} lanes, A ${f.layout.contiguous}`);
      }
      for (const t of [A, AT, B, C]) t.dispose();
    });
  }

  it.skipIf(why !== null)('refuses lane counts wider than the smallest subgroup, or not a power of two', () => {
    expect(gemmVariantUnsupported('subgroup', 2 * min)).toMatch(/do not fit the adapter's smallest subgroup/);
    expect(gemmVariantUnsupported('subgroup', 6)).toMatch(/power of two/);
    config.gemmSubgroupLanes = min / 2 >= 4 ? min / 2 : min;
    try {
      expect(gemmSubgroupLanes()).toBe(config.gemmSubgroupLanes);
    } finally {
      config.gemmSubgroupLanes = null;
    }
    expect(gemmSubgroupLanes()).toBe(min);
  });
});

/**
 * The register-tiled variant's k-slice is a loop on CPU rasterisers (compile time) and
 * unrolled on GPUs (the adapter profile's unrollRegisterTiled): both forms, one product with
 * ragged edges, A read along k by vec4 runs and B by scalar loads.
 */
describe('register-tiled, looped and unrolled', () => {
  const [M, K, N] = [70, 36, 67];
  const ad = uniform([M, K], 31);
  const bd = uniform([K, N], 32);
  const expected = ref(ad, bd, M, K, N);
  for (const profile of ['lavapipe', 'gpu'] as const) {
    it(`the ${profile} profile's form`, async () => {
      config.adapterProfile = profile;
      const A = tensor(ad, [M, K]);
      const B = tensor(bd, [K, N]);
      const C = Tensor.empty([M, N]);
      try {
        const call = {
          name: 'rt_test',
          M, N, K, batch: 1,
          a: stridedOperand('A', { contiguous: 'rows', batchRank: MAX_BATCH_RANK, vec4: true }),
          b: stridedOperand('B', { contiguous: 'rows', batchRank: MAX_BATCH_RANK, vec4: false }),
          c: stridedEpilogue({ batchRank: MAX_BATCH_RANK }),
          buffers: [A.buffer, A.buffer, B.buffer, C.buffer],
          params: {
            ...stridedParamValues('a', { offset: 0, ld: K, ...noBatch }),
            ...stridedParamValues('b', { offset: 0, ld: N, ...noBatch }),
            ...stridedParamValues('c', { offset: 0, ld: N, ...noBatch }),
          },
          variant: 'register-tiled' as const,
        };
        expect(gemmSource(call, 'register-tiled').includes('for (var kk = 0u;')).toBe(profile !== 'gpu');
        expect(runGemm(call)).toBe('register-tiled');
        assertClose(await C.toArray(), expected, tol(K, expected), [M, N], `register-tiled (${profile})`);
      } finally {
        config.adapterProfile = null;
        for (const t of [A, B, C]) t.dispose();
      }
    });
  }
});
