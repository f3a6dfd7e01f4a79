import { beforeAll, describe, expect, it } from 'vitest';
import { initDevice, tensor, type Tensor } from '../../../index.js';
import { runPoolBackward, runPoolForward, type PoolGeometry } from './kernel.js';
import { adaptiveAvgPool2d, adaptiveMaxPool2d, avgPool2d, maxPool2d } from '../index.js';
import { pool2dBackwardRef, pool2dRef, poolOutSize, type PoolRefGeometry } from '../../../reference/nn/index.js';
import { numel } from '../../../shape.js';
import { assertClose, dot, kernelsDispatched, normal, numericGrad } from '../../../testing/index.js';

beforeAll(async () => {
  await initDevice();
});

type Kind = 'max' | 'avg';
interface PoolCase {
  name: string;
  kind: Kind;
  shape: [number, number, number, number];
  kernel?: [number, number];
  stride?: [number, number];
  padding?: [number, number];
  out?: [number, number];
  countIncludePad?: boolean;
}

function geometry(c: PoolCase): PoolRefGeometry {
  const [N, H, W, C] = c.shape;
  if (c.out) return { N, H, W, C, OH: c.out[0], OW: c.out[1], adaptive: true };
  const k = c.kernel!;
  const s = c.stride ?? k;
  const p = c.padding ?? [0, 0];
  return { N, H, W, C, OH: poolOutSize(H, k[0], s[0], p[0]), OW: poolOutSize(W, k[1], s[1], p[1]), kernel: k, stride: s, padding: p, adaptive: false, countIncludePad: c.countIncludePad ?? true };
}

function apply(c: PoolCase, x: Tensor): Tensor {
  if (c.out) return c.kind === 'max' ? adaptiveMaxPool2d(x, c.out) : adaptiveAvgPool2d(x, c.out);
  const opts = { kernel: c.kernel!, stride: c.stride, padding: c.padding };
  return c.kind === 'max' ? maxPool2d(x, opts) : avgPool2d(x, { ...opts, countIncludePad: c.countIncludePad });
}

/** The pooling kernels fn dispatched, in order (null where the device cannot profile). */
const poolKernelsRun = (fn: () => Promise<void>) => kernelsDispatched(fn, (n) => n.includes('pool2d'));

/** The forward then the backward ran, each at the width expected (true: the _v4 kernel). */
function expectWidths(names: string[] | null, fwdV4: boolean, bwdV4: boolean): void {
  if (!names) return;
  expect(names.map((n) => n.replace(/^.*_(fwd|bwd)/, '$1'))).toEqual([fwdV4 ? 'fwd_v4' : 'fwd', bwdV4 ? 'bwd_v4' : 'bwd']);
}

async function gpuPool(c: PoolCase, x: Float32Array, g: Float32Array) {
  let res!: { shape: number[]; y: Float32Array; dx: Float32Array };
  const names = await poolKernelsRun(async () => {
    const xt = tensor(x, c.shape).requireGrad();
    const y = apply(c, xt);
    y.backward({ grad: tensor(g, y.shape) });
    res = { shape: [...y.shape], y: (await y.toArray()) as Float32Array, dx: (await xt.grad!.toArray()) as Float32Array };
    xt.grad!.dispose();
    xt.dispose();
    y.dispose();
  });
  return { ...res, names };
}

const POOL_CASES: PoolCase[] = [
  { name: 'max 3×3 s2 p1 (ResNet stem) on odd 17×17, C=8', kind: 'max', shape: [2, 17, 17, 8], kernel: [3, 3], stride: [2, 2], padding: [1, 1] },
  { name: 'max 3×3 s2 p1 on even 16×16, C=64', kind: 'max', shape: [2, 16, 16, 64], kernel: [3, 3], stride: [2, 2], padding: [1, 1] },
  { name: 'max 3×3 s2 p1 on odd 9×11, C=3', kind: 'max', shape: [2, 9, 11, 3], kernel: [3, 3], stride: [2, 2], padding: [1, 1] },
  { name: 'max 2×2 (stride = kernel), batch 1, C=3, odd 7×9', kind: 'max', shape: [1, 7, 9, 3], kernel: [2, 2] },
  { name: 'max 2×2 s2 (Darknet), C=16, 8×10, batch 3', kind: 'max', shape: [3, 8, 10, 16], kernel: [2, 2] },
  { name: 'max 3×3 s3 (tiled, odd trailing rows) on 10×11, C=5', kind: 'max', shape: [2, 10, 11, 5], kernel: [3, 3], stride: [3, 3] },
  { name: 'max 3×3 s3 (tiled, odd trailing rows) on 10×11, C=8', kind: 'max', shape: [2, 10, 11, 8], kernel: [3, 3], stride: [3, 3] },
  { name: 'max 5×5 s1 p2 (padding 2), C=5', kind: 'max', shape: [2, 6, 7, 5], kernel: [5, 5], stride: [1, 1], padding: [2, 2] },
  { name: 'max 5×5 s1 p2 (padding 2), C=4', kind: 'max', shape: [2, 6, 7, 4], kernel: [5, 5], stride: [1, 1], padding: [2, 2] },
  { name: 'max 3×2 kernel, stride [1,2], padding [1,0], C=7', kind: 'max', shape: [1, 5, 8, 7], kernel: [3, 2], stride: [1, 2], padding: [1, 0] },
  { name: 'max 3×2 kernel, stride [1,2], padding [1,0], C=12', kind: 'max', shape: [1, 5, 8, 12], kernel: [3, 2], stride: [1, 2], padding: [1, 0] },
  { name: 'avg 3×3 s2 p1 on odd 9×11, C=6 (count_include_pad)', kind: 'avg', shape: [2, 9, 11, 6], kernel: [3, 3], stride: [2, 2], padding: [1, 1] },
  { name: 'avg 3×3 s2 p1 on odd 9×11, C=8 (count_include_pad)', kind: 'avg', shape: [2, 9, 11, 8], kernel: [3, 3], stride: [2, 2], padding: [1, 1] },
  { name: 'avg 2×2 s2 on 8×8, C=16', kind: 'avg', shape: [3, 8, 8, 16], kernel: [2, 2] },
  { name: 'avg 2×2 s2 on odd 7×9, C=5', kind: 'avg', shape: [2, 7, 9, 5], kernel: [2, 2] },
  { name: 'avg 5×5 s1 p2, C=5, batch 1', kind: 'avg', shape: [1, 6, 7, 5], kernel: [5, 5], stride: [1, 1], padding: [2, 2] },
  { name: 'avg 5×5 s1 p2, C=12, batch 1', kind: 'avg', shape: [1, 6, 7, 12], kernel: [5, 5], stride: [1, 1], padding: [2, 2] },
  { name: 'avg 3×2 kernel, stride [1,2], padding [1,0], C=4', kind: 'avg', shape: [2, 5, 8, 4], kernel: [3, 2], stride: [1, 2], padding: [1, 0] },
  { name: 'avg 3×3 s2 p1 excluding padding, C=3', kind: 'avg', shape: [2, 7, 7, 3], kernel: [3, 3], stride: [2, 2], padding: [1, 1], countIncludePad: false },
  { name: 'avg 3×3 s2 p1 excluding padding, C=4', kind: 'avg', shape: [2, 7, 7, 4], kernel: [3, 3], stride: [2, 2], padding: [1, 1], countIncludePad: false },
  { name: 'adaptive avg 7×7 → 1×1, C=64 (fastai head)', kind: 'avg', shape: [2, 7, 7, 64], out: [1, 1] },
  { name: 'adaptive max 7×7 → 1×1, C=64 (fastai head)', kind: 'max', shape: [2, 7, 7, 64], out: [1, 1] },
  { name: 'adaptive avg 7×7 → 1×1, C=5', kind: 'avg', shape: [2, 7, 7, 5], out: [1, 1] },
  { name: 'adaptive max 7×7 → 1×1, C=3', kind: 'max', shape: [2, 7, 7, 3], out: [1, 1] },
  { name: 'adaptive avg 7×5 → 3×2 (overlapping bins), C=5', kind: 'avg', shape: [2, 7, 5, 5], out: [3, 2] },
  { name: 'adaptive avg 7×5 → 3×2 (overlapping bins), C=8', kind: 'avg', shape: [2, 7, 5, 8], out: [3, 2] },
  { name: 'adaptive max 7×5 → 3×4 (overlapping bins), C=5', kind: 'max', shape: [2, 7, 5, 5], out: [3, 4] },
  { name: 'adaptive max 7×5 → 3×4 (overlapping bins), C=8', kind: 'max', shape: [2, 7, 5, 8], out: [3, 4] },
  { name: 'adaptive avg 3×3 → 5×4 (upsampling bins), batch 1, C=3', kind: 'avg', shape: [1, 3, 3, 3], out: [5, 4] },
  { name: 'adaptive max 4×6 → 4×6 (identity bins), C=2', kind: 'max', shape: [1, 4, 6, 2], out: [4, 6] },
  { name: 'adaptive avg 5×6 → 1×4 (one bin down, overlapping across), C=7', kind: 'avg', shape: [2, 5, 6, 7], out: [1, 4] },
  { name: 'adaptive avg 5×6 → 1×4 (one bin down, overlapping across), C=8', kind: 'avg', shape: [2, 5, 6, 8], out: [1, 4] },
  { name: 'adaptive max 6×5 → 3×1 (one bin across), C=4', kind: 'max', shape: [1, 6, 5, 4], out: [3, 1] },
  { name: 'adaptive max 6×5 → 3×1 (one bin across), C=6', kind: 'max', shape: [1, 6, 5, 6], out: [3, 1] },
];

describe('pooling vs the float64 CPU twin (forward and input gradient)', () => {
  POOL_CASES.forEach((c, k) => {
    it(c.name, async () => {
      const geo = geometry(c);
      const x = normal(numel(c.shape), 500 + k);
      const g = normal(geo.N * geo.OH * geo.OW * geo.C, 900 + k);
      const r = await gpuPool(c, x, g);
      expect(r.shape).toEqual([geo.N, geo.OH, geo.OW, geo.C]);
      // Dense tensors (offset 0): the width follows C alone.
      expectWidths(r.names, geo.C % 4 === 0, geo.C % 4 === 0);
      const ref = pool2dRef(c.kind, x, geo);
      const dx = pool2dBackwardRef(c.kind, g, geo, ref.idx);
      // Max is exact (a selection); averages divide once: 1e-6 relative.
      assertClose(r.y, ref.y, { atol: c.kind === 'max' ? 0 : 1e-6, rtol: 1e-6 }, 'y');
      assertClose(r.dx, dx, { atol: c.kind === 'max' ? 1e-6 : 1e-6, rtol: 1e-6 }, 'dx');
    });
  });
});

describe('max pooling with a NaN or a tie in one channel only (C = 8: vec4 components; C = 6: scalar): it stays in that channel', () => {
  /**
   * Distinct random values, except: channel 1 (and 5) is rounded to {-1, 0, 1}, so its
   * windows are full of ties; channel 2 (and 6) is NaN at every 5th pixel; channel 3 is NaN
   * in the upstream gradient at every 3rd output. Every other channel must come out as if
   * its neighbours were ordinary: the twin compares all of them exactly.
   */
  const cases: PoolCase[] = [
    { name: '3×3 s2 p1 (unrolled forward and backward)', kind: 'max', shape: [2, 9, 10, 8], kernel: [3, 3], stride: [2, 2], padding: [1, 1] },
    { name: '2×2 s2 (tiled backward)', kind: 'max', shape: [2, 8, 9, 8], kernel: [2, 2] },
    { name: '5×5 s1 p2 (looped forward)', kind: 'max', shape: [1, 6, 7, 8], kernel: [5, 5], stride: [1, 1], padding: [2, 2] },
    { name: 'adaptive 9×7 → 4×3 (overlapping bins)', kind: 'max', shape: [2, 9, 7, 8], out: [4, 3] },
  ];
  for (const C of [8, 6]) cases.forEach((c0, k) => {
    const c: PoolCase = { ...c0, shape: [c0.shape[0], c0.shape[1], c0.shape[2], C] };
    it(`${c.name}, C=${C}`, async () => {
      const geo = geometry(c);
      const x = normal(numel(c.shape), 300 + k);
      for (let i = 0; i < x.length; i++) {
        const ch = i % C;
        if (ch % 4 === 1) x[i] = Math.round(x[i]!);
        if (ch % 4 === 2 && Math.floor(i / C) % 5 === 0) x[i] = NaN;
      }
      const g = normal(geo.N * geo.OH * geo.OW * C, 400 + k);
      for (let o = 3; o < g.length; o += 3 * C) g[o] = NaN;
      const r = await gpuPool(c, x, g);
      expectWidths(r.names, C === 8, C === 8);
      const ref = pool2dRef('max', x, geo);
      expect(ref.y.some(Number.isNaN)).toBe(true);
      assertClose(r.y, ref.y, { atol: 0, rtol: 0 }, 'y');
      assertClose(r.dx, pool2dBackwardRef('max', g, geo, ref.idx), { atol: 1e-6, rtol: 1e-6 }, 'dx');
    });
  });
});

describe('pooling kernel width: vec4 when C and the offset a kernel adds are multiples of 4, scalar otherwise', () => {
  /** The kernels' geometry for a test case. */
  function kernelGeometry(c: PoolCase): PoolGeometry {
    const r = geometry(c);
    const [kh, kw] = r.kernel ?? [0, 0];
    const [sh, sw] = r.stride ?? [1, 1];
    const [ph, pw] = r.padding ?? [0, 0];
    return { N: r.N, H: r.H, W: r.W, C: r.C, OH: r.OH, OW: r.OW, kh, kw, sh, sw, ph, pw, adaptive: r.adaptive, countIncludePad: r.countIncludePad ?? true };
  }
  /** A buffer holding data after `off` filler elements (99: wrong if read). */
  const at = (data: Float32Array, off: number) => tensor(Float32Array.from({ length: data.length + off }, (_, i) => (i < off ? 99 : data[i - off]!)), [data.length + off]);

  const cases: PoolCase[] = [
    { name: 'max 3×3 s2 p1, C=8', kind: 'max', shape: [2, 9, 10, 8], kernel: [3, 3], stride: [2, 2], padding: [1, 1] },
    { name: 'max 2×2 s2 (tiled), C=8', kind: 'max', shape: [2, 8, 9, 8], kernel: [2, 2] },
    { name: 'adaptive max 7×5 → 3×4, C=8', kind: 'max', shape: [2, 7, 5, 8], out: [3, 4] },
    { name: 'avg 3×3 s2 p1, C=8', kind: 'avg', shape: [2, 9, 10, 8], kernel: [3, 3], stride: [2, 2], padding: [1, 1] },
  ];
  // x at xOff (the forward's offset), the upstream gradient at gOff (the backward's).
  const offsets: [number, number][] = [[0, 0], [1, 0], [0, 2], [4, 8]];
  for (const c of cases) {
    for (const [xOff, gOff] of offsets) {
      it(`${c.name}, x at ${xOff}, g at ${gOff}: forward ${xOff % 4 ? 'scalar' : '_v4'}, backward ${gOff % 4 ? 'scalar' : '_v4'}`, async () => {
        const geo = kernelGeometry(c);
        const nx = numel(c.shape);
        const ny = geo.N * geo.OH * geo.OW * geo.C;
        const x = normal(nx, 50 + xOff);
        const g = normal(ny, 60 + gOff);
        const xb = at(x, xOff);
        const gb = at(g, gOff);
        const y = tensor(new Float32Array(ny), [ny]);
        const idx = tensor(new Int32Array(ny), [ny], 'i32');
        const dx = tensor(new Float32Array(nx), [nx]);
        const max = c.kind === 'max';
        let out!: { y: ArrayLike<number>; idx: ArrayLike<number>; dx: ArrayLike<number> };
        const names = await poolKernelsRun(async () => {
          runPoolForward(c.kind, geo, xb.buffer, xOff, y.buffer, max ? idx.buffer : null);
          runPoolBackward(c.kind, geo, gb.buffer, gOff, max ? idx.buffer : null, dx.buffer);
          out = { y: await y.toArray(), idx: await idx.toArray(), dx: await dx.toArray() };
        });
        for (const t of [xb, gb, y, idx, dx]) t.dispose();
        expectWidths(names, xOff % 4 === 0, gOff % 4 === 0);
        const ref = pool2dRef(c.kind, x, geometry(c));
        assertClose(out.y, ref.y, { atol: max ? 0 : 1e-6, rtol: 1e-6 }, 'y');
        // The argmax, flat h·W + w per channel, whichever width wrote it.
        if (max) expect(Array.from(out.idx)).toEqual(Array.from(ref.idx));
        assertClose(out.dx, pool2dBackwardRef(c.kind, g, geometry(c), ref.idx), { atol: 1e-6, rtol: 1e-6 }, 'dx');
      });
    }
  }
});

describe('pooling on tall inputs (N·rows beyond one dispatch: launched in slabs)', () => {
  for (const kind of ['max', 'avg'] as const) {
    it(`${kind} 2×1 on [1, 70001, 1, 2]`, async () => {
      const c: PoolCase = { name: '', kind, shape: [1, 70001, 1, 2], kernel: [2, 1], stride: [1, 1] };
      const geo = geometry(c);
      const x = normal(numel(c.shape), 41);
      const g = normal(geo.N * geo.OH * geo.OW * geo.C, 42);
      const r = await gpuPool(c, x, g);
      const ref = pool2dRef(kind, x, geo);
      assertClose(r.y, ref.y, { atol: 1e-6, rtol: 1e-6 }, 'y');
      assertClose(r.dx, pool2dBackwardRef(kind, g, geo, ref.idx), { atol: 1e-6, rtol: 1e-6 }, 'dx');
    });
  }
});

describe('pooling gradients vs finite differences of the float64 twin', () => {
  const tiny: PoolCase[] = [
    { name: 'max 3×3 s2 p1 on [1,5,5,2]', kind: 'max', shape: [1, 5, 5, 2], kernel: [3, 3], stride: [2, 2], padding: [1, 1] },
    { name: 'avg 3×3 s2 p1 on [2,5,4,2]', kind: 'avg', shape: [2, 5, 4, 2], kernel: [3, 3], stride: [2, 2], padding: [1, 1] },
    { name: 'adaptive avg 5×3 → 2×2 on [1,5,3,3]', kind: 'avg', shape: [1, 5, 3, 3], out: [2, 2] },
    { name: 'adaptive max 5×3 → 3×2 on [1,5,3,3]', kind: 'max', shape: [1, 5, 3, 3], out: [3, 2] },
  ];
  tiny.forEach((c, k) => {
    it(c.name, async () => {
      const geo = geometry(c);
      const x = normal(numel(c.shape), 700 + k);
      const g = normal(geo.N * geo.OH * geo.OW * geo.C, 800 + k);
      const r = await gpuPool(c, x, g);
      const num = numericGrad((xv) => dot(pool2dRef(c.kind, xv, geo).y, g), x, 1e-6);
      assertClose(r.dx, num, { atol: 1e-5 * Math.max(1, ...num.map(Math.abs)), rtol: 0 }, 'dx (GPU vs numeric)');
    });
  });
});

describe('pooling errors', () => {
  const x = () => tensor(new Float32Array(2 * 4 * 5 * 3), [2, 4, 5, 3]);
  it('rejects a kernel larger than the padded input', () => {
    expect(() => maxPool2d(x(), { kernel: 7 })).toThrow(/maxPool2d: kernel \[7, 7\] is larger than the padded input: input \[2, 4, 5, 3\] \(H×W 4×5\) with padding \[0, 0\] is 4×5/);
    expect(() => avgPool2d(x(), { kernel: [3, 9], padding: 1 })).toThrow(/avgPool2d: kernel \[3, 9\] is larger than the padded input/);
  });
  it('rejects padding over half the kernel, bad sizes, wrong rank and dtype', () => {
    expect(() => maxPool2d(x(), { kernel: 3, padding: 2 })).toThrow(/maxPool2d: padding \[2, 2\] must be at most half the kernel \[3, 3\]/);
    expect(() => maxPool2d(x(), { kernel: 0 })).toThrow(/maxPool2d: kernel must be positive integers/);
    expect(() => avgPool2d(x(), { kernel: 2, stride: 1.5 })).toThrow(/avgPool2d: stride must be positive integers/);
    expect(() => maxPool2d(tensor(new Float32Array(12), [3, 4]), { kernel: 2 })).toThrow(/maxPool2d: expected an NHWC input \[N, H, W, C\] \(rank 4\), got shape \[3, 4\]/);
    expect(() => adaptiveAvgPool2d(tensor(new Float32Array(12), [1, 3, 4]), 1)).toThrow(/adaptiveAvgPool2d: expected an NHWC input .* got shape \[1, 3, 4\]/);
    expect(() => adaptiveMaxPool2d(x(), [0, 1])).toThrow(/adaptiveMaxPool2d: output size must be positive integers/);
    expect(() => maxPool2d(tensor(new Int32Array(4), [1, 2, 2, 1], 'i32'), { kernel: 2 })).toThrow(/maxPool2d: the input must be f32, got i32/);
  });
});
