/**
 * Autograd semantics and memory: accumulation, x + x, diamonds, noGrad, detach,
 * retainGraph, dense leaf grads, tidy scopes, freeing of intermediates after
 * backward, and use-after-dispose errors. Values here are small exact numbers, so
 * comparisons are exact unless stated.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  initDevice, tensor, tidy, tidyAsync, noGrad, backward, add, mul, sum, expand, reshape, ones, TesseraError, Tensor,
} from '../index.js';
import { expectClose, liveBytes } from '../testing/index.js';

beforeAll(async () => {
  await initDevice();
});

const arr = async (t: Tensor | null) => Array.from(await t!.toArray());

describe('gradients', () => {
  it('accumulate over two backward calls into .grad', async () => {
    const x = tensor([1, 2, 3]).requireGrad();
    sum(mul(x, x)).backward();
    expect(await arr(x.grad)).toEqual([2, 4, 6]);
    sum(mul(x, 3)).backward();
    expect(await arr(x.grad)).toEqual([5, 7, 9]);
  });

  it('x + x and x * x count both uses', async () => {
    const x = tensor([1, -2]).requireGrad();
    sum(add(x, x)).backward();
    expect(await arr(x.grad)).toEqual([2, 2]);
    x.grad = null;
    sum(mul(x, x)).backward();
    expect(await arr(x.grad)).toEqual([2, -4]);
  });

  it('diamond: one intermediate used by two branches gets the sum of both', async () => {
    const x = tensor([1, 2]).requireGrad();
    const h = mul(x, 2); // dh/dx = 2
    const y = add(mul(h, h), mul(h, 3)); // dy/dh = 2h + 3
    sum(y).backward();
    expect(await arr(x.grad)).toEqual([2 * (2 * 2 + 3), 2 * (2 * 4 + 3)]);
  });

  it('a non-scalar root needs { grad }, which must match its shape', async () => {
    const x = tensor([1, 2, 3]).requireGrad();
    const y = mul(x, x);
    expect(() => y.backward()).toThrow(/backward: the root must be a scalar, got shape \[3\]; pass \{ grad \}/);
    expect(() => y.backward({ grad: tensor([1, 1]) })).toThrow(/backward: grad \[2\] \(f32\) does not match the root's \[3\]/);
    y.backward({ grad: tensor([1, 0, 2]) });
    expect(await arr(x.grad)).toEqual([2, 0, 12]);
  });

  it('the leaf .grad is dense and owns its storage, even when the gradient arrives as a view', async () => {
    const x = tensor([1, 2, 3]).requireGrad();
    // expand's backward sums; reshape's passes a view of the incoming grad through.
    sum(reshape(x, [3, 1])).backward();
    expect(x.grad!.isContiguous).toBe(true);
    expect(await arr(x.grad)).toEqual([1, 1, 1]);
    const b = tensor([[5]]).requireGrad();
    sum(mul(expand(b, [2, 3]), tensor([[1, 2, 3], [4, 5, 6]]))).backward();
    expect(b.grad!.shape).toEqual([1, 1]);
    expect(await arr(b.grad)).toEqual([21]);
    // A leaf used directly as the root: its grad is a fresh tensor, not aliasing anything.
    const s = tensor([2]).requireGrad();
    s.backward();
    expect(await arr(s.grad)).toEqual([1]);
  });

  it('noGrad records nothing; detach cuts the graph but shares storage', async () => {
    const x = tensor([1, 2]).requireGrad();
    const y = noGrad(() => mul(x, x));
    expect(y.requiresGrad).toBe(false);
    expect(y.isLeaf).toBe(true);
    expect(() => y.backward()).toThrow(/does not require grad/);
    const d = mul(x, 3).detach();
    expect(d.requiresGrad).toBe(false);
    const z = sum(add(mul(d, x), x)); // d is a constant here
    z.backward();
    expect(await arr(x.grad)).toEqual([4, 7]); // d + 1 = [3·1 + 1, 3·2 + 1]
    const e = tensor([4, 5]);
    expect(e.detach().buffer).toBe(e.buffer);
  });

  it('a second backward through freed nodes is an error, unless the first retained the graph', async () => {
    const x = tensor([1, 2]).requireGrad();
    const y = sum(mul(x, x));
    y.backward();
    expect(() => y.backward()).toThrow(TesseraError);
    expect(() => y.backward()).toThrow(/backward through sum a second time.*retainGraph/);
    expect(await arr(x.grad)).toEqual([2, 4]); // the refused call changed nothing

    const x2 = tensor([1, 2]).requireGrad();
    const y2 = sum(mul(x2, x2));
    y2.backward({ retainGraph: true });
    y2.backward();
    expect(await arr(x2.grad)).toEqual([4, 8]);
    expect(() => y2.backward()).toThrow(/a second time/);

    // A shared subgraph freed by one root's backward cannot serve another root.
    const x3 = tensor([1]).requireGrad();
    const h = mul(x3, 2);
    const a = sum(h);
    const b = sum(mul(h, h));
    a.backward();
    expect(() => b.backward()).toThrow(/backward through mulScalar a second time/); // h's node
  });

  it('requireGrad is for f32 leaves only; backward needs a grad-requiring root', () => {
    expect(() => tensor(Int32Array.from([1]), [1]).requireGrad()).toThrow(/only f32 tensors can require gradients \(got i32\)/);
    const x = tensor([1]).requireGrad();
    expect(() => mul(x, 2).requireGrad()).toThrow(/only leaf tensors/);
    expect(() => tensor([1]).backward()).toThrow(/does not require grad/);
  });
});

describe('memory', () => {
  it('tidy disposes what it created, except the result and kept tensors; bytesLive returns to baseline', async () => {
    const base = liveBytes();
    let kept: Tensor | undefined;
    const out = tidy(() => {
      const a = ones([64, 64]);
      const b = mul(a, 2);
      kept = add(b, 1).keep();
      return { r: sum(b), list: [reshape(b, [4096])] };
    });
    expect(await out.r.item()).toBe(8192);
    expect(out.list[0]!.shape).toEqual([4096]);
    const ks = kept!.sum();
    expect(await ks.item()).toBe(3 * 4096);
    ks.dispose();
    out.r.dispose();
    out.list[0]!.dispose();
    kept!.dispose();
    expect(liveBytes()).toBe(base);
  });

  it('tidy disposes everything when the function throws; nested scopes hand results outward', () => {
    const base = liveBytes();
    expect(() =>
      tidy(() => {
        ones([100]);
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(liveBytes()).toBe(base);
    const outer = tidy(() => {
      const inner = tidy(() => mul(ones([10]), 2));
      ones([10]); // disposed by the outer scope
      return inner;
    });
    expect(liveBytes()).toBe(base + 64);
    outer.dispose();
    expect(liveBytes()).toBe(base);
    expect(() => tidy(() => Promise.resolve(1) as unknown as number)).toThrow(/tidy: the function returned a promise; use tidyAsync/);
  });

  it('tidyAsync spans awaits', async () => {
    const base = liveBytes();
    const v = await tidyAsync(async () => {
      const t = mul(ones([8]), 3);
      return (await t.sum().item()) + 0;
    });
    expect(v).toBe(24);
    expect(liveBytes()).toBe(base);
  });

  it('intermediates held by the graph are freed by backward; grads survive tidy', async () => {
    const x = tensor(new Float32Array(4096).fill(0.5), [64, 64]).requireGrad();
    const base = liveBytes();
    const loss = tidy(() => sum(mul(mul(x, x).exp(), x.sigmoid())));
    const held = liveBytes() - base;
    // The intermediates (x², exp, sigmoid, their product) outlive the tidy: the graph holds them.
    expect(held).toBeGreaterThan(3 * 16384);
    tidy(() => backward(loss));
    loss.dispose();
    // Only the gradient (64×64 f32) is left.
    expect(liveBytes() - base).toBe(16384);
    expect(x.grad!.shape).toEqual([64, 64]);
    x.grad!.dispose();
    expect(liveBytes()).toBe(base);
  });

  it('disposing the root frees the whole unused graph', () => {
    const x = tensor([1, 2, 3]).requireGrad();
    const base = liveBytes();
    const loss = tidy(() => sum(mul(x, 2).exp()));
    expect(liveBytes()).toBeGreaterThan(base);
    loss.dispose();
    expect(liveBytes()).toBe(base);
  });

  it('use after dispose names the tensor and the op', async () => {
    const a = tensor([1, 2, 3]);
    a.name = 'weights';
    a.dispose();
    expect(() => add(a, 1)).toThrow(new RegExp(`addScalar: tensor #${a.id} \\(weights\\) of shape \\[3\\] \\(f32\\) was used after it was disposed`));
    await expect(a.toArray()).rejects.toThrow(/toArray: tensor #\d+ \(weights\)/);
    expect(() => a.reshape([3, 1])).toThrow(/reshape: tensor #\d+ \(weights\)/);
  });

  it('a tensor disposed while the graph still holds it: unusable by the user, still fine for backward', async () => {
    const x = tensor([1, 2]).requireGrad();
    const h = mul(x, x);
    const y = sum(mul(h, 3));
    h.dispose(); // held by y's graph: storage kept for the backward pass
    expect(h.isDisposed).toBe(true);
    expect(() => mul(h, 2)).toThrow(/mul.*was used after it was disposed|mulScalar.*was used after it was disposed/);
    y.backward();
    expect(await arr(x.grad)).toEqual([6, 12]);
  });
});

describe('expectClose reports', () => {
  it('a readable failure: count, worst multi-index, values', async () => {
    const err = await expectClose(tensor([1, 2, 3, 4], [2, 2]), [1, 2, 3.5, 4]).catch((e: Error) => e.message);
    expect(err).toMatch(/1 of 4 elements differ/);
    expect(err).toMatch(/worst at \[1, 0\] \(flat 2\): got 3, expected 3.5/);
  });
});
