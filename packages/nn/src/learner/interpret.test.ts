import { beforeAll, describe, expect, it } from 'vitest';
import { type Tensor, initDevice, manualSeed, softmaxCrossEntropy, tensor } from '@tessera/tensor';
import { ClassificationInterpretation, getPreds, tta } from './interpret.js';
import { Learner } from './learner.js';
import { errorRate } from './metrics.js';
import { predict, predictBatch } from './predict.js';
import { ArraySource, TinyNet, tinyData } from './testing/fixtures.js';

beforeAll(async () => {
  await initDevice();
});

async function trained(): Promise<Learner> {
  manualSeed(7);
  // Overlapping clusters, so that some validation samples are misclassified.
  const learn = new Learner(tinyData({ spread: 4 }), new TinyNet(), { progress: false });
  await learn.fit(2, 1e-2);
  return learn;
}

describe('ClassificationInterpretation', () => {
  it('collects probabilities, targets and per-sample losses over the validation set', async () => {
    const learn = await trained();
    const interp = await ClassificationInterpretation.fromLearner(learn);
    const n = 24;
    expect(interp.targets).toHaveLength(n);
    expect(Array.from(interp.targets)).toEqual(Array.from((learn.dls.valid as ArraySource).y));
    for (let i = 0; i < n; i++) {
      const row = Array.from(interp.probs.slice(i * 3, i * 3 + 3));
      expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      expect(interp.decoded[i]).toBe(row.indexOf(Math.max(...row)));
      // Cross-entropy with reduction 'none' is -log p(actual).
      expect(interp.losses[i]!).toBeCloseTo(-Math.log(row[interp.targets[i]!]!), 4);
    }
    const cm = interp.confusionMatrix();
    expect(cm.flat().reduce((a, b) => a + b, 0)).toBe(n);
    const wrong = Array.from(interp.decoded).filter((d, i) => d !== interp.targets[i]).length;
    expect(cm.flat().reduce((a, b) => a + b, 0) - (cm[0]![0]! + cm[1]![1]! + cm[2]![2]!)).toBe(wrong);
    // Same errors as the learner's validation metric.
    const [, err] = await new Learner(learn.dls, learn.model, { progress: false, metrics: [errorRate] }).validate();
    expect(err).toBeCloseTo(wrong / n, 6);
    expect(wrong).toBeGreaterThan(0);
    expect(learn.model.training).toBe(true);
  });

  it('falls back to -log p when the loss ignores reduction "none"', async () => {
    const learn = await trained();
    const meanOnly = (p: Tensor, y: Tensor) => softmaxCrossEntropy(p, y);
    const a = await getPreds(learn.model, learn.dls.valid, { lossFunc: learn.lossFunc });
    const b = await getPreds(learn.model, learn.dls.valid, { lossFunc: meanOnly });
    a.losses!.forEach((v, i) => expect(b.losses![i]!).toBeCloseTo(v, 4));
  });

  it("sorts most-confused pairs and top losses like fastai", () => {
    const vocab = ['cat', 'dog', 'fox'];
    // Row i: sample i's probabilities.
    const probs = Float32Array.from([
      0.1, 0.8, 0.1, // actual cat → dog
      0.2, 0.7, 0.1, // actual cat → dog
      0.1, 0.1, 0.8, // actual dog → fox
      0.6, 0.3, 0.1, // actual fox → cat
      0.9, 0.05, 0.05, // actual cat → cat
    ]);
    const targets = Int32Array.from([0, 0, 1, 2, 0]);
    const losses = Float32Array.from([2.3, 1.6, 2.3, 2.3, 0.1]);
    const interp = new ClassificationInterpretation(vocab, probs, targets, losses);
    expect(interp.confusionMatrix()).toEqual([
      [1, 2, 0],
      [0, 0, 1],
      [1, 0, 0],
    ]);
    // Count 2 first; the 1s keep np.where's row-major order (dog→fox before fox→cat).
    expect(interp.mostConfused()).toEqual([
      ['cat', 'dog', 2],
      ['dog', 'fox', 1],
      ['fox', 'cat', 1],
    ]);
    expect(interp.mostConfused(2)).toEqual([['cat', 'dog', 2]]);
    const top = interp.topLosses(3);
    expect(top.map((t) => t.index)).toEqual([0, 2, 3]);
    expect(top[0]).toMatchObject({ predicted: 'dog', actual: 'cat', loss: expect.closeTo(2.3, 6), probActual: expect.closeTo(0.1, 6), probPredicted: expect.closeTo(0.8, 6) });
    expect(interp.topLosses(1, false)[0]!.index).toBe(4);
  });
});

describe('tta', () => {
  it("lerps the mean of the augmented passes with the plain prediction (beta 0.25)", async () => {
    const learn = await trained();
    const v = learn.dls.valid as ArraySource;
    const scaled = (i: number) => new ArraySource(v.x.map((x) => x * (1 + 0.2 * (i + 1))), v.y, v.nFeatures, v.bs);
    const res = await tta(learn, { augmented: scaled, n: 3 });
    const plain = await getPreds(learn.model, v);
    const aug = await Promise.all([0, 1, 2].map((i) => getPreds(learn.model, scaled(i))));
    res.probs.forEach((p, k) => {
      const mean = (aug[0]!.probs[k]! + aug[1]!.probs[k]! + aug[2]!.probs[k]!) / 3;
      expect(p).toBeCloseTo(0.75 * mean + 0.25 * plain.probs[k]!, 5);
    });
    expect(Array.from(res.targets)).toEqual(Array.from(v.y));
    const mx = await tta(learn, { augmented: scaled, n: 3, useMax: true });
    mx.probs.forEach((p, k) => expect(p).toBeCloseTo(Math.max(plain.probs[k]!, ...aug.map((a) => a.probs[k]!)), 6));
  });
});

describe('predict', () => {
  it('gives label, index and probabilities for one input, restoring the model mode', async () => {
    const learn = await trained();
    const x = tensor((learn.dls.valid as ArraySource).x.slice(0, 4), [1, 4]);
    const p = await predict(learn.model, x, learn.dls.classes);
    expect(p.probs).toHaveLength(3);
    expect(Array.from(p.probs).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    expect(p.index).toBe(Array.from(p.probs).indexOf(Math.max(...p.probs)));
    expect(p.label).toBe(learn.dls.classes[p.index]);
    expect(learn.model.training).toBe(true);
    const xs = tensor((learn.dls.valid as ArraySource).x.slice(0, 12), [3, 4]);
    const all = await predictBatch(learn.model, xs, learn.dls.classes);
    expect(all[0]).toEqual(p);
    await expect(predict(learn.model, xs, learn.dls.classes)).rejects.toThrow(/batch of one/);
    await expect(predict(learn.model, x, ['a', 'b'])).rejects.toThrow(/3 outputs but there are 2/);
    x.dispose();
    xs.dispose();
  });
});
