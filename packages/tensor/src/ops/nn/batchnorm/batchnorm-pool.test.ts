import { beforeAll, describe, expect, it } from 'vitest';
import { initDevice, leakyRelu, queueStats, relu, reshape, slice, tensor, type Tensor } from '../../../index.js';
import { batchNorm2d, batchNormMaxPool2d, maxPool2d, type BatchNormMaxPoolOptions } from '../index.js';
import { batchNormMaxPoolBackwardRef, batchNormMaxPoolRef } from '../../../reference/nn/index.js';
import { numel } from '../../../shape.js';
import { assertClose, dot, expectAffineGradsNumeric, kernelsDispatched, normal } from '../../../testing/index.js';

beforeAll(async () => {
  await initDevice();
});

const maxAbs = (a: ArrayLike<number>) => Array.from(a).reduce((m, v) => Math.max(m, Math.abs(v)), 0);

interface Data {
  x: Float32Array;
  w: Float32Array | null;
  b: Float32Array | null;
  rm: Float32Array | null;
  rv: Float32Array | null;
  g: Float32Array;
}

function data(shape: number[], seed: number, affine = true, running = true): Data {
  const [N, H, W, C] = shape as [number, number, number, number];
  return {
    x: normal(numel(shape), seed),
    w: affine ? normal(C, seed + 1, 1, 0.5) : null,
    b: affine ? normal(C, seed + 2, 0, 0.5) : null,
    rm: running ? normal(C, seed + 3, 0, 0.2) : null,
    rv: running ? Float32Array.from(normal(C, seed + 4), (v) => 0.5 + Math.abs(v)) : null,
    g: normal(N * (H >> 1) * (W >> 1) * C, seed + 5),
  };
}

/** The fused op (or, with `unfused`, batchNorm2d → activation → maxPool2d) with autograd: outputs, grads, running stats. */
async function run(shape: number[], d: Data, opts: BatchNormMaxPoolOptions, unfused = false) {
  const C = shape[3]!;
  const [N, H, W] = shape as [number, number, number];
  const xt = tensor(d.x, shape).requireGrad();
  const wt = d.w ? tensor(d.w, [C]).requireGrad() : null;
  const bt = d.b ? tensor(d.b, [C]).requireGrad() : null;
  const rmt = d.rm ? tensor(d.rm, [C]) : null;
  const rvt = d.rv ? tensor(d.rv, [C]) : null;
  const before = queueStats().dispatches;
  let y: Tensor;
  const made: Tensor[] = [];
  if (unfused) {
    let a = batchNorm2d(xt, wt, bt, rmt, rvt, { training: opts.training, momentum: opts.momentum, eps: opts.eps });
    made.push(a);
    const act = opts.activation ?? 'none';
    if (act === 'relu') made.push((a = relu(a)));
    else if (act !== 'none') made.push((a = leakyRelu(a, act.leaky)));
    y = maxPool2d(a, { kernel: 2, stride: 2 });
  } else {
    y = batchNormMaxPool2d(xt, wt, bt, rmt, rvt, opts);
  }
  const fwdDispatches = queueStats().dispatches - before;
  y.backward({ grad: tensor(d.g, [N, H >> 1, W >> 1, C]) });
  const res = {
    y: await y.toArray(),
    dx: await xt.grad!.toArray(),
    dw: wt ? await wt.grad!.toArray() : null,
    db: bt ? await bt.grad!.toArray() : null,
    rm: rmt ? await rmt.toArray() : null,
    rv: rvt ? await rvt.toArray() : null,
    fwdDispatches,
    shape: y.shape,
  };
  for (const t of [xt, wt, bt, rmt, rvt, y, ...made, xt.grad, wt?.grad, bt?.grad]) (t as Tensor | null | undefined)?.dispose();
  return res;
}

function twin(shape: number[], d: Data, opts: BatchNormMaxPoolOptions) {
  const [N, H, W, C] = shape as [number, number, number, number];
  const M = N * H * W;
  const ref = batchNormMaxPoolRef({ x: d.x, N, H, W, M, C, weight: d.w, bias: d.b, runningMean: d.rm, runningVar: d.rv, training: !!opts.training, momentum: opts.momentum, eps: opts.eps, activation: opts.activation });
  return { M, ref, bw: batchNormMaxPoolBackwardRef(d.g, d.x, M, C, d.w, ref) };
}

type Run = Awaited<ReturnType<typeof run>>;

/** The names of the bn_* kernels fn dispatched, where the adapter can profile; null elsewhere. */
const bnKernelsRun = (fn: () => Promise<void>) => kernelsDispatched(fn, (n) => n.startsWith('bn_'));

function checkTwin(r: Run, t: ReturnType<typeof twin>): void {
  assertClose(r.y, t.ref.pooled, { atol: 3e-5, rtol: 1e-4 }, 'y');
  assertClose(r.dx, t.bw.dx, { atol: 1e-4 * Math.max(1, maxAbs(t.bw.dx)), rtol: 1e-4 }, 'dx');
  if (r.dw) assertClose(r.dw, t.bw.dweight, { atol: 1e-5 * Math.max(1, maxAbs(t.bw.dweight)) * Math.sqrt(t.M), rtol: 1e-4 }, 'dweight');
  if (r.db) assertClose(r.db, t.bw.dbias, { atol: 1e-5 * Math.max(1, maxAbs(t.bw.dbias)) * Math.sqrt(t.M), rtol: 1e-4 }, 'dbias');
  if (r.rm) {
    assertClose(r.rm, t.ref.runningMean!, { atol: 1e-5, rtol: 1e-5 }, 'runningMean');
    assertClose(r.rv!, t.ref.runningVar!, { atol: 1e-5, rtol: 1e-4 }, 'runningVar');
  }
}

const CASES: [string, number[], BatchNormMaxPoolOptions, { affine?: boolean; running?: boolean }?][] = [
  ['LeakyReLU(0.1), C=3, even H/W', [2, 6, 8, 3], { training: true, activation: { leaky: 0.1 } }],
  ['ReLU, batch 1, C=13, odd H and W (last row and column dropped)', [1, 5, 7, 13], { training: true, activation: 'relu' }],
  ['LeakyReLU(-0.5) (the max is over act(z), not z), odd H', [2, 7, 4, 5], { training: true, activation: { leaky: -0.5 } }],
  ['no activation, many chunks, momentum 0.3, C=70 (two channel tiles)', [4, 16, 18, 70], { training: true, momentum: 0.3 }],
  ['ReLU, no affine, no running stats, 2×2 input', [3, 2, 2, 5], { training: true, activation: 'relu' }, { affine: false, running: false }],
  ['LeakyReLU(0.1), batch 1, 3×3 input (one window, five leftovers)', [1, 3, 3, 1], { training: true, activation: { leaky: 0.1 } }],
  ['eval (running stats) + ReLU, odd W', [2, 4, 5, 3], { training: false, activation: 'relu', eps: 1e-3 }],
  // C a multiple of 4: the vec4 (_v4) kernels (per-channel argmax in a vector).
  ['vec4: ReLU, batch 1, C=8, odd H and W', [1, 5, 7, 8], { training: true, activation: 'relu' }],
  ['vec4: LeakyReLU(-0.5), C=12, odd H', [2, 7, 4, 12], { training: true, activation: { leaky: -0.5 } }],
  ['vec4: no activation, many chunks, momentum 0.3, C=20', [4, 16, 18, 20], { training: true, momentum: 0.3 }],
  ['vec4: LeakyReLU(0.1), batch 1, 3×3 input, C=4', [1, 3, 3, 4], { training: true, activation: { leaky: 0.1 } }],
  ['vec4: eval (running stats) + ReLU, odd W, C=4', [2, 4, 5, 4], { training: false, activation: 'relu', eps: 1e-3 }],
];

describe('batchNormMaxPool2d vs the float64 CPU twin', () => {
  CASES.forEach(([name, shape, opts, o], k) => {
    it(name, async () => {
      const d = data(shape, 700 + 10 * k, o?.affine ?? true, o?.running ?? true);
      const r = await run(shape, d, opts);
      expect(r.shape).toEqual([shape[0], shape[1]! >> 1, shape[2]! >> 1, shape[3]]);
      checkTwin(r, twin(shape, d, opts));
    });
  });

  for (const C0 of [3, 8]) {
    it(`breaks ties like maxPool2d: the first maximum in row-major order gets the gradient (C=${C0})`, async () => {
      // In every window, the top-left value is copied to the top-right and bottom-left: exact ties in z.
      const shape = [2, 4, 6, C0];
      const [N, H, W, C] = shape as [number, number, number, number];
      const d = data(shape, 800 + C0);
      const at = (n: number, h: number, w: number, c: number) => ((n * H + h) * W + w) * C + c;
      for (let n = 0; n < N; n++)
        for (let h = 0; h < H; h += 2)
          for (let w = 0; w < W; w += 2)
            for (let c = 0; c < C; c++) d.x[at(n, h, w + 1, c)] = d.x[at(n, h + 1, w, c)] = d.x[at(n, h, w, c)]!;
      const opts: BatchNormMaxPoolOptions = { training: true, activation: { leaky: 0.1 } };
      const r = await run(shape, d, opts);
      const u = await run(shape, d, opts, true);
      const t = twin(shape, d, opts);
      checkTwin(r, t);
      assertClose(r.y, u.y, { atol: 0, rtol: 0 }, 'y vs unfused');
      assertClose(r.dx, u.dx, { atol: 1e-5, rtol: 0 }, 'dx vs unfused');
      // Routing a tie to its second element instead is caught.
      const second = t.ref.argmax.map((i) => ((((i / C) | 0) % W) % 2 === 0 && d.x[i + C] === d.x[i] ? i + C : i));
      expect(second.some((v, o) => v !== t.ref.argmax[o])).toBe(true);
      expect(() => checkTwin(r, { ...t, bw: batchNormMaxPoolBackwardRef(d.g, d.x, t.M, C, d.w, { ...t.ref, argmax: second }) })).toThrow();
    });
  }

  it('catches a planted error: a gradient routed to the wrong element, or the leftovers left out', async () => {
    const shape = [2, 5, 5, 3];
    const opts: BatchNormMaxPoolOptions = { training: true, activation: { leaky: 0.1 } };
    const d = data(shape, 820);
    const r = await run(shape, d, opts);
    const t = twin(shape, d, opts);
    checkTwin(r, t);
    const wrongArg = { ...t, ref: { ...t.ref, argmax: t.ref.argmax.map((i) => i + 3) } };
    const bwWrong = batchNormMaxPoolBackwardRef(d.g, d.x, t.M, 3, d.w, wrongArg.ref);
    expect(() => checkTwin(r, { ...t, bw: bwWrong })).toThrow();
    const noLeftovers = Float64Array.from(t.bw.dx, (v, i) => (Math.floor(i / 3 / 5) % 5 === 4 ? 0 : v));
    expect(() => checkTwin(r, { ...t, bw: { ...t.bw, dx: noLeftovers } })).toThrow();
    const planted = { ...r, y: Float32Array.from(r.y, (v, i) => (i === 5 ? v + 1e-3 : v)) };
    expect(() => checkTwin(planted, t)).toThrow();
  });
});

describe('batchNormMaxPool2d propagates NaN like maxPool2d', () => {
  for (const C0 of [3, 8]) {
    it(`a NaN in one window of one channel gives NaN there and nowhere else (eval statistics, C=${C0})`, async () => {
      const shape = [1, 4, 4, C0];
      const [, , W, C] = shape as [number, number, number, number];
      const d = data(shape, 900 + C0);
      // Channel 1, the bottom-right element of window (0, 1): x at (1, 3).
      d.x[(1 * W + 3) * C + 1] = Number.NaN;
      const opts: BatchNormMaxPoolOptions = { training: false, activation: 'none' };
      const r = await run(shape, d, opts);
      const u = await run(shape, d, opts, true);
      const nan = Array.from(r.y as Float32Array, (v, i) => (Number.isNaN(v) ? i : -1)).filter((i) => i >= 0);
      expect(nan, 'NaN exactly at window (0, 1), channel 1').toEqual([(0 * 2 + 1) * C + 1]);
      expect(Array.from(u.y as Float32Array, Number.isNaN)).toEqual(Array.from(r.y as Float32Array, Number.isNaN));
      assertClose((r.y as Float32Array).map((v) => (Number.isNaN(v) ? 0 : v)), (u.y as Float32Array).map((v) => (Number.isNaN(v) ? 0 : v)), { atol: 0, rtol: 0 }, 'y vs unfused outside the NaN');
    });
  }
});

describe('batchNormMaxPool2d kernel width', () => {
  it('x at an offset of 1 element (C = 8): scalar kernels, same results; dense: _v4', async () => {
    const shape = [2, 5, 6, 8];
    const opts: BatchNormMaxPoolOptions = { training: true, activation: { leaky: 0.1 } };
    const d = data(shape, 860);
    const t = twin(shape, d, opts);
    for (const o of [1, 0]) {
      const n = numel(shape);
      const base = tensor(Float32Array.from({ length: n + o }, (_, i) => (i < o ? 99 : d.x[i - o]!)), [n + o]).requireGrad();
      const xv = reshape(slice(base, 0, o), shape);
      expect(xv.offset).toBe(o);
      const w = tensor(d.w!, [8]).requireGrad();
      const b = tensor(d.b!, [8]).requireGrad();
      const rm = tensor(d.rm!, [8]);
      const rv = tensor(d.rv!, [8]);
      let r!: Run;
      const names = await bnKernelsRun(async () => {
        const y = batchNormMaxPool2d(xv, w, b, rm, rv, opts);
        y.backward({ grad: tensor(d.g, y.shape) });
        r = { y: await y.toArray(), dx: (await base.grad!.toArray()).slice(o), dw: await w.grad!.toArray(), db: await b.grad!.toArray(), rm: await rm.toArray(), rv: await rv.toArray(), fwdDispatches: 0, shape: y.shape };
        y.dispose();
      });
      for (const x of [base, xv, w, b, rm, rv, base.grad, w.grad, b.grad]) x?.dispose();
      checkTwin(r, t);
      const v4 = o === 0 ? '_v4' : '';
      if (names) {
        const perElement = names.filter((k) => !/^bn_(finalize|grad_finalize)/.test(k)).sort();
        expect(perElement).toEqual([`bn_apply_pool_leaky${v4}`, `bn_dx_pool_leaky${v4}`, `bn_partial_grads_pool_leaky${v4}`, `bn_partial_stats${v4}`]);
      }
    }
  });
});

describe('batchNormMaxPool2d vs batchNorm2d → activation → maxPool2d', () => {
  const cases: [string, number[], BatchNormMaxPoolOptions][] = [
    ['LeakyReLU(0.1), odd H/W', [2, 7, 9, 6], { training: true, activation: { leaky: 0.1 } }],
    ['ReLU, Darknet-like [2,16,16,16]', [2, 16, 16, 16], { training: true, activation: 'relu' }],
  ];
  cases.forEach(([name, shape, opts], k) => {
    it(`${name}: same results, and the forward has 3 dispatches (statistics, finalize, apply + pool)`, async () => {
      const d = data(shape, 900 + 10 * k);
      const r = await run(shape, d, opts);
      const u = await run(shape, d, opts, true);
      assertClose(r.y, u.y, { atol: 0, rtol: 0 }, 'y');
      assertClose(r.dx, u.dx, { atol: 1e-5 * Math.max(1, maxAbs(u.dx)), rtol: 1e-4 }, 'dx');
      assertClose(r.dw!, u.dw!, { atol: 1e-4 * Math.max(1, maxAbs(u.dw!)), rtol: 1e-4 }, 'dweight');
      assertClose(r.db!, u.db!, { atol: 1e-4 * Math.max(1, maxAbs(u.db!)), rtol: 1e-4 }, 'dbias');
      assertClose(r.rm!, u.rm!, { atol: 0, rtol: 0 }, 'runningMean');
      assertClose(r.rv!, u.rv!, { atol: 0, rtol: 0 }, 'runningVar');
      expect(r.fwdDispatches).toBe(3);
    });
  });
});

describe('batchNormMaxPool2d gradients vs finite differences of the float64 twin', () => {
  const cases: [string, number[], BatchNormMaxPoolOptions][] = [
    ['LeakyReLU(0.1) [2,4,4,3]', [2, 4, 4, 3], { training: true, activation: { leaky: 0.1 } }],
    ['ReLU, batch 1, odd H/W [1,5,3,2]', [1, 5, 3, 2], { training: true, activation: 'relu' }],
    ['eval, no activation, odd W [1,2,5,3]', [1, 2, 5, 3], { training: false }],
  ];
  cases.forEach(([name, shape, opts], k) => {
    it(name, async () => {
      const [N, H, W, C] = shape as [number, number, number, number];
      const d = data(shape, 950 + 10 * k);
      const r = await run(shape, d, opts);
      const loss = (x: ArrayLike<number>, w: ArrayLike<number>, b: ArrayLike<number>) =>
        dot(batchNormMaxPoolRef({ x, N, H, W, M: N * H * W, C, weight: w, bias: b, runningMean: d.rm, runningVar: d.rv, training: !!opts.training, activation: opts.activation }).pooled, d.g);
      const { nx } = expectAffineGradsNumeric(r, loss, d.x, d.w!, d.b!);
      const bw = twin(shape, d, opts).bw;
      assertClose(bw.dx, nx, { atol: 1e-7 * Math.max(1, maxAbs(nx)), rtol: 0 }, 'dx (twin)');
    });
  });
});

describe('batchNormMaxPool2d errors', () => {
  it('names the op and the shapes', () => {
    expect(() => batchNormMaxPool2d(tensor(normal(12, 1), [3, 4]), null, null, null, null, { training: true })).toThrow(/batchNormMaxPool2d.*rank 4/);
    expect(() => batchNormMaxPool2d(tensor(normal(6, 1), [1, 1, 3, 2]), null, null, null, null, { training: true })).toThrow(/batchNormMaxPool2d.*1×3/);
  });
});
