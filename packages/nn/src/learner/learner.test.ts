import { beforeAll, describe, expect, it } from 'vitest';
import { initDevice, manualSeed } from '@tessera/tensor';
import { SGD } from '../optim/sgd.js';
import { combinedCos } from '../optim/schedules.js';
import { Callback, CancelBatchException, CancelFitException, type CallbackEvent } from './callback.js';
import { TrainingDivergedError } from './errors.js';
import type { BatchSource } from './data.js';
import { Learner } from './learner.js';
import { accuracy, errorRate } from './metrics.js';
import { Capture, Scale, TinyNet, tinyData } from './testing/fixtures.js';
import { Sequential } from '../module.js';

beforeAll(async () => {
  await initDevice();
});

/** Records every event it sees, with the epoch and iteration. */
class Spy extends Callback {
  readonly seen: string[] = [];
}
const EVENTS_TO_SPY: CallbackEvent[] = [
  'beforeFit', 'beforeEpoch', 'beforeTrain', 'beforeBatch', 'afterBatch', 'afterTrain',
  'beforeValidate', 'afterValidate', 'afterEpoch', 'afterFit', 'afterCancelFit', 'afterCancelBatch',
];
function spy(): Spy {
  const s = new Spy();
  for (const ev of EVENTS_TO_SPY) {
    (s as unknown as Record<string, () => void>)[ev] = function (this: Spy) {
      this.seen.push(ev === 'beforeBatch' || ev === 'afterBatch' ? `${ev}:${this.learn.training ? 't' : 'v'}${this.learn.iter}` : ev);
    };
  }
  return s;
}

describe('Learner.fit', () => {
  it('trains a tiny model: the loss falls, metrics are computed over the whole validation set', async () => {
    manualSeed(1);
    const dls = tinyData();
    const learn = new Learner(dls, new TinyNet(), { metrics: [errorRate, accuracy], progress: false });
    const before = await learn.validate();
    await learn.fit(6, 1e-2);
    const rec = learn.recorder;
    expect(rec.values).toHaveLength(6);
    expect(rec.metricNames).toEqual(['epoch', 'train_loss', 'valid_loss', 'error_rate', 'accuracy', 'time']);
    const last = rec.values[5]!;
    expect(last[0]!).toBeLessThan(rec.values[0]![0]!); // smoothed train loss fell
    expect(last[1]!).toBeLessThan(before[0]!); // valid loss fell
    expect(last[1]!).toBeLessThan(0.5);
    expect(last[2]!).toBeCloseTo(1 - last[3]!, 6);
    // 24 validation samples: the error rate is a multiple of 1/24.
    expect(Math.abs(last[2]! * 24 - Math.round(last[2]! * 24))).toBeLessThan(1e-4);
    expect(last[2]!).toBeLessThan(0.2);
    expect(rec.lrs).toHaveLength(6 * 4);
    expect(rec.lrs.every((v) => v === 1e-2)).toBe(true);
    // Every batch's tensors were handed back.
    expect([...dls.train.handedOut, ...dls.valid.handedOut].every((t) => t.isDisposed)).toBe(true);
  });

  it('computes valid_loss as the mean over samples, weighting the short last batch', async () => {
    manualSeed(2);
    const dls = tinyData();
    const model = new TinyNet();
    const learn = new Learner(dls, model, { progress: false });
    const [validLoss] = await learn.validate();
    // Reference: per-sample losses over the whole set at once.
    const all = tinyData({ bs: 24 });
    const [whole] = await new Learner(all, model, { progress: false }).validate();
    expect(validLoss!).toBeCloseTo(whole!, 5);
  });

  it('smooths the train loss like fastai (beta 0.98, debiased)', async () => {
    manualSeed(3);
    const learn = new Learner(tinyData(), new TinyNet(), { progress: false });
    const raw: number[] = [];
    class Tap extends Callback {
      override order = 55;
      override runValid = false;
      override afterBatch(): void {
        raw.push(this.learn.loss);
      }
    }
    await learn.fit(2, 1e-2, { cbs: [new Tap()] });
    let val = 0;
    raw.forEach((l, i) => {
      val = 0.98 * val + 0.02 * l;
      expect(learn.recorder.losses[i]!).toBeCloseTo(val / (1 - 0.98 ** (i + 1)), 6);
    });
    expect(learn.recorder.values[1]![0]).toBeCloseTo(learn.recorder.losses[7]!, 10);
  });

  it('fires callbacks in fastai order, with model.eval() only during validation', async () => {
    const dls = tinyData({ nTrain: 32 });
    const learn = new Learner(dls, new TinyNet(), { progress: false });
    const s = spy();
    const modes: string[] = [];
    class Mode extends Callback {
      override beforeBatch(): void {
        modes.push(this.learn.model.training ? 'train' : 'eval');
      }
      override afterFit(): void {
        modes.push(this.learn.model.training ? 'train' : 'eval');
      }
    }
    await learn.fit(1, 1e-3, { cbs: [s, new Mode()] });
    expect(s.seen).toEqual([
      'beforeFit', 'beforeEpoch', 'beforeTrain',
      'beforeBatch:t0', 'afterBatch:t0', 'beforeBatch:t1', 'afterBatch:t1', 'afterTrain',
      'beforeValidate', 'beforeBatch:v0', 'afterBatch:v0', 'beforeBatch:v1', 'afterBatch:v1', 'afterValidate',
      'afterEpoch', 'afterFit',
    ]);
    expect(modes).toEqual(['train', 'train', 'eval', 'eval', 'train']);
  });

  it('runs callbacks sorted by order and honours cancel exceptions', async () => {
    const learn = new Learner(tinyData(), new TinyNet(), { progress: false });
    const order: string[] = [];
    class A extends Callback {
      override order = 70;
      override beforeFit(): void {
        order.push('A70');
      }
    }
    class B extends Callback {
      override order = 5;
      override beforeFit(): void {
        order.push('B5');
      }
      override beforeBatch(): void {
        if (this.learn.training && this.learn.iter === 1) throw new CancelBatchException();
      }
      override afterBatch(): void {
        if (this.learn.training && this.learn.trainIter === 3) throw new CancelFitException();
      }
    }
    const s = spy();
    await learn.fit(3, 1e-3, { cbs: [new A(), new B(), s] });
    expect(order).toEqual(['B5', 'A70']);
    // Batch 1 was cancelled before its step (afterCancelBatch, then afterBatch still runs);
    // the fit ended during batch 2 of epoch 0, and afterFit still ran.
    expect(s.seen).toContain('afterCancelBatch');
    expect(s.seen.slice(-2)).toEqual(['afterCancelFit', 'afterFit']);
    expect(s.seen.filter((e) => e === 'beforeEpoch')).toHaveLength(1);
    // B (order 5) cancelled in afterBatch before the recorder (order 50) saw batch 2.
    expect(learn.recorder.lrs).toHaveLength(2);
  });

  it('asks for the next training batch while a step is read back, and frees it when the fit is cancelled', async () => {
    const dls = tinyData();
    const log: string[] = [];
    // Notes when the source is asked to produce each batch (the generator resumes to make it).
    const train = dls.train;
    const logged: BatchSource = {
      numBatches: train.numBatches,
      async *batches(epoch: number) {
        let k = 0;
        for await (const b of train.batches(epoch)) {
          log.push(`make:${k++}`);
          yield b;
        }
      },
    };
    class Stop extends Callback {
      override afterBatch(): void {
        if (this.learn.training) log.push(`after:${this.learn.iter}`);
        if (this.learn.training && this.learn.iter === 1) throw new CancelFitException();
      }
    }
    const learn = new Learner({ ...dls, train: logged }, new TinyNet(), { progress: false });
    await learn.fit(1, 1e-3, { cbs: [new Stop()] });
    // Batch k+1 is made during step k (before its afterBatch), not after it.
    expect(log).toEqual(['make:0', 'make:1', 'after:0', 'make:2', 'after:1']);
    // Batch 2 was made ahead and never trained on: the learner freed it with the others.
    expect(train.handedOut).toHaveLength(6);
    expect(train.handedOut.every((t) => t.isDisposed)).toBe(true);
  });

  it('tells the validation source to decode ahead when each training pass starts, not while finding a learning rate', async () => {
    const dls = tinyData();
    const asked: number[] = [];
    const valid = Object.assign(Object.create(dls.valid) as typeof dls.valid, { decodeAhead: (e: number) => asked.push(e) });
    const learn = new Learner({ ...dls, valid }, new TinyNet(), { progress: false });
    await learn.fit(2, 1e-3);
    expect(asked).toEqual([0, 1]);
    await learn.lrFind({ numIt: 12 });
    expect(asked).toEqual([0, 1]);
  });

  it('stops on a NaN loss with an error naming epoch and batch', async () => {
    const dls = tinyData();
    const net = new TinyNet(4, 8, 3, 1, { bn: false });
    const scale = new Scale(1);
    // After the network: ReLU maps NaN to 0 on some GPUs, which would hide the poison.
    const model = new Sequential(net, scale);
    const learn = new Learner(dls, model, { progress: false, optFunc: (g, { lr }) => new SGD(g, { lr }) });
    class Poison extends Callback {
      override beforeBatch(): void {
        if (this.learn.training && this.learn.epoch === 1 && this.learn.iter === 2) scale.factor = NaN;
      }
    }
    const err = await learn.fit(3, 1e-2, { cbs: [new Poison()] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TrainingDivergedError);
    const e = err as TrainingDivergedError;
    expect(e.epoch).toBe(1);
    expect(e.batch).toBe(2);
    expect(e.message).toMatch(/loss became NaN in epoch 1, batch 3 of 4/);
    expect(e.message).toMatch(/lower/);
    expect(learn.recorder.values).toHaveLength(1);
  });

  it('prints the fastai epoch table without control characters when not a TTY', async () => {
    const out = new Capture(false);
    const learn = new Learner(tinyData(), new TinyNet(), { metrics: [errorRate], progress: { out } });
    await learn.fit(2, 1e-2);
    const lines = out.text.split('\n');
    expect(lines[0]).toBe('epoch     train_loss  valid_loss  error_rate  time    ');
    // fastprogress pads each value to its column's padded name + 2.
    expect(lines[1]).toMatch(/^0 {9}\d\.\d{6} {4}\d\.\d{6} {4}\d\.\d{6} {4}\d\d:\d\d {5}$/);
    expect(lines[2]).toMatch(/^1 {9}\d/);
    expect(lines).toHaveLength(4);
    // eslint-disable-next-line no-control-regex
    expect(out.text).not.toMatch(/[\r\x1b]/);
  });

  it('draws a live bar on a TTY', async () => {
    const out = new Capture(true);
    const learn = new Learner(tinyData(), new TinyNet(), { progress: { out } });
    await learn.fit(1, 1e-2);
    expect(out.text).toMatch(/\rEpoch 1\/1 : \|[█-]+\| \d+\.\d\d% \[\d\/4 \d\d:\d\d<\d\d:\d\d/);
    expect(out.text).toContain('epoch     train_loss  valid_loss  time    \n');
  });
});

describe('Learner.fitOneCycle', () => {
  it("sets fastai's one-cycle lr and mom on every group at every batch", async () => {
    const learn = new Learner(tinyData(), new TinyNet(), { progress: false });
    const seen: { lr: number[]; mom: number[]; pos: number }[] = [];
    class Peek extends Callback {
      override order = 61; // right after the ParamScheduler's beforeBatch
      override runValid = false;
      override beforeBatch(): void {
        const g = this.learn.opt!.groups;
        seen.push({ lr: g.map((x) => x.hyper.lr), mom: g.map((x) => x.hyper.mom), pos: this.learn.pctTrain });
      }
    }
    await learn.fitOneCycle(3, [1e-3, 1e-2], { cbs: [new Peek()] });
    expect(seen).toHaveLength(12);
    seen.forEach((s, i) => {
      const pos = i / 12;
      expect(s.pos).toBeCloseTo(pos, 12);
      expect(s.lr[0]).toBeCloseTo(combinedCos(0.25, 1e-3 / 25, 1e-3, 1e-3 / 1e5)(pos), 12);
      expect(s.lr[1]).toBeCloseTo(combinedCos(0.25, 1e-2 / 25, 1e-2, 1e-2 / 1e5)(pos), 12);
      expect(s.mom[0]).toBeCloseTo(combinedCos(0.25, 0.95, 0.85, 0.95)(pos), 12);
      expect(s.mom[1]).toBe(s.mom[0]);
    });
    // Hand-computed anchors: start at lrMax/div, peak at pos 0.25 (batch 3), mom at its lowest there.
    expect(seen[0]!.lr[1]).toBeCloseTo(4e-4, 15);
    expect(seen[3]!.lr[1]).toBeCloseTo(1e-2, 15);
    expect(seen[3]!.mom[0]).toBeCloseTo(0.85, 15);
    // Recorder keeps the last group's values after each batch.
    expect(learn.recorder.lrs).toEqual(seen.map((s) => s.lr[1]));
    expect(learn.recorder.hps.mom.map((m) => m[0])).toEqual(seen.map((s) => s.mom[0]));
  });

  it('takes div, divFinal, pctStart, moms and wd', async () => {
    const learn = new Learner(tinyData(), new TinyNet(), { progress: false });
    await learn.fitOneCycle(1, 1e-2, { div: 10, divFinal: 100, pctStart: 0.5, moms: [0.9, 0.8, 0.9], wd: 0.1 });
    const f = combinedCos(0.5, 1e-3, 1e-2, 1e-4);
    expect(learn.recorder.lrs).toEqual([0, 1, 2, 3].map((i) => f(i / 4)));
    expect(learn.recorder.moms[2]).toBeCloseTo(0.8, 15);
    expect(learn.opt!.groups.every((g) => g.hyper.wd === 0.1)).toBe(true);
  });
});
