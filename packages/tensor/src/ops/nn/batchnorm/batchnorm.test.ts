import { beforeAll, describe, expect, it } from 'vitest';
import { add, initDevice, leakyRelu, queueStats, relu, reshape, slice, tensor, type Tensor } from '../../../index.js';
import { batchNorm1d, batchNorm2d, batchNormFold, type BatchNormOptions } from '../index.js';
import { batchNormBackwardRef, batchNormFoldRef, batchNormRef } from '../../../reference/nn/index.js';
import { numel } from '../../../shape.js';
import { assertClose, dot, expectAffineGradsNumeric, kernelsDispatched, normal, numericGrad } from '../../../testing/index.js';

beforeAll(async () => {
  await initDevice();
});

const maxAbs = (a: ArrayLike<number>) => Array.from(a).reduce((m, v) => Math.max(m, Math.abs(v)), 0);

interface BnCase {
  shape: number[];
  affine?: boolean;
  running?: boolean;
  opts: BatchNormOptions;
  mean?: number;
  std?: number;
  /** Adds a residual [shape] before the activation (opts.residual, made from the seed). */
  residual?: boolean;
}

/** Runs batch norm on the GPU with autograd; returns outputs, grads (the residual's too) and the running stats after. */
async function gpuBn(shape: number[], x: Float32Array, w: Float32Array | null, b: Float32Array | null, rm: Float32Array | null, rv: Float32Array | null, g: Float32Array, opts: BatchNormOptions, r: Float32Array | null = null) {
  const C = shape[shape.length - 1]!;
  const xt = tensor(x, shape).requireGrad();
  const wt = w ? tensor(w, [C]).requireGrad() : null;
  const bt = b ? tensor(b, [C]).requireGrad() : null;
  const rt = r ? tensor(r, shape).requireGrad() : null;
  const rmt = rm ? tensor(rm, [C]) : null;
  const rvt = rv ? tensor(rv, [C]) : null;
  const fn = shape.length === 4 ? batchNorm2d : batchNorm1d;
  const y = fn(xt, wt, bt, rmt, rvt, { ...opts, residual: rt });
  y.backward({ grad: tensor(g, shape) });
  const res = {
    y: await y.toArray(),
    dx: await xt.grad!.toArray(),
    dw: wt ? await wt.grad!.toArray() : null,
    db: bt ? await bt.grad!.toArray() : null,
    dr: rt ? await rt.grad!.toArray() : null,
    rm: rmt ? await rmt.toArray() : null,
    rv: rvt ? await rvt.toArray() : null,
  };
  for (const t of [xt, wt, bt, rt, rmt, rvt, y, xt.grad, wt?.grad, bt?.grad, rt?.grad]) (t as Tensor | null | undefined)?.dispose();
  return res;
}

function inputs(c: BnCase, seed: number) {
  const C = c.shape[c.shape.length - 1]!;
  const n = numel(c.shape);
  return {
    x: normal(n, seed, c.mean ?? 0, c.std ?? 1),
    w: c.affine === false ? null : normal(C, seed + 1, 1, 0.5),
    b: c.affine === false ? null : normal(C, seed + 2, 0, 0.5),
    rm: c.running === false ? null : normal(C, seed + 3, c.mean ?? 0, 0.2),
    rv: c.running === false ? null : Float32Array.from(normal(C, seed + 4), (v) => 0.5 + Math.abs(v) * (c.std ?? 1) ** 2),
    g: normal(n, seed + 5),
    r: c.residual ? normal(n, seed + 6, 0.1, 0.8) : null,
  };
}

const CASES: [string, BnCase][] = [
  ['2d training, C=3, odd H/W', { shape: [2, 5, 7, 3], opts: { training: true } }],
  ['2d training, ResNet-like [4,8,8,64]', { shape: [4, 8, 8, 64], opts: { training: true } }],
  ['2d training, many chunks, ragged last chunk (M=189)', { shape: [3, 7, 9, 6], opts: { training: true, momentum: 0.3 } }],
  ['2d training, M=2048 over 128 chunks, C=70 (two channel tiles)', { shape: [8, 16, 16, 70], opts: { training: true } }],
  ['2d training, large mean / small std (cancellation)', { shape: [2, 9, 9, 5], opts: { training: true }, mean: 100, std: 0.05 }],
  ['2d training, no affine, no running stats', { shape: [2, 3, 3, 5], affine: false, running: false, opts: { training: true } }],
  ['2d eval', { shape: [2, 5, 7, 3], opts: { training: false, eps: 1e-3 } }],
  ['2d eval, batch 1', { shape: [1, 3, 5, 7], opts: { training: false } }],
  ['2d eval without running stats uses batch stats', { shape: [2, 3, 3, 4], running: false, opts: { training: false } }],
  ['1d training [16, 10]', { shape: [16, 10], opts: { training: true } }],
  ['1d training [2, 513] (M=2)', { shape: [2, 513], opts: { training: true } }],
  ['1d eval [5, 7]', { shape: [5, 7], opts: { training: false } }],
  // With the fused activation: odd channel counts, batch 1, M not a multiple of the chunk size.
  ['2d training + LeakyReLU(0.1), C=3, odd H/W', { shape: [2, 5, 7, 3], opts: { training: true, activation: { leaky: 0.1 } } }],
  ['2d training + ReLU, batch 1, C=13, M=35 (ragged last chunk)', { shape: [1, 5, 7, 13], opts: { training: true, activation: 'relu' } }],
  ['2d training + LeakyReLU(0.2), M=189 over many chunks, momentum 0.3', { shape: [3, 7, 9, 6], opts: { training: true, momentum: 0.3, activation: { leaky: 0.2 } } }],
  ['2d training + ReLU, M=2048, C=70 (two channel tiles)', { shape: [8, 16, 16, 70], opts: { training: true, activation: 'relu' } }],
  ['2d training + LeakyReLU, large mean / small std', { shape: [2, 9, 9, 5], opts: { training: true, activation: { leaky: 0.1 } }, mean: 100, std: 0.05 }],
  ['2d training + ReLU, no affine, no running stats', { shape: [2, 3, 3, 5], affine: false, running: false, opts: { training: true, activation: 'relu' } }],
  ['2d training + LeakyReLU with a negative slope (the mask is z > 0, not y > 0)', { shape: [2, 4, 3, 7], opts: { training: true, activation: { leaky: -0.5 } } }],
  ['2d eval + ReLU, batch 1 (running stats: the mask alone needs x)', { shape: [1, 3, 5, 7], opts: { training: false, activation: 'relu' } }],
  ['2d eval + LeakyReLU(0.1), eps 1e-3', { shape: [2, 5, 7, 3], opts: { training: false, eps: 1e-3, activation: { leaky: 0.1 } } }],
  ['1d training + LeakyReLU(0.01) [16, 10]', { shape: [16, 10], opts: { training: true, activation: { leaky: 0.01 } } }],
  ['1d training + ReLU [2, 513] (M=2)', { shape: [2, 513], opts: { training: true, activation: 'relu' } }],
  // With a residual added before the activation (a ResNet block's last BatchNorm).
  ['2d training + residual + ReLU, C=3, odd H/W', { shape: [2, 5, 7, 3], residual: true, opts: { training: true, activation: 'relu' } }],
  ['2d training + residual + ReLU, batch 1, C=13, M=35 (ragged last chunk)', { shape: [1, 5, 7, 13], residual: true, opts: { training: true, activation: 'relu' } }],
  ['2d training + residual + LeakyReLU(0.2), M=189 over many chunks, momentum 0.3', { shape: [3, 7, 9, 6], residual: true, opts: { training: true, momentum: 0.3, activation: { leaky: 0.2 } } }],
  ['2d training + residual + ReLU, M=2048, C=70 (two channel tiles)', { shape: [8, 16, 16, 70], residual: true, opts: { training: true, activation: 'relu' } }],
  ['2d training + residual + LeakyReLU(-0.5) (the mask is z + r > 0, not y > 0)', { shape: [2, 4, 3, 7], residual: true, opts: { training: true, activation: { leaky: -0.5 } } }],
  ['2d training + residual + LeakyReLU, large mean / small std', { shape: [2, 9, 9, 5], residual: true, opts: { training: true, activation: { leaky: 0.1 } }, mean: 100, std: 0.05 }],
  ['2d training + residual, no activation (dr = g), C=5', { shape: [3, 7, 9, 5], residual: true, opts: { training: true } }],
  ['2d training + residual + ReLU, no affine, no running stats', { shape: [2, 3, 3, 5], residual: true, affine: false, running: false, opts: { training: true, activation: 'relu' } }],
  ['2d eval + residual + ReLU, batch 1 (running stats: bn_dx reads only g\')', { shape: [1, 3, 5, 7], residual: true, opts: { training: false, activation: 'relu' } }],
  ['2d eval + residual, no activation, eps 1e-3', { shape: [2, 5, 7, 3], residual: true, opts: { training: false, eps: 1e-3 } }],
  ['1d training + residual + ReLU [2, 513] (M=2)', { shape: [2, 513], residual: true, opts: { training: true, activation: 'relu' } }],
  // C a multiple of 4: the vec4 (_v4) kernels, with few thread columns per workgroup tile (C/4 = 1, 2, 3, 5, 16).
  ['vec4: 2d training + ReLU, batch 1, C=8, odd H/W, M=35 (ragged last chunk)', { shape: [1, 5, 7, 8], opts: { training: true, activation: 'relu' } }],
  ['vec4: 2d training + LeakyReLU(-0.5), C=12, M=189 over many chunks, momentum 0.3', { shape: [3, 7, 9, 12], opts: { training: true, momentum: 0.3, activation: { leaky: -0.5 } } }],
  ['vec4: 2d training, C=20, large mean / small std', { shape: [2, 9, 9, 20], opts: { training: true }, mean: 100, std: 0.05 }],
  ['vec4: 2d training + ReLU, C=64, M=2048 over 128 chunks', { shape: [8, 16, 16, 64], opts: { training: true, activation: 'relu' } }],
  ['vec4: 2d training + residual + ReLU, C=4, odd H/W', { shape: [2, 5, 7, 4], residual: true, opts: { training: true, activation: 'relu' } }],
  ['vec4: 2d training + residual + LeakyReLU(-0.5), C=20, M=189', { shape: [3, 7, 9, 20], residual: true, opts: { training: true, activation: { leaky: -0.5 } } }],
  ['vec4: 2d training + residual, no activation, C=8', { shape: [3, 7, 9, 8], residual: true, opts: { training: true } }],
  ['vec4: 2d training + ReLU, no affine, no running stats, C=4', { shape: [2, 3, 3, 4], affine: false, running: false, opts: { training: true, activation: 'relu' } }],
  ['vec4: 2d eval + LeakyReLU(0.1), C=12, eps 1e-3', { shape: [2, 5, 7, 12], opts: { training: false, eps: 1e-3, activation: { leaky: 0.1 } } }],
  ['vec4: 2d eval + residual + ReLU, batch 1, C=8', { shape: [1, 3, 5, 8], residual: true, opts: { training: false, activation: 'relu' } }],
  ['vec4: 1d training + residual + ReLU [2, 516] (M=2, C/4 = 129: three tiles)', { shape: [2, 516], residual: true, opts: { training: true, activation: 'relu' } }],
  ['vec4: 1d eval [5, 8]', { shape: [5, 8], opts: { training: false } }],
];

type GpuBn = Awaited<ReturnType<typeof gpuBn>>;

/** Throws unless the GPU results match the twin's (forward, backward, running stats). */
function checkTwin(r: GpuBn, ref: ReturnType<typeof batchNormRef>, bw: ReturnType<typeof batchNormBackwardRef>, M: number): void {
  // y is O(1): absolute 3e-5 plus 1e-4 relative; sums over M rows scale with the reference's magnitude.
  assertClose(r.y, ref.y, { atol: 3e-5, rtol: 1e-4 }, 'y');
  assertClose(r.dx, bw.dx, { atol: 1e-4 * Math.max(1, maxAbs(bw.dx)), rtol: 1e-4 }, 'dx');
  if (r.dw) assertClose(r.dw, bw.dweight, { atol: 1e-5 * Math.max(1, maxAbs(bw.dweight)) * Math.sqrt(M), rtol: 1e-4 }, 'dweight');
  if (r.db) assertClose(r.db, bw.dbias, { atol: 1e-5 * Math.max(1, maxAbs(bw.dbias)) * Math.sqrt(M), rtol: 1e-4 }, 'dbias');
  // g·act'(z): g itself or g·slope, rounded once in f32.
  if (r.dr) assertClose(r.dr, bw.dresidual, { atol: 1e-6, rtol: 1e-6 }, 'dresidual');
  if (r.rm) {
    assertClose(r.rm, ref.runningMean!, { atol: 1e-5 * Math.max(1, maxAbs(ref.runningMean!)), rtol: 1e-5 }, 'runningMean');
    assertClose(r.rv!, ref.runningVar!, { atol: 1e-5, rtol: 1e-4 }, 'runningVar');
  }
}

/** The twin's forward and backward for a case's inputs. */
function twin(c: BnCase, d: ReturnType<typeof inputs>, opts: BatchNormOptions = c.opts) {
  const C = c.shape[c.shape.length - 1]!;
  const M = numel(c.shape) / C;
  const ref = batchNormRef({ x: d.x, M, C, weight: d.w, bias: d.b, runningMean: d.rm, runningVar: d.rv, training: !!opts.training, momentum: opts.momentum, eps: opts.eps, activation: opts.activation, residual: d.r });
  return { M, ref, bw: batchNormBackwardRef(d.g, d.x, M, C, d.w, ref) };
}

describe('batchNorm vs the float64 CPU twin', () => {
  CASES.forEach(([name, c], k) => {
    it(name, async () => {
      const d = inputs(c, 100 + 10 * k);
      const r = await gpuBn(c.shape, d.x, d.w, d.b, d.rm, d.rv, d.g, c.opts, d.r);
      const { M, ref, bw } = twin(c, d);
      checkTwin(r, ref, bw, M);
    });
  });

  it('catches a planted error in the residual: dropped forward, dropped from the mask, or a wrong dr', async () => {
    const c: BnCase = { shape: [2, 5, 7, 3], residual: true, opts: { training: true, activation: 'relu' } };
    const d = inputs(c, 410);
    const r = await gpuBn(c.shape, d.x, d.w, d.b, d.rm, d.rv, d.g, c.opts, d.r);
    const right = twin(c, d);
    checkTwin(r, right.ref, right.bw, right.M);
    // The twin without the residual: y differs; its backward (the mask of bn(x) alone) gives another dx.
    const noRes = twin(c, { ...d, r: null });
    expect(() => checkTwin(r, noRes.ref, right.bw, right.M)).toThrow(/^y:/);
    expect(() => checkTwin(r, right.ref, noRes.bw, right.M)).toThrow(/^dx:/);
    // The right dx, dweight and dbias with one element of dr off by 1e-3: only the residual's check fails.
    const dresidual = right.bw.dresidual.map((v, i) => (i === 17 ? v + 1e-3 : v));
    expect(() => checkTwin(r, right.ref, { ...right.bw, dresidual }, right.M)).toThrow(/^dresidual: .*\n {2}worst at \[17\]/);
  });

  it('a strided residual (a permuted view) gives what its dense copy gives, forward and backward', async () => {
    const [N, H, W, C] = [2, 3, 4, 5];
    const d = inputs({ shape: [N, H, W, C], opts: {} }, 430);
    const rData = normal(N * H * W * C, 431);
    const run = async (strided: boolean) => {
      const xt = tensor(d.x, [N, H, W, C]).requireGrad();
      // [N, W, H, C] permuted to [N, H, W, C]: a view whose gradient flows back through the permute.
      const base = tensor(rData, [N, W, H, C]).requireGrad();
      const rt = strided ? base.permute([0, 2, 1, 3]) : base.permute([0, 2, 1, 3]).contiguous();
      expect(rt.isContiguous).toBe(!strided);
      const y = batchNorm2d(xt, null, null, null, null, { training: true, activation: 'relu', residual: rt });
      y.backward({ grad: tensor(d.g, [N, H, W, C]) });
      const out = { y: await y.toArray(), dx: await xt.grad!.toArray(), dr: await base.grad!.toArray() };
      for (const t of [xt, base, rt, y, xt.grad, base.grad]) t?.dispose();
      return out;
    };
    const strided = await run(true);
    const dense = await run(false);
    for (const k of ['y', 'dx', 'dr'] as const) expect(Array.from(strided[k]), k).toEqual(Array.from(dense[k]));
  });

  it('gives the residual its gradient when x needs none, and x its gradient when the residual needs none', async () => {
    const c: BnCase = { shape: [2, 3, 5, 6], residual: true, affine: false, running: false, opts: { training: true, activation: { leaky: 0.1 } } };
    const d = inputs(c, 440);
    const { ref, bw } = twin(c, d);
    for (const which of ['x', 'residual'] as const) {
      const xt = tensor(d.x, c.shape);
      const rt = tensor(d.r!, c.shape);
      (which === 'x' ? rt : xt).requireGrad();
      const y = batchNorm2d(xt, null, null, null, null, { ...c.opts, residual: rt });
      y.backward({ grad: tensor(d.g, c.shape) });
      assertClose(await y.toArray(), ref.y, { atol: 3e-5, rtol: 1e-4 }, 'y');
      if (which === 'x') {
        expect(xt.grad).toBeNull();
        assertClose(await rt.grad!.toArray(), bw.dresidual, { atol: 1e-6, rtol: 1e-6 }, 'dresidual');
      } else {
        expect(rt.grad).toBeNull();
        assertClose(await xt.grad!.toArray(), bw.dx, { atol: 1e-4 * Math.max(1, maxAbs(bw.dx)), rtol: 1e-4 }, 'dx');
      }
      for (const t of [xt, rt, y, xt.grad, rt.grad]) t?.dispose();
    }
  });

  it('catches a planted wrong slope or a missing mask, forward and backward', async () => {
    const c: BnCase = { shape: [2, 5, 7, 3], opts: { training: true, activation: { leaky: 0.1 } } };
    const d = inputs(c, 400);
    const r = await gpuBn(c.shape, d.x, d.w, d.b, d.rm, d.rv, d.g, c.opts);
    const right = twin(c, d);
    checkTwin(r, right.ref, right.bw, right.M);
    const wrongSlope = twin(c, d, { ...c.opts, activation: { leaky: 0.11 } });
    expect(() => checkTwin(r, wrongSlope.ref, right.bw, right.M)).toThrow(/^y:/);
    // The right forward with the backward of another slope, or of no activation: dx must differ.
    expect(() => checkTwin(r, right.ref, wrongSlope.bw, right.M)).toThrow(/^dx:/);
    const noMask = batchNormBackwardRef(d.g, d.x, right.M, 3, d.w, { ...right.ref, activation: 'none' });
    expect(() => checkTwin(r, right.ref, noMask, right.M)).toThrow(/^dx:/);
  });

  it('stays accurate when the first row (the shift) is a far outlier', async () => {
    const shape = [4, 6, 6, 3];
    const d = inputs({ shape, opts: { training: true } }, 77);
    d.x[0] = 1000;
    d.x[1] = -800;
    const r = await gpuBn(shape, d.x, d.w, d.b, d.rm, d.rv, d.g, { training: true });
    const ref = batchNormRef({ x: d.x, M: 144, C: 3, weight: d.w, bias: d.b, runningMean: d.rm, runningVar: d.rv, training: true });
    const bw = batchNormBackwardRef(d.g, d.x, 144, 3, d.w, ref);
    assertClose(r.y, ref.y, { atol: 3e-5 * maxAbs(ref.y), rtol: 1e-4 }, 'y');
    assertClose(r.dx, bw.dx, { atol: 1e-4 * Math.max(1, maxAbs(bw.dx)), rtol: 1e-4 }, 'dx');
    assertClose(r.rv!, ref.runningVar!, { atol: 0, rtol: 1e-5 }, 'runningVar');
  });

  it('takes strided views (an NCHW tensor permuted to NHWC) and gives the same result', async () => {
    const [N, C, H, W] = [2, 5, 3, 4];
    const xs = normal(N * C * H * W, 7);
    const nchw = tensor(xs, [N, C, H, W]);
    const view = nchw.permute([0, 2, 3, 1]);
    expect(view.isContiguous).toBe(false);
    const dense = view.contiguous();
    const y1 = await batchNorm2d(view, null, null, null, null, { training: true }).toArray();
    const y2 = await batchNorm2d(dense, null, null, null, null, { training: true }).toArray();
    expect(Array.from(y1)).toEqual(Array.from(y2));
  });

  it('updates the running stats in place, call after call (PyTorch momentum, unbiased variance)', async () => {
    const shape = [2, 3, 3, 4];
    const rm = tensor(new Float32Array(4));
    const rv = tensor(new Float32Array(4).fill(1));
    let refM: Float64Array = new Float64Array(4);
    let refV: Float64Array = new Float64Array(4).fill(1);
    for (let step = 0; step < 3; step++) {
      const x = normal(numel(shape), 50 + step, 1, 2);
      batchNorm2d(tensor(x, shape), null, null, rm, rv, { training: true, momentum: 0.25 }).dispose();
      const ref = batchNormRef({ x, M: 18, C: 4, runningMean: refM, runningVar: refV, training: true, momentum: 0.25 });
      refM = ref.runningMean!;
      refV = ref.runningVar!;
    }
    assertClose(await rm.toArray(), refM, { atol: 1e-5, rtol: 1e-5 }, 'runningMean');
    assertClose(await rv.toArray(), refV, { atol: 1e-5, rtol: 1e-5 }, 'runningVar');
  });

  it('leaves the running stats alone in eval', async () => {
    const rm = tensor([0.5, -0.5]);
    const rv = tensor([2, 3]);
    batchNorm1d(tensor(normal(8, 3), [4, 2]), null, null, rm, rv, { training: false }).dispose();
    expect(Array.from(await rm.toArray())).toEqual([0.5, -0.5]);
    expect(Array.from(await rv.toArray())).toEqual([2, 3]);
  });
});

/** The names of the bn_* kernels fn dispatched, where the adapter can profile; null elsewhere. */
const bnKernelsRun = (fn: () => Promise<void>) => kernelsDispatched(fn, (n) => n.startsWith('bn_'));

/** The per-element kernels (the O(C) finalize kernels have one width). */
const perElement = (names: string[]) => names.filter((n) => !/^bn_(finalize|grad_finalize)/.test(n));

describe('batchNorm kernel width: vec4 when C and every offset are multiples of 4, scalar otherwise', () => {
  const shape = [2, 5, 3, 8];
  const n = numel(shape);
  const opts: BatchNormOptions = { training: true, activation: { leaky: 0.1 } };
  /**
   * x, g and the residual as views at element offsets (offset 0: dense tensors); results and
   * the bn_* kernels run. (The engine copies the gradient seed, so g reaches the kernels dense.)
   */
  async function run(d: ReturnType<typeof inputs>, off: { x: number; g: number; r: number }) {
    const at = (data: Float32Array, o: number, grad: boolean) => {
      const base = tensor(Float32Array.from({ length: n + o }, (_, i) => (i < o ? 99 : data[i - o]!)), [n + o]);
      if (grad) base.requireGrad();
      return { base, view: reshape(slice(base, 0, o), shape) };
    };
    const x = at(d.x, off.x, true);
    const g = at(d.g, off.g, false);
    const r = at(d.r!, off.r, true);
    for (const [v, o] of [[x.view, off.x], [g.view, off.g], [r.view, off.r]] as const) {
      expect(v.isContiguous).toBe(true);
      expect(v.offset).toBe(o);
    }
    const w = tensor(d.w!, [8]).requireGrad();
    const b = tensor(d.b!, [8]).requireGrad();
    const rm = tensor(d.rm!, [8]);
    const rv = tensor(d.rv!, [8]);
    let out!: GpuBn;
    const names = await bnKernelsRun(async () => {
      const y = batchNorm2d(x.view, w, b, rm, rv, { ...opts, residual: r.view });
      y.backward({ grad: g.view });
      const tail = async (t: Tensor, o: number) => (await t.toArray()).slice(o);
      out = { y: await y.toArray(), dx: await tail(x.base.grad!, off.x), dw: await w.grad!.toArray(), db: await b.grad!.toArray(), dr: await tail(r.base.grad!, off.r), rm: await rm.toArray(), rv: await rv.toArray() };
      y.dispose();
    });
    for (const t of [x.base, x.view, g.base, g.view, r.base, r.view, w, b, rm, rv, x.base.grad, r.base.grad, w.grad, b.grad]) t?.dispose();
    return { out, names };
  }
  const c: BnCase = { shape, residual: true, opts };

  it('dense tensors with C = 8: every per-element kernel is a _v4 one', async () => {
    const d = inputs(c, 600);
    const { out, names } = await run(d, { x: 0, g: 0, r: 0 });
    const t = twin(c, d);
    checkTwin(out, t.ref, t.bw, t.M);
    if (names) {
      expect(perElement(names).sort()).toEqual(['bn_apply_res_leaky_v4', 'bn_dx_v4', 'bn_partial_grads_res_leaky_v4', 'bn_partial_stats_v4']);
    }
  });

  it('x at an offset of 1 element: scalar kernels throughout, same results', async () => {
    const d = inputs(c, 610);
    const { out, names } = await run(d, { x: 1, g: 0, r: 0 });
    const t = twin(c, d);
    checkTwin(out, t.ref, t.bw, t.M);
    if (names) expect(perElement(names).sort()).toEqual(['bn_apply_res_leaky', 'bn_dx', 'bn_partial_grads_res_leaky', 'bn_partial_stats']);
  });

  it('x and the residual at offsets of 4 and 8 elements: _v4 kernels, same results', async () => {
    const d = inputs(c, 620);
    const { out, names } = await run(d, { x: 4, g: 0, r: 8 });
    const t = twin(c, d);
    checkTwin(out, t.ref, t.bw, t.M);
    if (names) expect(perElement(names).sort()).toEqual(['bn_apply_res_leaky_v4', 'bn_dx_v4', 'bn_partial_grads_res_leaky_v4', 'bn_partial_stats_v4']);
  });

  it('the residual at an offset of 3: the kernels reading it are scalar', async () => {
    const d = inputs(c, 630);
    const { out, names } = await run(d, { x: 0, g: 0, r: 3 });
    const t = twin(c, d);
    checkTwin(out, t.ref, t.bw, t.M);
    // bn_dx reads x and dr (offset 0): it stays at width 4.
    if (names) expect(perElement(names).sort()).toEqual(['bn_apply_res_leaky', 'bn_dx_v4', 'bn_partial_grads_res_leaky', 'bn_partial_stats_v4']);
  });

  it('C = 6 (not a multiple of 4) at offset 0: scalar', async () => {
    const c6: BnCase = { shape: [2, 3, 3, 6], opts: { training: true, activation: 'relu' } };
    const d = inputs(c6, 640);
    let r!: GpuBn;
    const names = await bnKernelsRun(async () => {
      r = await gpuBn(c6.shape, d.x, d.w, d.b, d.rm, d.rv, d.g, c6.opts);
    });
    const t = twin(c6, d);
    checkTwin(r, t.ref, t.bw, t.M);
    if (names) expect(perElement(names).sort()).toEqual(['bn_apply_relu', 'bn_dx_relu', 'bn_partial_grads_relu', 'bn_partial_stats']);
  });
});

describe('batchNorm gradients vs finite differences of the float64 twin', () => {
  const cases: [string, number[], BatchNormOptions, { residual?: boolean }?][] = [
    ['2d training [2,3,3,5]', [2, 3, 3, 5], { training: true }],
    ['2d eval [1,3,2,3]', [1, 3, 2, 3], { training: false }],
    ['1d training [4,3]', [4, 3], { training: true }],
    ['2d training + LeakyReLU(0.1) [2,3,3,5]', [2, 3, 3, 5], { training: true, activation: { leaky: 0.1 } }],
    ['2d training + ReLU, batch 1 [1,3,5,3]', [1, 3, 5, 3], { training: true, activation: 'relu' }],
    ['2d eval + ReLU [1,3,2,3]', [1, 3, 2, 3], { training: false, activation: 'relu' }],
    ['1d training + LeakyReLU(0.2) [5,3]', [5, 3], { training: true, activation: { leaky: 0.2 } }],
    ['2d training + residual + ReLU, batch 1 [1,3,5,3]', [1, 3, 5, 3], { training: true, activation: 'relu' }, { residual: true }],
    ['2d training + residual + LeakyReLU(0.1) [2,3,3,5]', [2, 3, 3, 5], { training: true, activation: { leaky: 0.1 } }, { residual: true }],
    ['2d eval + residual + ReLU [1,3,2,3]', [1, 3, 2, 3], { training: false, activation: 'relu' }, { residual: true }],
    ['1d training + residual, no activation [5,3]', [5, 3], { training: true }, { residual: true }],
  ];
  cases.forEach(([name, shape, opts, extra], k) => {
    it(name, async () => {
      const C = shape[shape.length - 1]!;
      const M = numel(shape) / C;
      const d = inputs({ shape, opts, residual: extra?.residual }, 300 + 10 * k);
      const r = await gpuBn(shape, d.x, d.w, d.b, d.rm, d.rv, d.g, opts, d.r);
      const fwd = (x: ArrayLike<number>, w: ArrayLike<number>, b: ArrayLike<number>, residual: ArrayLike<number> | null) =>
        batchNormRef({ x, M, C, weight: w, bias: b, runningMean: d.rm, runningVar: d.rv, training: !!opts.training, activation: opts.activation, residual });
      const loss = (x: ArrayLike<number>, w: ArrayLike<number>, b: ArrayLike<number>, residual: ArrayLike<number> | null = d.r) => dot(fwd(x, w, b, residual).y, d.g);
      // GPU f32 autograd vs float64 central differences.
      const { nx, nw } = expectAffineGradsNumeric(r, (x, w, b) => loss(x, w, b), d.x, d.w!, d.b!);
      // The twin's analytic backward, in float64, agrees tightly.
      const bw = batchNormBackwardRef(d.g, d.x, M, C, d.w, fwd(d.x, d.w!, d.b!, d.r));
      assertClose(bw.dx, nx, { atol: 1e-7 * Math.max(1, maxAbs(nx)), rtol: 0 }, 'dx (twin)');
      assertClose(bw.dweight, nw, { atol: 1e-7 * Math.max(1, maxAbs(nw)), rtol: 0 }, 'dweight (twin)');
      if (d.r) {
        const nr = numericGrad((res) => loss(d.x, d.w!, d.b!, res), d.r);
        assertClose(r.dr!, nr, { atol: 2e-4 * Math.max(1, maxAbs(nr)), rtol: 0 }, 'dresidual (GPU)');
        assertClose(bw.dresidual, nr, { atol: 1e-7 * Math.max(1, maxAbs(nr)), rtol: 0 }, 'dresidual (twin)');
      }
    });
  });
});

describe('batchNorm with a fused activation vs BatchNorm then the activation op', () => {
  const acts: [string, BatchNormOptions['activation'], (t: Tensor) => Tensor][] = [
    ['ReLU', 'relu', (t) => relu(t)],
    ['LeakyReLU(0.1)', { leaky: 0.1 }, (t) => leakyRelu(t, 0.1)],
  ];
  for (const [name, activation, act] of acts) {
    it(`${name}: same output and gradients, and no dispatch of its own in either direction`, async () => {
      const shape = [3, 5, 3, 11];
      const C = 11;
      const d = inputs({ shape, opts: {} }, 500);
      const run = async (fused: boolean) => {
        const xt = tensor(d.x, shape).requireGrad();
        const wt = tensor(d.w!, [C]).requireGrad();
        const bt = tensor(d.b!, [C]).requireGrad();
        const before = queueStats().dispatches;
        let y: Tensor;
        if (fused) y = batchNorm2d(xt, wt, bt, null, null, { training: true, activation });
        else {
          const z = batchNorm2d(xt, wt, bt, null, null, { training: true });
          y = act(z);
          z.dispose();
        }
        y.backward({ grad: tensor(d.g, shape) });
        const dispatches = queueStats().dispatches - before;
        const out = { dispatches, y: await y.toArray(), dx: await xt.grad!.toArray(), dw: await wt.grad!.toArray(), db: await bt.grad!.toArray() };
        for (const t of [xt, wt, bt, y, xt.grad, wt.grad, bt.grad]) t?.dispose();
        return out;
      };
      const fused = await run(true);
      const layers = await run(false);
      // The same arithmetic in the same order: equal to rounding.
      for (const k of ['y', 'dx', 'dw', 'db'] as const) assertClose(fused[k], layers[k], { atol: 1e-6 * Math.max(1, maxAbs(layers[k])), rtol: 1e-6 }, k);
      // The activation forward and its backward are the two dispatches saved.
      expect(fused.dispatches).toBe(layers.dispatches - 2);
    });

    it(`${name} after a residual: act(bn(x) + r) as act(add(batchNorm(x), r)), gradients of x, γ, β and r; 4 dispatches fewer`, async () => {
      const shape = [2, 5, 3, 13];
      const C = 13;
      const d = inputs({ shape, opts: {}, residual: true }, 510);
      const run = async (fused: boolean) => {
        const xt = tensor(d.x, shape).requireGrad();
        const wt = tensor(d.w!, [C]).requireGrad();
        const bt = tensor(d.b!, [C]).requireGrad();
        const rt = tensor(d.r!, shape).requireGrad();
        const before = queueStats().dispatches;
        let y: Tensor;
        if (fused) y = batchNorm2d(xt, wt, bt, null, null, { training: true, activation, residual: rt });
        else {
          const z = batchNorm2d(xt, wt, bt, null, null, { training: true });
          const s = add(z, rt);
          y = act(s);
          z.dispose();
          s.dispose();
        }
        y.backward({ grad: tensor(d.g, shape) });
        const dispatches = queueStats().dispatches - before;
        const out = { dispatches, y: await y.toArray(), dx: await xt.grad!.toArray(), dw: await wt.grad!.toArray(), db: await bt.grad!.toArray(), dr: await rt.grad!.toArray() };
        for (const t of [xt, wt, bt, rt, y, xt.grad, wt.grad, bt.grad, rt.grad]) t?.dispose();
        return out;
      };
      const fused = await run(true);
      const layers = await run(false);
      for (const k of ['y', 'dx', 'dw', 'db', 'dr'] as const) assertClose(fused[k], layers[k], { atol: 1e-6 * Math.max(1, maxAbs(layers[k])), rtol: 1e-6 }, k);
      // Saved: the add and the activation forward; the activation's gradient and the copy
      // that gives add's two inputs their own gradient, backward.
      expect(fused.dispatches).toBe(layers.dispatches - 4);
    });
  }
});

describe('batchNormFold (eval-mode BatchNorm as scale and shift) vs the float64 twin', () => {
  for (const C of [1, 7, 64, 130]) {
    it(`C = ${C}, with and without a conv bias`, async () => {
      const w = normal(C, 31);
      const b = normal(C, 32);
      const rm = normal(C, 33);
      const rv = normal(C, 34).map((v) => v * v + 0.1);
      const cb = normal(C, 35);
      const t = (d: Float32Array) => tensor(d, [C]);
      const fold = await batchNormFold(t(w), t(b), t(rm), t(rv), 1e-3).toArray();
      assertClose(fold, batchNormFoldRef(w, b, rm, rv, 1e-3), { atol: 1e-5, rtol: 1e-5 }, 'fold');
      const withBias = await batchNormFold(t(w), t(b), t(rm), t(rv), 1e-5, t(cb)).toArray();
      assertClose(withBias, batchNormFoldRef(w, b, rm, rv, 1e-5, cb), { atol: 1e-5, rtol: 1e-5 }, 'fold with conv bias');
    });
  }
  it('rejects vectors of different lengths, naming the op', () => {
    const v = tensor([1, 2, 3], [3]);
    expect(() => batchNormFold(v, v, v, tensor([1, 2], [2]), 1e-5)).toThrow(/batchNormFold: expected vectors of 3 channels/);
  });
});

describe('batchNorm errors', () => {
  it('names the op and the shapes', () => {
    const x = tensor(new Float32Array(2 * 3 * 3 * 4), [2, 3, 3, 4]);
    expect(() => batchNorm2d(tensor(new Float32Array(12), [3, 4]), null, null, null, null)).toThrow(/batchNorm2d: expected an NHWC input \[N, H, W, C\] \(rank 4\), got shape \[3, 4\]/);
    expect(() => batchNorm1d(x, null, null, null, null)).toThrow(/batchNorm1d: expected an input \[N, C\] \(rank 2\), got shape \[2, 3, 3, 4\]/);
    expect(() => batchNorm2d(x, tensor(new Float32Array(3)), null, null, null)).toThrow(/batchNorm2d: weight has shape \[3\] but the input \[2, 3, 3, 4\] has 4 channels/);
    expect(() => batchNorm2d(x, null, null, tensor(new Float32Array(5)), tensor(new Float32Array(5)))).toThrow(/batchNorm2d: runningMean has shape \[5\]/);
    expect(() => batchNorm2d(x, null, null, tensor(new Float32Array(4)), null)).toThrow(/pass both runningMean and runningVar/);
    expect(() => batchNorm1d(tensor(new Float32Array(4), [1, 4]), null, null, null, null, { training: true })).toThrow(/batchNorm1d: expected more than 1 value per channel .* \[1, 4\]/);
    expect(() => batchNorm2d(tensor(new Int32Array(16), [1, 2, 2, 4], 'i32'), null, null, null, null)).toThrow(/batchNorm2d: the input must be f32, got i32/);
    expect(() => batchNorm2d(x, null, null, null, null, { activation: 'gelu' as 'relu' })).toThrow(/batchNorm2d: activation must be 'none', 'relu' or \{ leaky: slope \} with a finite slope, got "gelu"/);
    expect(() => batchNorm2d(x, null, null, null, null, { activation: { leaky: NaN } })).toThrow(/batchNorm2d: activation must be .* got \{"leaky":null\}/);
    expect(() => batchNorm2d(x, null, null, null, null, { residual: tensor(new Float32Array(2 * 3 * 3 * 5), [2, 3, 3, 5]) })).toThrow(
      /batchNorm2d: residual has shape \[2, 3, 3, 5\] but the input has shape \[2, 3, 3, 4\]; expected the same shape/,
    );
    // A broadcastable residual is refused too: the fused add does not broadcast.
    expect(() => batchNorm1d(tensor(new Float32Array(8), [2, 4]), null, null, null, null, { residual: tensor(new Float32Array(4), [1, 4]) })).toThrow(/batchNorm1d: residual has shape \[1, 4\] but the input has shape \[2, 4\]/);
    expect(() => batchNorm2d(x, null, null, null, null, { residual: tensor(new Int32Array(2 * 3 * 3 * 4), [2, 3, 3, 4], 'i32') })).toThrow(/batchNorm2d: the residual must be f32, got i32/);
  });
});
