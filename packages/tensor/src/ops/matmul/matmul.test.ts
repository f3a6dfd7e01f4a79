/**
 * matmul against its CPU twin (twin.ts, f64 accumulation): awkward and
 * prime sizes that are not multiples of any tile, 1×1×1, batch 1, broadcast batch
 * dims, 1-D operands, transposed views read in place — on every GEMM variant this
 * adapter can run (portable always; register-tiled and the subgroup variants where the
 * adapter profile allows them, the subgroup ones at the smallest subgroup size) — then gradients against the analytical CPU gradients and a
 * finite-difference check of a composite.
 *
 * Tolerance (fp32): each output is a K-term dot product; with round-to-nearest the
 * accumulated error grows like √K·ε relative to the magnitudes involved, so
 * |gpu − cpu| ≤ 1e-5·√K·max(1, max|C|) + 1e-5·√K·|C| (ε = 6e-8 leaves a ≥ 100× margin;
 * measured errors are ~2e-7 relative).
 */
import { describe, expect, it } from 'vitest';
import {
  initDevice,
  tensor,
  matmul,
  transpose,
  slice,
  queueStats,
  sync,
  TesseraError,
  chooseGemmVariant,
  probeGemmSubgroupSize,
  tuneGemm,
  type GemmVariant,
  type Tensor,
} from '../../index.js';
import { gemmVariantUnsupported } from '../../kernels/gemm.js';
import { gemmTuning, setGemmTuning } from '../../kernels/gemm-tuner.js';
import * as ref from './twin.js';
import { cpuTensor, denseData, type CpuTensor } from '../../reference/cpu-tensor.js';
import { transpose as cpuTranspose } from '../views/twin.js';
import { assertClose, gradCheck, uniform, } from '../../testing/index.js';

// At module level: which variants run (it.skipIf) is decided while collecting the tests.
await initDevice();
const probed = await probeGemmSubgroupSize();

const VARIANTS: GemmVariant[] = ['portable', 'register-tiled', 'subgroup', 'subgroup-uniform'];
const supported = (v: GemmVariant) => gemmVariantUnsupported(v) === null;
for (const v of ['register-tiled', 'subgroup', 'subgroup-uniform'] as const) {
  const why = gemmVariantUnsupported(v);
  if (why) console.log(`[matmul.test] ${v} cases skipped on this adapter: ${why}`);
}
for (const v of VARIANTS) {
  const why = gemmVariantUnsupported(v);
  if (why) console.log(`[matmul.test] the '${v}' variant's tests skip on this adapter: ${why}`);
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

/** The tolerance above, for a product with inner dimension K. */
function tolFor(K: number, expected: ArrayLike<number>) {
  const s = 1e-5 * Math.sqrt(K);
  return { rtol: s, atol: s * Math.max(1, maxAbs(expected)) };
}

interface Case {
  name: string;
  a: number[];
  b: number[];
  /** Build the GPU operand as the transpose of a tensor of the transposed shape (a view). */
  ta?: boolean;
  tb?: boolean;
}

const CASES: Case[] = [
  { name: '1x1x1', a: [1, 1], b: [1, 1] },
  { name: '7x13x5 (M x K x N)', a: [7, 13], b: [13, 5] },
  { name: '65x33x129', a: [65, 33], b: [33, 129] },
  { name: 'primes 37x61x43, both transposed', a: [37, 61], b: [61, 43], ta: true, tb: true },
  { name: 'M=1 (row vector matrix)', a: [1, 29], b: [29, 17] },
  { name: 'K=1 (outer product)', a: [9, 1], b: [1, 11] },
  { name: 'batch 1', a: [1, 19, 12], b: [1, 12, 20] },
  { name: 'batched broadcast [3,1,M,K] @ [4,K,N]', a: [3, 1, 6, 10], b: [4, 10, 7] },
  { name: 'A transposed (K=36, M=40: vec4 runs along m)', a: [40, 36], b: [36, 24], ta: true },
  { name: 'A transposed, odd', a: [21, 30], b: [30, 9], ta: true },
  { name: 'B transposed (vec4 runs along k)', a: [33, 44], b: [44, 28], tb: true },
  { name: 'B transposed, odd, batched', a: [2, 5, 19], b: [2, 19, 7], tb: true },
  { name: '2-D A @ batched B', a: [11, 8], b: [3, 8, 13] },
];

/** `data` (logical shape `shape`) stored transposed in its last two dims: the dense data and shape of that storage. */
function transposedStorage(data: Float32Array, shape: number[]): { data: Float32Array; shape: number[] } {
  const r = shape.length;
  const tShape = [...shape.slice(0, -2), shape[r - 1]!, shape[r - 2]!];
  return { data: Float32Array.from(denseData(cpuTranspose(cpuTensor(data, shape), -1, -2))), shape: tShape };
}

/** A GPU operand with the given logical shape: dense, or a transposed view of dense storage. */
function gpuOperand(data: Float32Array, shape: number[], transposed: boolean): Tensor {
  if (!transposed) return tensor(data, shape);
  const t = transposedStorage(data, shape);
  return transpose(tensor(t.data, t.shape), -1, -2);
}

async function checkForward(c: Case, variant: GemmVariant | undefined, seed: number): Promise<void> {
  const ad = uniform(c.a, seed);
  const bd = uniform(c.b, seed + 1);
  const A = gpuOperand(ad, c.a, !!c.ta);
  const B = gpuOperand(bd, c.b, !!c.tb);
  if (c.ta) expect(A.isContiguous).toBe(false);
  const C = matmul(A, B, { variant });
  const expected = ref.matmul(cpuTensor(ad, c.a), cpuTensor(bd, c.b));
  expect(C.shape).toEqual(expected.shape);
  const got = await C.toArray();
  const K = c.a[c.a.length - 1]!;
  assertClose(got, expected.data, tolFor(K, expected.data), expected.shape, `${c.name} (${variant ?? 'auto'})`);
  for (const t of [A, B, C]) t.dispose();
}

describe('variant selection', () => {
  it("probes the subgroup size; the subgroup variants run at the adapter's smallest subgroup size, the profile picks the default", async () => {
    const { gpu, adapterProfile } = await import('../../index.js');
    const { info, hasSubgroups } = gpu();
    const lanes = info.subgroupMinSize;
    const runs = hasSubgroups && !adapterProfile().gemm.subgroupOff && lanes >= 4 && (lanes & (lanes - 1)) === 0 && probed >= lanes;
    expect(supported('subgroup')).toBe(runs);
    const dflt = adapterProfile().gemm.defaultVariant;
    expect(chooseGemmVariant()).toBe(supported(dflt) ? dflt : 'portable');
    // lavapipe keeps the subgroup variant as its default, as before the profile (at 8 lanes, or 16).
    if (info.description.startsWith('llvmpipe')) expect(chooseGemmVariant()).toBe('subgroup');
    expect(supported('portable')).toBe(true);
    expect(supported('register-tiled')).toBe(!adapterProfile().gemm.registerTiledOff);
  });

  it('tuneGemm measures every runnable variant of the call, checks them against each other and records the winner', async () => {
    const r = await tuneGemm(96, 64, 80, 1);
    const runnable = VARIANTS.filter((v) => supported(v));
    // Keys are variants, `variant@lanes` for a subgroup variant at a lane count other than the default.
    if (runnable.length > 1) expect([...new Set(Object.keys(r.ms).map((k) => k.split('@')[0]))].sort()).toEqual([...runnable].sort());
    for (const v of Object.keys(r.ms)) expect(Number.isFinite(r.ms[v]), `${v} agrees with portable`).toBe(true);
    const table = gemmTuning();
    const key = Object.keys(table).find((k) => k.endsWith('|96x64x80|1'));
    expect(key, 'the call is in the tuning table').toBeDefined();
    expect(table[key!]!.variant).toBe(r.variant);
    // The table round-trips as plain data (what the disk cache stores).
    setGemmTuning(JSON.parse(JSON.stringify(table)) as typeof table);
    expect(gemmTuning()[key!]!.variant).toBe(r.variant);
    setGemmTuning({});
  });
});

describe('matmul forward vs the CPU twin', () => {
  for (const variant of [undefined, ...VARIANTS]) {
    describe(`variant ${variant ?? 'auto'}`, () => {
      CASES.forEach((c, i) => {
        it.skipIf(variant !== undefined && !supported(variant))(c.name, async () => {
          await checkForward(c, variant, 100 + 7 * i);
        });
      });
    });
  }

  it('larger product crossing several K windows of the packed-B variant', async () => {
    for (const variant of ['register-tiled', 'subgroup', 'subgroup-uniform'] as const) {
      if (!supported(variant)) continue;
      await checkForward({ name: '150x1100x70', a: [150, 1100], b: [1100, 70] }, variant, 7);
    }
    await checkForward({ name: '150x1100x70', a: [150, 1100], b: [1100, 70] }, 'portable', 7);
  });

  it('1-D operands follow torch.matmul', async () => {
    const v = uniform([6], 1);
    const m = uniform([6, 4], 2);
    const n = uniform([3, 6], 3);
    const bm = uniform([2, 6, 4], 4);
    const pairs: [Float32Array, number[], Float32Array, number[], number[]][] = [
      [v, [6], m, [6, 4], [4]],
      [n, [3, 6], v, [6], [3]],
      [v, [6], v, [6], []],
      [v, [6], bm, [2, 6, 4], [2, 4]],
      [bm, [2, 6, 4], v.subarray(0, 4), [4], [2, 6]],
    ];
    for (const [ad, as, bd, bs, outShape] of pairs) {
      const A = tensor(ad, as);
      const B = tensor(bd, bs);
      const C = matmul(A, B);
      expect(C.shape).toEqual(outShape);
      const e = ref.matmul(cpuTensor(ad, as), cpuTensor(bd, bs));
      expect(e.shape).toEqual(outShape);
      assertClose(await C.toArray(), e.data, tolFor(6, e.data));
      expect((await A.matmul(B).toArray()).length).toBe(e.data.length);
    }
  });

  it('reads transposed views without a copy, and copies other strided views', async () => {
    const a = tensor(uniform([24, 16], 5), [24, 16]);
    const b = tensor(uniform([32, 16], 6), [32, 16]);
    const bDense = tensor(denseData(cpuTranspose(cpuTensor(await b.toArray(), [32, 16]))), [16, 32]);
    await sync();
    const d0 = queueStats().dispatches;
    const plain = matmul(a, bDense);
    const d1 = queueStats().dispatches;
    const viaView = matmul(a, transpose(b)); // B is a transposed view: no copy
    const d2 = queueStats().dispatches;
    expect(d2 - d1).toBe(d1 - d0);
    assertClose(await viaView.toArray(), await plain.toArray(), { rtol: 1e-6, atol: 1e-6 });
    // A view with no unit inner stride (every other column) needs one copy kernel.
    const wide = tensor(uniform([24, 32], 7), [24, 32]);
    const strided = slice(wide, 1, 0, 32, 2); // [24, 16], strides [32, 2]
    const d3 = queueStats().dispatches;
    const viaCopy = matmul(strided, transpose(b));
    const d4 = queueStats().dispatches;
    expect(d4 - d3).toBe(d2 - d1 + 1);
    const bt = cpuTranspose(cpuTensor(await b.toArray(), [32, 16]));
    const e1 = ref.matmul(cpuTensor(await a.toArray(), [24, 16]), bt);
    assertClose(await viaView.toArray(), e1.data, tolFor(16, e1.data));
    const e2 = ref.matmul(cpuTensor(await strided.toArray(), [24, 16]), bt);
    assertClose(await viaCopy.toArray(), e2.data, tolFor(16, e2.data));
  });
});

describe('matmul errors', () => {
  it('names the op and the shapes', () => {
    const a = tensor(new Float32Array(6), [2, 3]);
    const b = tensor(new Float32Array(8), [4, 2]);
    expect(() => matmul(a, b)).toThrow(TesseraError);
    expect(() => matmul(a, b)).toThrow(/matmul: shapes \[2, 3\] @ \[4, 2\].*3 columns.*4 rows/);
    const c = tensor(new Float32Array(2 * 3 * 4), [2, 3, 4]);
    const d = tensor(new Float32Array(3 * 4 * 5), [3, 4, 5]);
    expect(() => matmul(c, d)).toThrow(/matmul: the batch dimensions of \[2, 3, 4\] @ \[3, 4, 5\] cannot be broadcast/);
    const s = tensor(new Float32Array([1]), []);
    expect(() => matmul(s, a)).toThrow(/matmul: both operands need at least one dimension/);
    const i = tensor(new Int32Array(6), [3, 2], 'i32');
    expect(() => matmul(a, i)).toThrow(/matmul: expected a tensor of dtype f32, got i32/);
  });
});

/** Gradients of L = Σ G ⊙ (A @ B) against the analytical CPU gradients. */
async function checkGrad(as: number[], bs: number[], opts: { ta?: boolean; tb?: boolean; variant?: GemmVariant }, seed: number) {
  const ad = uniform(as, seed);
  const bd = uniform(bs, seed + 1);
  const outShape = ref.matmulShape(as, bs) as number[];
  const gd = uniform(outShape, seed + 2);
  // Leaves: dense, or holding the transposed layout with the product reading their transpose (a view).
  const mk = (data: Float32Array, shape: number[], t: boolean): { leaf: Tensor; use: Tensor } => {
    if (!t) {
      const x = tensor(data, shape).requireGrad();
      return { leaf: x, use: x };
    }
    const st = transposedStorage(data, shape);
    const x = tensor(st.data, st.shape).requireGrad();
    return { leaf: x, use: transpose(x, -1, -2) };
  };
  const A = mk(ad, as, !!opts.ta);
  const B = mk(bd, bs, !!opts.tb);
  const C = matmul(A.use, B.use, { variant: opts.variant });
  C.backward({ grad: tensor(gd, outShape) });
  const g = ref.matmulGrad(cpuTensor(ad, as), cpuTensor(bd, bs), cpuTensor(gd, outShape));
  const N = bs.length === 1 ? 1 : bs[bs.length - 1]!;
  const M = as.length === 1 ? 1 : as[as.length - 2]!;
  const batch = Math.max(1, (outShape.length > 2 ? outShape.slice(0, -2) : []).reduce((p, d) => p * d, 1));
  // dA sums over N (and broadcast batches), dB over M (and batches).
  const gotA = await A.leaf.grad!.toArray();
  const gotB = await B.leaf.grad!.toArray();
  const expA = opts.ta ? cpuTranspose(g.da) : g.da;
  const expB = opts.tb ? cpuTranspose(g.db) : g.db;
  const dense = (t: CpuTensor) => denseData(t);
  assertClose(gotA, dense(expA), tolFor(N * batch, g.da.data), A.leaf.shape, 'dA');
  assertClose(gotB, dense(expB), tolFor(M * batch, g.db.data), B.leaf.shape, 'dB');
  for (const t of [A.leaf, B.leaf, C]) {
    t.grad?.dispose();
    t.dispose();
  }
}

describe('matmul gradients vs the analytical CPU gradients', () => {
  const GRADS: { name: string; a: number[]; b: number[]; ta?: boolean; tb?: boolean }[] = [
    { name: '2-D 7x13 @ 13x5', a: [7, 13], b: [13, 5] },
    { name: 'batched broadcast [2,1,5,6] @ [3,6,4]', a: [2, 1, 5, 6], b: [3, 6, 4] },
    { name: 'batched A @ 2-D B (batch folded into K for dB)', a: [3, 9, 10], b: [10, 6] },
    { name: '2-D A @ batched B', a: [9, 10], b: [4, 10, 6] },
    { name: 'transposed views as leaves', a: [12, 7], b: [7, 9], ta: true, tb: true },
    { name: 'vector @ matrix', a: [8], b: [8, 5] },
    { name: 'matrix @ vector', a: [6, 8], b: [8] },
    { name: 'vector @ vector', a: [8], b: [8] },
  ];
  for (const variant of [undefined, 'portable', 'register-tiled'] as const) {
    GRADS.forEach((c, i) => {
      it.skipIf(variant !== undefined && !supported(variant))(`${c.name} (${variant ?? 'auto'})`, async () => {
        await checkGrad(c.a, c.b, { ta: c.ta, tb: c.tb, variant }, 300 + 11 * i);
      });
    });
  }
});

describe('finite differences', () => {
  it('sum(relu(A @ B) * C), with a transposed operand and a broadcast batch', async () => {
    await gradCheck((o, a, b, c) => o.sum(o.mul(o.relu(o.matmul(a, o.transpose(b))), c)), [
      { data: uniform([2, 5, 6], 41), shape: [2, 5, 6] },
      { data: uniform([4, 6], 42), shape: [4, 6] },
      { data: uniform([2, 5, 4], 43), shape: [2, 5, 4] },
    ]);
  });
});
