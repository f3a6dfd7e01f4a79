/**
 * Elementwise ops against their CPU twins (the `cpu` fields of the declarations),
 * forward and gradient, on awkward shapes, broadcasts and non-contiguous views.
 *
 * Tolerances (fp32): the twin runs in f64 on the same f32 inputs, so the difference
 * is the GPU's own error. Add/mul/div are correctly rounded (≤ 0.5 ulp ≈ 6e-8
 * relative); WGSL allows exp 3+2|x| ulp, log 2^-21 absolute near 1, and tanh/sigmoid
 * are built from exp — for |x| ≤ 4 that is ≤ 11 ulp ≈ 7e-7. rtol 1e-5 / atol 1e-6
 * leaves a 10× margin and still catches any wrong formula (errors ≥ 1e-3).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { initDevice, tensor, transpose, slice, expand, add, sub, mul, div, pow, maximum, minimum, where, cast, compare, TesseraError } from '../../index.js';
import * as ref from '../../reference/index.js';
import { cpuTensor } from '../../reference/cpu-tensor.js';
import { UNARY, type UnaryName } from './op.js';
import { expectClose, gradCheck, uniform, ints } from '../../testing/index.js';
import type { Tensor } from '../../tensor.js';

beforeAll(async () => {
  await initDevice();
});

const TOL = { rtol: 1e-5, atol: 1e-6 };
const SHAPE = [7, 13, 5];

/** Input range per op: inside its domain, away from kinks where a twin and the GPU may pick different sides. */
const DOMAIN: Partial<Record<UnaryName, { lo: number; hi: number; avoid?: number[] }>> = {
  log: { lo: 0.05, hi: 4 },
  sqrt: { lo: 0.05, hi: 4 },
  rsqrt: { lo: 0.05, hi: 4 },
  rdivScalar: { lo: 0.2, hi: 3 },
  powScalar: { lo: 0.1, hi: 2 },
};
const PARAMS: Partial<Record<UnaryName, [number, number]>> = {
  leakyRelu: [0.1, 0],
  powScalar: [2.5, 0],
  addScalar: [0.75, 0],
  mulScalar: [-1.5, 0],
  rsubScalar: [2, 0],
  rdivScalar: [3, 0],
  clamp: [-0.4, 0.6],
};

/** Calls the GPU op behind a UNARY entry through the public API. */
function gpuUnary(name: UnaryName, x: Tensor, p: [number, number]): Tensor {
  const m = x as unknown as Record<string, (...a: unknown[]) => Tensor>;
  switch (name) {
    case 'powScalar':
      return pow(x, p[0]);
    case 'addScalar':
      return add(x, p[0]);
    case 'mulScalar':
      return mul(x, p[0]);
    case 'rsubScalar':
      return sub(p[0], x);
    case 'rdivScalar':
      return div(p[0], x);
    case 'clamp':
      return x.clamp(p[0], p[1]);
    case 'leakyRelu':
      return x.leakyRelu(p[0]);
    default:
      return m[name]!.call(x);
  }
}

describe('unary ops vs CPU twin', () => {
  for (const name of Object.keys(UNARY) as UnaryName[]) {
    it(`${name}: dense and transposed view of ${JSON.stringify(SHAPE)}`, async () => {
      const dom = DOMAIN[name] ?? { lo: -3, hi: 3 };
      const p = PARAMS[name] ?? [0, 0];
      const data = uniform(SHAPE, 11, { ...dom, avoid: [0, ...p], margin: 1e-3 });
      const x = tensor(data, SHAPE);
      const xt = transpose(x, 0, 2); // [5, 13, 7], strided
      const twin = cpuTensor(data, SHAPE, 'f64');
      await expectClose(gpuUnary(name, x, p), ref.unary(name, twin, ...p), TOL, name);
      await expectClose(gpuUnary(name, xt, p), ref.unary(name, ref.transpose(twin, 0, 2), ...p), TOL, `${name} (transposed)`);
    });
  }

  it('sigmoid and tanh saturate at large |x| instead of producing NaN', async () => {
    const x = tensor([-200, -90, 90, 200, 1e-6, -1e-6]);
    const s = await x.sigmoid().toArray();
    const t = await x.tanh().toArray();
    expect(Array.from(s.slice(0, 4))).toEqual([0, 0, 1, 1]);
    expect(Array.from(t.slice(0, 4))).toEqual([-1, -1, 1, 1]);
    // Small |x|: tanh(x) ≈ x to a relative 1e-5 (the exp-based formula alone was 1.3% off at 1e-6).
    await expectClose(t.slice(4), [Math.tanh(1e-6), -Math.tanh(1e-6)], { atol: 0, rtol: 1e-5 });
  });

  it('pow follows C pow (torch.pow): odd/even integer exponents of negative bases, NaN for fractional ones, x^0 = 1', async () => {
    const x = tensor([-2, -2, -2, 0, 3, -1.5]);
    const e = tensor([3, 2, 0.5, 0, -1, 0]);
    const got = await pow(x, e).toArray();
    await expectClose(got, [-8, 4, NaN, 1, 1 / 3, 1], TOL);
    await expectClose(pow(tensor([-2, 2, -3]), 3), [-8, 8, -27], TOL);
  });
});

describe('unary gradients (autograd vs finite differences)', () => {
  for (const name of Object.keys(UNARY) as UnaryName[]) {
    it(name, async () => {
      const dom = DOMAIN[name] ?? { lo: -3, hi: 3 };
      const p = PARAMS[name] ?? [0, 0];
      // Away from kinks (0 for relu/abs, the clamp bounds) by more than the FD step.
      const data = uniform([3, 7], 5, { ...dom, avoid: [0, ...p], margin: 0.02 });
      await gradCheck((o, x) => {
        switch (name) {
          case 'powScalar':
            return o.pow(x, p[0]);
          case 'addScalar':
            return o.add(x, p[0]);
          case 'mulScalar':
            return o.mul(x, p[0]);
          case 'rsubScalar':
            return o.sub(p[0], x);
          case 'rdivScalar':
            return o.div(p[0], x);
          case 'clamp':
            return o.clamp(x, p[0], p[1]);
          case 'leakyRelu':
            return o.leakyRelu(x, p[0]);
          default:
            return (o[name] as (t: typeof x) => typeof x)(x);
        }
      }, [{ data, shape: [3, 7] }]);
    });
  }
});

describe('dense4 variant (4 elements per thread) and its scalar fallbacks', () => {
  // [6, 10]: 60 elements, a multiple of 4 → dense4. Slices at offset 4 (aligned) and 2
  // (not: the scalar dense kernel) and an odd count (scalar) must agree with the twin.
  const S = [6, 10];
  for (const name of ['relu', 'exp', 'leakyRelu', 'mulScalar', 'sigmoid'] as UnaryName[]) {
    it(`${name} on ${JSON.stringify(S)}, aligned and unaligned slices, odd count`, async () => {
      const p = PARAMS[name] ?? [0, 0];
      const data = uniform(S, 5, { lo: -3, hi: 3, avoid: [0, ...p], margin: 1e-3 });
      const x = tensor(data, S);
      const twin = cpuTensor(data, S, 'f64');
      await expectClose(gpuUnary(name, x, p), ref.unary(name, twin, ...p), TOL, `${name} dense4`);
      const flat = x.reshape([60]);
      const flatTwin = cpuTensor(data, [60], 'f64');
      for (const [from, to] of [[4, 60], [2, 58], [3, 56]] as const) {
        await expectClose(gpuUnary(name, slice(flat, 0, from, to), p), ref.unary(name, ref.slice(flatTwin, 0, from, to), ...p), TOL, `${name} [${from}:${to}]`);
      }
    });
  }
  it('binary ops with both operands at aligned offsets', async () => {
    const da = uniform([64], 7, { lo: 0.2, hi: 2 });
    const db = uniform([64], 8, { lo: -2, hi: 2, avoid: [0], margin: 0.1 });
    const a = slice(tensor(da, [64]), 0, 4, 60);
    const b = slice(tensor(db, [64]), 0, 8, 64);
    const ta = ref.slice(cpuTensor(da, [64], 'f64'), 0, 4, 60);
    const tb = ref.slice(cpuTensor(db, [64], 'f64'), 0, 8, 64);
    await expectClose(add(a, b), ref.binary('add', ta, tb), TOL, 'add');
    await expectClose(div(a, b), ref.binary('div', ta, tb), TOL, 'div');
  });
});

describe('binary ops', () => {
  const cases: [string, number[], number[]][] = [
    ['same shape', [7, 13], [7, 13]],
    ['size-1 broadcast both ways', [7, 1, 5], [1, 13, 5]],
    ['rank mismatch', [4, 3, 7], [7]],
    ['scalar tensor', [9, 11], []],
    ['batch 1', [1, 257], [1, 257]],
  ];
  const names = ['add', 'sub', 'mul', 'div', 'maximum', 'minimum', 'pow'] as const;
  const gpu = { add, sub, mul, div, maximum, minimum, pow } as Record<string, (a: Tensor, b: Tensor) => Tensor>;
  for (const [label, sa, sb] of cases) {
    it(`forward, ${label}: ${JSON.stringify(sa)} ∘ ${JSON.stringify(sb)}`, async () => {
      const da = uniform(sa, 1, { lo: 0.2, hi: 2 });
      const db = uniform(sb, 2, { lo: -2, hi: 2, avoid: [0], margin: 0.1 });
      const a = tensor(da, sa);
      const b = tensor(db, sb);
      for (const n of names) {
        await expectClose(gpu[n]!(a, b), ref.binary(n, cpuTensor(da, sa, 'f64'), cpuTensor(db, sb, 'f64')), TOL, `${n} ${label}`);
      }
    });
  }

  it('non-contiguous operands: transposed, sliced with a step, expanded', async () => {
    const da = uniform([13, 7], 3);
    const db = uniform([7, 26], 4);
    const dc = uniform([7, 1], 5);
    const a = transpose(tensor(da, [13, 7])); // [7, 13] strided
    const b = slice(tensor(db, [7, 26]), 1, 1, 26, 2); // [7, 13] step 2, offset 1
    const c = expand(tensor(dc, [7, 1]), [7, 13]);
    const ra = ref.transpose(cpuTensor(da, [13, 7], 'f64'));
    const rb = ref.slice(cpuTensor(db, [7, 26], 'f64'), 1, 1, 26, 2);
    const rc = ref.expand(cpuTensor(dc, [7, 1], 'f64'), [7, 13]);
    await expectClose(add(mul(a, b), c), ref.add(ref.mul(ra, rb), rc), TOL);
  });

  for (const [label, sa, sb] of cases.slice(0, 4)) {
    it(`gradients, ${label}`, async () => {
      const da = uniform(sa, 7, { lo: 0.3, hi: 2 });
      const db = uniform(sb, 8, { lo: 0.5, hi: 2 }); // positive: div and pow stay smooth
      const inputs = [{ data: da, shape: sa }, { data: db, shape: sb }];
      await gradCheck((o, a, b) => o.add(o.mul(a, b), o.sub(a, b)), inputs);
      await gradCheck((o, a, b) => o.div(a, b), inputs);
      await gradCheck((o, a, b) => o.pow(a, b), inputs);
    });
  }

  it('maximum/minimum gradients route to the winner and split ties evenly', async () => {
    const a = tensor([1, 5, 3]).requireGrad();
    const b = tensor([2, 4, 3]).requireGrad();
    maximum(a, b).sum().backward();
    expect(Array.from(await a.grad!.toArray())).toEqual([0, 1, 0.5]);
    expect(Array.from(await b.grad!.toArray())).toEqual([1, 0, 0.5]);
    await gradCheck((o, x, y) => o.minimum(o.maximum(x, y), o.mul(y, 0.5)), [
      { data: uniform([5, 6], 1), shape: [5, 6] },
      { data: uniform([6], 2), shape: [6] },
    ]);
  });
});

describe('integer elementwise', () => {
  it('i32/u32 arithmetic wraps and divides toward zero, like WGSL (and the twin)', async () => {
    const av = Int32Array.from([7, -7, 2147483647, -2147483648, 5, 0, 46341]);
    const bv = Int32Array.from([2, 2, 1, -1, 0, 3, 46341]);
    const a = tensor(av, [7]);
    const b = tensor(bv, [7]);
    const ra = cpuTensor(av, [7]);
    const rb = cpuTensor(bv, [7]);
    for (const n of ['add', 'sub', 'mul', 'div', 'maximum', 'minimum'] as const) {
      const g = { add, sub, mul, div, maximum, minimum }[n](a, b);
      expect(g.dtype).toBe('i32');
      await expectClose(g, ref.binary(n, ra, rb), { rtol: 0, atol: 0 }, n);
    }
    await expectClose(a.neg(), ref.neg(ra), { rtol: 0, atol: 0 });
    await expectClose(a.abs(), ref.abs(ra), { rtol: 0, atol: 0 });
    await expectClose(add(a, 3), ref.add(ra, 3), { rtol: 0, atol: 0 });
    await expectClose(mul(a, -3), ref.mul(ra, -3), { rtol: 0, atol: 0 });
    await expectClose(sub(10, a), ref.sub(10, ra), { rtol: 0, atol: 0 });
    await expectClose(a.clamp(-5, 6), ref.clamp(ra, -5, 6), { rtol: 0, atol: 0 });
    const u = tensor(Uint32Array.from([0, 1, 4294967295]), [3]);
    expect(Array.from(await add(u, 1).toArray())).toEqual([1, 2, 0]);
    expect(Array.from(await add(u, -1).toArray())).toEqual([4294967295, 0, 4294967294]);
  });

  it('integer parameters are exact beyond 2^24 (they travel as integer words)', async () => {
    const a = tensor(Int32Array.from([0, 1]), [2]);
    expect(Array.from(await add(a, 16777217).toArray())).toEqual([16777217, 16777218]);
  });

  it('f32-only ops and non-integer scalars on integer tensors are clear errors', () => {
    const a = tensor(Int32Array.from([1, 2]), [2]);
    expect(() => a.exp()).toThrowError(/exp: expected a tensor of dtype f32, got i32 of shape \[2\]/);
    expect(() => add(a, 1.5)).toThrowError(/addScalar: scalar 1.5 is not an integer.*i32/);
    expect(() => div(a, 2)).toThrowError(/div: .*i32.*cast/);
    expect(() => tensor(Uint32Array.from([1]), [1]).neg()).toThrowError(/neg: expected a tensor of dtype f32 or i32, got u32/);
    expect(() => pow(a, a)).toThrowError(TesseraError);
  });
});

describe('comparisons, where, cast', () => {
  it('compare ops give u32 masks, with broadcasting and scalars', async () => {
    const da = ints([6, 5], 1, -3, 3);
    const db = ints([5], 2, -3, 3);
    const a = tensor(Float32Array.from(da), [6, 5]);
    const b = tensor(Float32Array.from(db), [5]);
    const ra = cpuTensor(Float32Array.from(da), [6, 5]);
    const rb = cpuTensor(Float32Array.from(db), [5]);
    for (const n of ['eq', 'ne', 'lt', 'le', 'gt', 'ge'] as const) {
      const m = compare(n, a, b);
      expect(m.dtype).toBe('u32');
      await expectClose(m, ref.compare(n, ra, rb), { rtol: 0, atol: 0 }, n);
      await expectClose(compare(n, a, 0.5), ref.compare(n, ra, 0.5), { rtol: 0, atol: 0 }, `${n} scalar`);
    }
    // Integer tensor vs a fractional scalar compares as f32; vs an integer exactly.
    const i = tensor(Int32Array.from([1, 2, 3]), [3]);
    expect(Array.from(await i.gt(1.5).toArray())).toEqual([0, 1, 1]);
    expect(Array.from(await i.ge(2).toArray())).toEqual([0, 1, 1]);
    expect(Array.from(await tensor(Uint32Array.from([0, 5]), [2]).gt(-1).toArray())).toEqual([1, 1]);
  });

  it('where selects with broadcasting, and its gradient goes to the chosen side', async () => {
    const c = tensor(Uint32Array.from([1, 0, 1, 0, 0, 1]), [2, 3]);
    const a = tensor([10, 20, 30]);
    const b = tensor([[-1], [-2]]);
    expect(Array.from(await where(c, a, b).toArray())).toEqual([10, -1, 30, -2, -2, 30]);
    const cond = ints([4, 5], 3, 0, 2);
    await gradCheck((o, m, x, y) => o.where(m, o.exp(x), o.mul(y, y)), [
      { data: Uint32Array.from(cond), shape: [4, 5] },
      { data: uniform([4, 5], 4), shape: [4, 5] },
      { data: uniform([5], 5), shape: [5] },
    ]);
  });

  it('cast: f32 → int truncates toward zero and saturates; i32 ↔ u32 reinterpret; back to f32', async () => {
    const v = Float32Array.from([1.9, -1.9, 3e9, -3e9, 0.5, -0.5, 7]);
    const x = tensor(v, [7]);
    for (const to of ['i32', 'u32'] as const) {
      const c = cast(x, to);
      expect(c.dtype).toBe(to);
      await expectClose(c, ref.cast(cpuTensor(v, [7]), to), { rtol: 0, atol: 0 }, `f32 → ${to}`);
    }
    const i = tensor(Int32Array.from([-1, 5]), [2]);
    expect(Array.from(await cast(i, 'u32').toArray())).toEqual([4294967295, 5]);
    expect(Array.from(await cast(i, 'f32').toArray())).toEqual([-1, 5]);
    await gradCheck((o, t) => o.mul(o.cast(t, 'f32'), t), [{ data: uniform([3], 1), shape: [3] }]);
  });
});
