import { beforeAll, describe, expect, it } from 'vitest';
import { initDevice, mul, sum, tensor } from '../../../index.js';
import { checkLabelErrors, softmaxCrossEntropy, type Reduction } from '../index.js';
import { softmaxCrossEntropyBackwardRef, softmaxCrossEntropyRef } from '../../../reference/nn/index.js';
import { assertClose, dot, ints, normal, numericGrad } from '../../../testing/index.js';

beforeAll(async () => {
  await initDevice();
});

async function gpuXent(N: number, C: number, z: Float32Array, y: Int32Array, reduction: Reduction, eps: number, g: Float32Array) {
  const zt = tensor(z, [N, C]).requireGrad();
  const loss = softmaxCrossEntropy(zt, tensor(y, [N], 'i32'), { reduction, labelSmoothing: eps });
  loss.backward({ grad: tensor(g, loss.shape) });
  return { shape: [...loss.shape], loss: await loss.toArray(), dz: await zt.grad!.toArray() };
}

const SHAPES: [number, number, number][] = [
  [1, 10, 1],
  [64, 37, 3],
  [5, 1000, 20],
  [300, 3, 1], // more rows than the 256-thread workgroup
  [4, 1, 1], // a single class
];

describe('softmaxCrossEntropy vs the float64 CPU twin', () => {
  for (const [N, C, std] of SHAPES) {
    for (const reduction of ['mean', 'sum', 'none'] as const) {
      for (const eps of [0, 0.1]) {
        it(`[${N}, ${C}] logits·${std}, ${reduction}, smoothing ${eps}`, async () => {
          const z = normal(N * C, N * 7 + C, 0, std);
          const y = ints(N, N + C, 0, C);
          const g = reduction === 'none' ? normal(N, 11) : Float32Array.of(1.5);
          const r = await gpuXent(N, C, z, y, reduction, eps, g);
          expect(r.shape).toEqual(reduction === 'none' ? [N] : []);
          const ref = softmaxCrossEntropyRef(z, y, N, C, reduction, eps);
          const dz = softmaxCrossEntropyBackwardRef(z, y, N, C, g, reduction, eps);
          // Losses: 2e-6 relative to the loss scale (log-sum-exp in f32); gradients 1e-6 absolute.
          const scale = Math.max(1, ...Array.from(ref.loss, Math.abs));
          assertClose(r.loss, ref.loss, { atol: 2e-6 * scale * (reduction === 'sum' ? Math.sqrt(N) : 1), rtol: 2e-6 }, 'loss');
          assertClose(r.dz, dz, { atol: 1e-6 * Math.max(1, ...Array.from(g, Math.abs)), rtol: 1e-5 }, 'dlogits');
        });
      }
    }
  }

  it('edge logits as PyTorch: −Inf off the target adds nothing, on it +Inf; +Inf and NaN give NaN rows', async () => {
    const rows = [[-Infinity, 2, 3], [1, 2, 3], [-Infinity, 2, 3], [Infinity, 2, 3], [-Infinity, -Infinity, -Infinity], [NaN, 1, 2]];
    const y = Int32Array.of(1, 2, 0, 1, 0, 1);
    const [N, C] = [rows.length, 3];
    const z = Float32Array.from(rows.flat());
    for (const eps of [0, 0.1]) {
      const g = new Float32Array(N).fill(1);
      const r = await gpuXent(N, C, z, y, 'none', eps, g);
      const ref = softmaxCrossEntropyRef(z, y, N, C, 'none', eps);
      assertClose(r.loss, ref.loss, { atol: 2e-6, rtol: 2e-6 }, `loss, smoothing ${eps}`);
      assertClose(r.dz, softmaxCrossEntropyBackwardRef(z, y, N, C, g, 'none', eps), { atol: 1e-6, rtol: 1e-5 }, `dlogits, smoothing ${eps}`);
      // The row: PyTorch's 1.3133, not NaN (without smoothing); finite gradients on the −Inf rows.
      if (eps === 0) expect(r.loss[0]).toBeCloseTo(Math.log(1 + Math.exp(1)), 5);
      expect(r.loss[2]).toBe(Infinity);
      expect(Array.from(r.dz.slice(0, 3 * C)).every(Number.isFinite)).toBe(true);
      expect([r.loss[3], r.loss[4], r.loss[5]].every(Number.isNaN)).toBe(true);
    }
  });

  it('is stable for huge logits (no inf/NaN)', async () => {
    const z = Float32Array.from([1e4, -1e4, 5e3, 0, 3e4, 3e4 - 1]);
    const r = await gpuXent(2, 3, z, Int32Array.of(1, 2), 'none', 0.1, Float32Array.of(1, 1));
    const ref = softmaxCrossEntropyRef(z, [1, 2], 2, 3, 'none', 0.1);
    assertClose(r.loss, ref.loss, { atol: 1e-3, rtol: 1e-6 }, 'loss');
    expect(r.dz.every(Number.isFinite)).toBe(true);
  });

  it('takes labels from the CPU (number[] / Int32Array), strided logits, and a strided per-sample gradient', async () => {
    const [N, C] = [6, 5];
    const z = normal(N * C, 3);
    const labels = [0, 4, 2, 2, 1, 3];
    const ref = softmaxCrossEntropyRef(z, labels, N, C, 'mean', 0);
    assertClose(await softmaxCrossEntropy(tensor(z, [N, C]), labels).toArray(), ref.loss, { atol: 1e-6, rtol: 1e-6 }, 'number[]');
    assertClose(await softmaxCrossEntropy(tensor(z, [N, C]), Int32Array.from(labels)).toArray(), ref.loss, { atol: 1e-6, rtol: 1e-6 }, 'Int32Array');
    // Logits stored [C, N] and transposed: a strided view.
    const zT = new Float32Array(N * C);
    for (let r = 0; r < N; r++) for (let c = 0; c < C; c++) zT[c * N + r] = z[r * C + c]!;
    const leaf = tensor(zT, [C, N]).requireGrad();
    const loss = softmaxCrossEntropy(leaf.transpose(), labels, { reduction: 'none' });
    // sum(loss · w) gives the 'none' backward a broadcast (stride-0) gradient through sum's backward.
    const total = sum(mul(loss, tensor([1, 2, 3, 4, 5, 6])));
    total.backward();
    const dz = softmaxCrossEntropyBackwardRef(z, labels, N, C, [1, 2, 3, 4, 5, 6], 'none', 0);
    const dzT = new Float64Array(N * C);
    for (let r = 0; r < N; r++) for (let c = 0; c < C; c++) dzT[c * N + r] = dz[r * C + c]!;
    assertClose(await loss.toArray(), ref.perSample, { atol: 1e-6, rtol: 1e-6 }, 'per-sample loss');
    assertClose(await leaf.grad!.toArray(), dzT, { atol: 1e-6, rtol: 1e-5 }, 'dlogits through the view');
    const plain = tensor(z, [N, C]).requireGrad();
    sum(softmaxCrossEntropy(plain, labels, { reduction: 'none' })).backward();
    assertClose(await plain.grad!.toArray(), softmaxCrossEntropyBackwardRef(z, labels, N, C, new Array(N).fill(1), 'none', 0), { atol: 1e-6, rtol: 1e-5 }, 'stride-0 gradient');
  });
});

describe('softmaxCrossEntropy gradients vs finite differences of the float64 twin', () => {
  for (const [reduction, eps] of [['mean', 0], ['sum', 0.2], ['none', 0.1]] as const) {
    it(`[3, 4], ${reduction}, smoothing ${eps}`, async () => {
      const z = normal(12, 40, 0, 2);
      const y = Int32Array.of(3, 0, 2);
      const g = reduction === 'none' ? normal(3, 41) : Float32Array.of(0.7);
      const r = await gpuXent(3, 4, z, y, reduction, eps, g);
      const num = numericGrad((zv) => dot(softmaxCrossEntropyRef(zv, y, 3, 4, reduction, eps).loss, g), z);
      assertClose(r.dz, num, { atol: 2e-6, rtol: 0 }, 'dlogits (GPU vs numeric)');
      assertClose(softmaxCrossEntropyBackwardRef(z, y, 3, 4, g, reduction, eps), num, { atol: 1e-8, rtol: 0 }, 'dlogits (twin vs numeric)');
    });
  }
});

describe('softmaxCrossEntropy errors', () => {
  const z = () => tensor(new Float32Array(12), [3, 4]);
  it('validates labels known on the CPU', () => {
    expect(() => softmaxCrossEntropy(z(), [0, 4, 1])).toThrow(/softmaxCrossEntropy: label 1 is 4, out of range for 4 classes \[0, 4\)/);
    expect(() => softmaxCrossEntropy(z(), [0, -1, 1])).toThrow(/softmaxCrossEntropy: label 1 is -1, out of range/);
    expect(() => softmaxCrossEntropy(z(), [0, 1.5, 1])).toThrow(/softmaxCrossEntropy: label 1 is 1.5, not an integer/);
    expect(() => softmaxCrossEntropy(z(), [0, 1])).toThrow(/softmaxCrossEntropy: got 2 labels for logits \[3, 4\]; expected 3/);
  });
  it('rejects f32 labels, wrong shapes and options, naming the op', () => {
    expect(() => softmaxCrossEntropy(z(), tensor([0, 1, 2]))).toThrow(/softmaxCrossEntropy: labels must be integer class indices \(an i32 tensor\), got an f32 tensor of shape \[3\]/);
    expect(() => softmaxCrossEntropy(z(), tensor([0, 1], [2], 'i32'))).toThrow(/softmaxCrossEntropy: labels have shape \[2\] but logits \[3, 4\] need labels \[3\]/);
    expect(() => softmaxCrossEntropy(tensor(new Float32Array(4)), [0])).toThrow(/softmaxCrossEntropy: expected logits \[N, C\] \(rank 2\), got shape \[4\]/);
    expect(() => softmaxCrossEntropy(z(), [0, 1, 2], { labelSmoothing: 1 })).toThrow(/labelSmoothing must be in \[0, 1\)/);
    expect(() => softmaxCrossEntropy(z(), [0, 1, 2], { reduction: 'avg' as Reduction })).toThrow(/reduction must be 'mean', 'sum' or 'none'/);
  });
  it('clamps and records out-of-range labels that live on the GPU', async () => {
    await checkLabelErrors(); // clean slate
    const zt = tensor(normal(12, 5), [3, 4]);
    const perSample = await softmaxCrossEntropy(zt, tensor([1, 7, -2], [3], 'i32'), { reduction: 'none' }).toArray();
    expect(Number.isFinite(perSample[0]!)).toBe(true);
    expect(Number.isNaN(perSample[1]!)).toBe(true);
    expect(Number.isNaN(perSample[2]!)).toBe(true);
    expect(Number.isNaN(await softmaxCrossEntropy(zt, tensor([1, 7, 0], [3], 'i32')).item())).toBe(true);
    await expect(checkLabelErrors()).rejects.toThrow(/softmaxCrossEntropy: 3 label\(s\) out of range for 4 classes \[0, 4\); the first at sample 1/);
    await expect(checkLabelErrors()).resolves.toBeUndefined(); // cleared by the report
    // The backward stays finite (clamped label) so one bad batch does not poison the weights with NaN gradients.
    const leaf = tensor(normal(12, 5), [3, 4]).requireGrad();
    softmaxCrossEntropy(leaf, tensor([1, 9, 0], [3], 'i32')).backward();
    expect((await leaf.grad!.toArray()).every(Number.isFinite)).toBe(true);
    await checkLabelErrors().catch(() => undefined);
  });
});
