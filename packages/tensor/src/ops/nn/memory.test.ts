import { beforeAll, expect, it } from 'vitest';
import { initDevice, memoryStats, sum, sync, tensor, type Tensor } from '../../index.js';
import { adaptiveAvgPool2d, adaptiveMaxPool2d, avgPool2d, batchNorm1d, batchNorm2d, batchNormMaxPool2d, dropout, maxPool2d, softmaxCrossEntropy } from './index.js';
import { normal } from '../../testing/index.js';

beforeAll(async () => {
  await initDevice();
});

it('nn ops free every temporary, saved tensor and view after forward + backward', async () => {
  const x = tensor(normal(2 * 5 * 6 * 3, 1), [2, 5, 6, 3]).requireGrad().keep();
  const w = tensor([1, 2, 3]).requireGrad().keep();
  const b = tensor([0, 1, 0]).requireGrad().keep();
  const rm = tensor([0, 0, 0]).keep();
  const rv = tensor([1, 1, 1]).keep();
  const z = tensor(normal(12, 2), [3, 4]).requireGrad().keep();
  const res = tensor(normal(2 * 5 * 6 * 3, 3), [2, 5, 6, 3]).requireGrad().keep();
  const resT = tensor(normal(2 * 5 * 6 * 3, 4), [2, 6, 5, 3]).requireGrad().keep();
  const resNoGrad = tensor(normal(2 * 5 * 6 * 3, 5), [2, 5, 6, 3]).keep();
  const leaves = [x, w, b, z, res, resT];
  // No tidy(): every tensor the test creates is disposed by hand, so anything an op
  // forgets to free (temporaries, saved tensors, views) shows up in bytesLive.
  const step = (fwd: (made: Tensor[]) => Tensor, backward = true) => {
    const made: Tensor[] = [];
    const out = fwd(made);
    const loss = out.size === 1 ? out : sum(out);
    if (backward) loss.backward();
    for (const t of [...made, out, loss]) t.dispose();
    for (const t of leaves) {
      t.grad?.dispose();
      t.grad = null;
    }
  };
  const view = (made: Tensor[], t: Tensor) => (made.push(t), t);
  const all = () => {
    step(() => batchNorm2d(x, w, b, rm, rv, { training: true }));
    step((m) => batchNorm2d(view(m, x.permute([0, 2, 1, 3])), w, b, rm, rv, { training: false }));
    step(() => batchNorm2d(x, w, b, rm, rv, { training: true, activation: { leaky: 0.1 } }));
    step(() => batchNormMaxPool2d(x, w, b, rm, rv, { training: true, activation: { leaky: 0.1 } }));
    step((m) => batchNormMaxPool2d(view(m, x.permute([0, 2, 1, 3])), null, b, null, null, { training: true, activation: 'relu' }));
    step(() => batchNormMaxPool2d(x, w, b, rm, rv, { training: false }));
    step((m) => batchNorm2d(view(m, x.permute([0, 2, 1, 3])), w, b, rm, rv, { training: false, activation: 'relu' }));
    step((m) => batchNorm1d(view(m, x.reshape([60, 3])), null, b, null, null, { training: true }));
    // The residual: dense, a strided view (its dense copy is saved for the mask), without an activation (dr = g).
    step(() => batchNorm2d(x, w, b, rm, rv, { training: true, activation: 'relu', residual: res }));
    step((m) => batchNorm2d(x, w, b, rm, rv, { training: true, activation: { leaky: 0.1 }, residual: view(m, resT.permute([0, 2, 1, 3])) }));
    step((m) => batchNorm2d(view(m, x.permute([0, 2, 1, 3])), w, b, rm, rv, { training: false, residual: resT }));
    step(() => batchNorm2d(x, w, b, rm, rv, { training: true, activation: 'relu', residual: resNoGrad })); // dr made for bn_dx, then freed
    step(() => batchNorm2d(x, w, b, rm, rv, { training: true, activation: 'relu', residual: res }), false); // graph dropped without backward
    step(() => maxPool2d(x, { kernel: 3, stride: 2, padding: 1 }));
    step((m) => avgPool2d(view(m, x.permute([0, 2, 1, 3])), { kernel: 2 }));
    step(() => adaptiveAvgPool2d(x, 1));
    step(() => adaptiveMaxPool2d(x, [2, 3]));
    step(() => dropout(x, 0.5, true, 3));
    step(() => dropout(x, 0.5, false));
    step(() => softmaxCrossEntropy(z, [0, 1, 3], { labelSmoothing: 0.1 }));
    step((m) => softmaxCrossEntropy(view(m, z.transpose()), [0, 1, 2, 0], { reduction: 'none' }));
    step(() => batchNorm2d(x, w, b, rm, rv, { training: true }), false); // graph dropped without backward
    step(() => maxPool2d(x, { kernel: 2 }), false);
  };
  all(); // warm the pool and kernel caches
  await sync();
  const before = memoryStats().bytesLive;
  all();
  await sync();
  expect(memoryStats().bytesLive).toBe(before);
});
