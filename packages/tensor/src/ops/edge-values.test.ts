/**
 * Edge values (NaN, ±Inf, ±0, tiny, huge) through every elementwise op and reduction,
 * forward and gradient, against PyTorch (torch run in float32 by scripts/torch_fixtures.py,
 * so overflow falls where it falls in f32) and against the CPU twins. Each op's GPU result
 * is compared value by value; NaN must meet NaN and ±Inf the same infinity.
 *
 * Tolerance: rtol 1e-5 and atol 1e-30 — relative everywhere, so tanh(1e-6) and
 * sigmoid(-20) ≈ 2e-9 are held to 1e-5 of themselves, not to an absolute floor.
 * The sign of a zero is not compared (PyTorch and WGSL may differ on −0 without any
 * consequence downstream). Subnormal inputs are left out: both software adapters flush
 * them to zero (an f32 shader may), which PyTorch's CPU does not.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { abs, add, argmax, argmin, clamp, compare, div, exp, initDevice, leakyRelu, log, logSoftmax, softmax, max, maximum, mean, min, minimum, mul, neg, pow, relu, rsqrt, sigmoid, sqrt, sub, sum, tanh, tensor, type Tensor } from '../index.js';
import * as ref from '../reference/index.js';
import { cpuTensor, type CpuTensor } from '../reference/cpu-tensor.js';
import { assertClose } from '../testing/index.js';
import { runTorch, torchAvailable, type TorchCase, type TorchResult } from '../../test-fixtures/torch.js';

const TOL = { rtol: 1e-5, atol: 1e-30 };
const inf = Infinity;

/** Edge inputs for unary ops: non-finite, signed zeros, tiny, huge, and ordinary values either side of the kinks. */
const EDGE = [NaN, inf, -inf, 0, -0, 1e-6, -1e-6, 1e-30, -1e-30, 3e38, -3e38, 1, -1, 2, -2, 0.5, -0.5, 20, -20, 100, -100];
/** Edge operands for binary ops: every pair (a from this list, b from this list). */
const EDGE2 = [NaN, inf, -inf, 0, -0, 1e-6, 3e38, -3e38, 1, -1, 2, -2, 0.5, -0.5, 3, -3, 2.5];

interface EdgeCase {
  id: string;
  fn: string;
  params?: Record<string, unknown>;
  a: number[];
  aShape: number[];
  b?: number[];
  /** Compare the input gradients (upstream gradient 1.5 everywhere) too. */
  grad: boolean;
  /** Tolerance where TOL's does not fit (softmax: its gradient under a constant upstream one is 0 up to rounding). */
  tol?: { rtol: number; atol: number };
  gpu: (a: Tensor, b: Tensor | undefined) => Tensor;
  twin: (a: CpuTensor, b: CpuTensor | undefined) => CpuTensor;
}

const cases: EdgeCase[] = [];
const unaryCase = (fn: string, gpu: (a: Tensor) => Tensor, twin: (a: CpuTensor) => CpuTensor, params: Record<string, unknown> = {}) =>
  cases.push({ id: fn, fn, params, a: EDGE, aShape: [EDGE.length], grad: true, gpu: (a) => gpu(a), twin: (a) => twin(a) });

unaryCase('neg', neg, ref.neg);
unaryCase('exp', exp, ref.exp);
unaryCase('log', log, ref.log);
unaryCase('sqrt', sqrt, ref.sqrt);
unaryCase('rsqrt', rsqrt, ref.rsqrt);
unaryCase('abs', abs, ref.abs);
unaryCase('relu', relu, ref.relu);
unaryCase('leakyRelu', (a) => leakyRelu(a, 0.1), (a) => ref.leakyRelu(a, 0.1), { p0: 0.1 });
unaryCase('sigmoid', sigmoid, ref.sigmoid);
unaryCase('tanh', tanh, ref.tanh);
for (const p of [-1, -2, -0.5, 0.5, 2, 3, 0]) unaryCase(`powScalar`, (a) => pow(a, p), (a) => ref.pow(a, p), { p0: p });
unaryCase('addScalar', (a) => add(a, 2.5), (a) => ref.add(a, 2.5), { p0: 2.5 });
unaryCase('mulScalar', (a) => mul(a, -1.5), (a) => ref.mul(a, -1.5), { p0: -1.5 });
unaryCase('rsubScalar', (a) => sub(2, a), (a) => ref.sub(2, a), { p0: 2 });
unaryCase('rdivScalar', (a) => div(3, a), (a) => ref.div(3, a), { p0: 3 });
unaryCase('clamp', (a) => clamp(a, -0.5, 0.5), (a) => ref.clamp(a, -0.5, 0.5), { p0: -0.5, p1: 0.5 });

const pairs = { a: EDGE2.flatMap((x) => EDGE2.map(() => x)), b: EDGE2.flatMap(() => EDGE2) };
const binaryCase = (fn: string, gpu: (a: Tensor, b: Tensor) => Tensor, twin: (a: CpuTensor, b: CpuTensor) => CpuTensor, grad = true) =>
  cases.push({ id: fn, fn, a: pairs.a, aShape: [pairs.a.length], b: pairs.b, grad, gpu: (a, b) => gpu(a, b!), twin: (a, b) => twin(a, b!) });

binaryCase('add', add, ref.add);
binaryCase('sub', sub, ref.sub);
binaryCase('mul', mul, ref.mul);
binaryCase('div', div, ref.div);
binaryCase('maximum', maximum, ref.maximum);
binaryCase('minimum', minimum, ref.minimum);
binaryCase('pow', pow, ref.pow);
for (const cmp of ['eq', 'ne', 'lt', 'le', 'gt', 'ge'] as const) binaryCase(cmp, (a, b) => compare(cmp, a, b), (a, b) => ref.compare(cmp, a, b), false);

// Reductions: the issue's rows (a NaN first, in the middle, none), infinities, huge values. No
// row or column ties at its max or min: ties split the gradient evenly here (as torch.amax)
// while torch.max(x, dim) gives it all to the first; reduce.test.ts covers ties.
const ROWS = [
  [1, NaN, 3, 2],
  [NaN, -1, -2, -3],
  [1.5, 2, 3.5, 4],
  [-inf, -7, -6, -5],
  [inf, 1, -inf, 2.5],
  [3e38, 3.2e38, -1, 0],
  [-0, 0.25, -0.5, 0.5],
];
const rowData = ROWS.flat();
const reduceCase = (fn: string, axis: number | undefined, gpu: (a: Tensor, ax?: number) => Tensor, twin: (a: CpuTensor, ax?: number) => CpuTensor, grad = true) =>
  cases.push({
    ...(fn.endsWith('oftmax') ? { tol: { rtol: 1e-5, atol: 1e-6 } } : {}),
    id: `${fn} axis ${axis}`,
    fn,
    params: { axis: axis ?? null },
    a: rowData,
    aShape: [ROWS.length, 4],
    grad,
    gpu: (a) => gpu(a, axis),
    twin: (a) => twin(a, axis),
  });
for (const axis of [1, 0]) {
  reduceCase('sum', axis, sum, ref.sum);
  reduceCase('mean', axis, mean, ref.mean);
  reduceCase('max', axis, max, ref.max);
  reduceCase('min', axis, min, ref.min);
  reduceCase('argmax', axis, argmax, ref.argmax, false);
  reduceCase('argmin', axis, argmin, ref.argmin, false);
  reduceCase('softmax', axis, (a, ax) => softmax(a, ax), (a, ax) => ref.softmax(a, ax));
  reduceCase('logSoftmax', axis, (a, ax) => logSoftmax(a, ax), (a, ax) => ref.logSoftmax(a, ax));
}
// Whole-tensor max/min with two NaNs: PyTorch splits the gradient between them.
for (const fn of ['max', 'min'] as const) {
  cases.push({
    id: `${fn} of all, two NaNs`,
    fn,
    params: { axis: null },
    a: [1, NaN, 3, NaN, -inf, inf],
    aShape: [6],
    grad: true,
    gpu: (a) => (fn === 'max' ? max(a) : min(a)),
    twin: (a) => (fn === 'max' ? ref.max(a) : ref.min(a)),
  });
}

const f32 = (v: number[]) => Float32Array.from(v);
const GRAD = 1.5;

const torch = await torchAvailable();
if (!torch.ok) console.warn(`[edge-values.test] ${torch.reason}`);

interface Ours {
  y: ArrayLike<number>;
  grads: Record<string, ArrayLike<number>>;
  twin: ArrayLike<number>;
}

async function runOurs(c: EdgeCase): Promise<Ours> {
  const a = tensor(f32(c.a), c.aShape).requireGrad();
  const b = c.b ? tensor(f32(c.b), c.aShape).requireGrad() : undefined;
  const y = c.gpu(a, b);
  const out: Ours = { y: await y.toArray(), grads: {}, twin: ref.denseData(c.twin(cpuTensor(f32(c.a), c.aShape), c.b ? cpuTensor(f32(c.b), c.aShape) : undefined)) };
  if (c.grad) {
    y.backward({ grad: tensor(new Float32Array(y.size).fill(GRAD), y.shape) });
    out.grads.a = await a.grad!.toArray();
    if (b) out.grads.b = await b.grad!.toArray();
  }
  return out;
}

const label = (c: EdgeCase) => `${c.id}${c.params && 'p0' in c.params ? ` p=${c.params.p0}` : ''}`;

describe('edge values: GPU vs CPU twin', () => {
  beforeAll(async () => {
    await initDevice();
  });
  // Not sum/mean: their twins accumulate in float64 by design, so a row of huge values that
  // overflows in f32 (as in PyTorch, compared below) does not in the twin.
  for (const c of cases.filter((k) => k.fn !== 'sum' && k.fn !== 'mean')) {
    it(label(c), async () => {
      const o = await runOurs(c);
      assertClose(o.y, o.twin, c.tol ?? TOL, [o.y.length], `${label(c)} vs twin`);
    });
  }
});

describe.skipIf(!torch.ok)(`edge values: GPU vs PyTorch (${torch.reason}, float32)`, () => {
  let theirs: Map<string, TorchResult>;
  const ours = new Map<EdgeCase, Ours>();
  const key = (c: EdgeCase, i: number) => `${i}:${label(c)}`;

  beforeAll(async () => {
    await initDevice();
    for (const c of cases) ours.set(c, await runOurs(c));
    const tc: TorchCase[] = cases.map((c, i) => ({
      id: key(c, i),
      op: 'elementwise',
      params: { fn: c.fn, ...c.params },
      inputs: { a: { data: f32(c.a), shape: c.aShape }, ...(c.b ? { b: { data: f32(c.b), shape: c.aShape } } : {}) },
      grad: c.grad ? { data: new Float32Array(ours.get(c)!.y.length).fill(GRAD), shape: [ours.get(c)!.y.length] } : undefined,
    }));
    theirs = await runTorch(tc);
  }, 300_000);

  cases.forEach((c, i) => {
    it(label(c), () => {
      const t = theirs.get(key(c, i))!;
      const o = ours.get(c)!;
      const inputsAt = (k: number) => (c.b ? `(${c.a[k]}, ${c.b[k]})` : `${c.a[k]}`);
      const isReduction = c.params !== undefined && 'axis' in c.params;
      const failures: string[] = [];
      const check = (name: string, got: ArrayLike<number>, want: ArrayLike<number>) => {
        for (let k = 0; k < want.length; k++) {
          try {
            assertClose([got[k]!], [want[k]!], c.tol ?? TOL);
          } catch {
            failures.push(`${name} at ${isReduction ? `[${k}]` : inputsAt(k)}: got ${got[k]}, PyTorch ${want[k]}`);
          }
        }
      };
      check('y', o.y, t.y!.data);
      for (const [n, g] of Object.entries(o.grads)) check(`grad_${n}`, g, t[`grad_${n}`]!.data);
      expect(failures, `${label(c)}: ${failures.length} value(s) differ from PyTorch\n  ${failures.slice(0, 30).join('\n  ')}`).toEqual([]);
    });
  });
});
