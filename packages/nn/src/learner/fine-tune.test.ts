import { beforeAll, describe, expect, it } from 'vitest';
import { type Tensor, initDevice, manualSeed } from '@tessera/tensor';
import type { Module } from '../module.js';
import { combinedCos } from '../optim/schedules.js';
import { Callback } from './callback.js';
import { Learner } from './learner.js';
import { TinyNet, tinyData } from './testing/fixtures.js';

beforeAll(async () => {
  await initDevice();
});

/** Three groups: the body's Dense, its BatchNorm, the head. */
function split3(m: Module): Tensor[][] {
  const net = m as TinyNet;
  const [dense, , bn] = net.body.children().map(([, c]) => c);
  return [dense!.parameters(), bn!.parameters(), net.head.parameters()];
}

async function values(ts: Tensor[]): Promise<number[]> {
  const out: number[] = [];
  for (const t of ts) out.push(...(await t.toArray()));
  return out;
}

describe('freeze / unfreeze', () => {
  it('freezes all groups but the last, keeping BatchNorm trainable', () => {
    const net = new TinyNet();
    const learn = new Learner(tinyData(), net, { splitter: split3, progress: false });
    learn.freeze();
    const [dense, bn, head] = learn.paramGroups;
    expect(dense!.map((p) => p.requiresGrad)).toEqual([false, false]);
    expect(bn!.map((p) => p.requiresGrad)).toEqual([true, true]);
    expect(head!.map((p) => p.requiresGrad)).toEqual([true, true]);
    learn.unfreeze();
    expect(net.parameters().every((p) => p.requiresGrad)).toBe(true);
    const noBn = new Learner(tinyData(), new TinyNet(), { splitter: split3, trainBn: false, progress: false });
    noBn.freeze();
    expect(noBn.paramGroups[1]!.map((p) => p.requiresGrad)).toEqual([false, false]);
  });

  it('refuses to freeze a model with a single parameter group', () => {
    const learn = new Learner(tinyData(), new TinyNet(), { splitter: (m) => [m.parameters()], progress: false });
    expect(() => learn.freeze()).toThrow(/at least two/);
  });
});

describe('Learner.fineTune', () => {
  it("runs fastai's two stages: frozen one-cycle at slice(base), then unfrozen at slice(base/2/lrMult, base/2)", async () => {
    manualSeed(5);
    const net = new TinyNet();
    const learn = new Learner(tinyData(), net, { splitter: split3, progress: false });
    const rows: { fit: number; lr: number[]; mom: number; pos: number; trainable: boolean[] }[] = [];
    let fit = -1;
    const optStateAtFit: number[] = [];
    class Peek extends Callback {
      override order = 61;
      override runValid = false;
      override beforeFit(): void {
        fit++;
        optStateAtFit.push(this.learn.opt!.stateTensors().size);
      }
      override beforeBatch(): void {
        const g = this.learn.opt!.groups;
        rows.push({ fit, lr: g.map((x) => x.hyper.lr), mom: g[0]!.hyper.mom, pos: this.learn.pctTrain, trainable: g.map((x) => x.params[0]!.requiresGrad) });
      }
    }
    learn.addCbs([new Peek()]);
    const denseBefore = await values(learn.paramGroups[0]!);
    const bnBefore = await values(learn.paramGroups[1]!);
    let denseAfterStage1: number[] = [];
    let bnAfterStage1: number[] = [];
    class Between extends Callback {
      override async afterFit(): Promise<void> {
        if (fit === 0) {
          denseAfterStage1 = await values(this.learn.paramGroups[0]!);
          bnAfterStage1 = await values(this.learn.paramGroups[1]!);
        }
      }
    }
    learn.addCbs([new Between()]);
    await learn.fineTune(2, 2e-3, { freezeEpochs: 1 });

    const s1 = rows.filter((r) => r.fit === 0);
    const s2 = rows.filter((r) => r.fit === 1);
    expect(s1).toHaveLength(4);
    expect(s2).toHaveLength(8);
    // Stage 1: slice(2e-3) → [2e-4, 2e-4, 2e-3]; pct_start 0.99 and fit_one_cycle's default div 25.
    s1.forEach((r, i) => {
      expect(r.trainable).toEqual([false, true, true]);
      const pos = i / 4;
      expect(r.lr[0]).toBeCloseTo(combinedCos(0.99, 2e-4 / 25, 2e-4, 2e-4 / 1e5)(pos), 14);
      expect(r.lr[1]).toBe(r.lr[0]);
      expect(r.lr[2]).toBeCloseTo(combinedCos(0.99, 2e-3 / 25, 2e-3, 2e-3 / 1e5)(pos), 14);
      expect(r.mom).toBeCloseTo(combinedCos(0.99, 0.95, 0.85, 0.95)(pos), 14);
    });
    // Stage 2: base 1e-3, slice(1e-5, 1e-3) over 3 groups → even_mults = [1e-5, 1e-4, 1e-3]; pct 0.3, div 5.
    const maxes = [1e-5, 1e-4, 1e-3];
    s2.forEach((r, i) => {
      expect(r.trainable).toEqual([true, true, true]);
      const pos = i / 8;
      maxes.forEach((m, g) => expect(r.lr[g]).toBeCloseTo(combinedCos(0.3, m / 5, m, m / 1e5)(pos), 14));
    });
    expect(s2[0]!.lr).toEqual(maxes.map((m) => m / 5));
    // The frozen Dense did not move in stage 1 while BatchNorm (train_bn) did; both moved after unfreezing.
    expect(denseAfterStage1).toEqual(denseBefore);
    expect(bnAfterStage1).not.toEqual(bnBefore);
    expect(await values(learn.paramGroups[0]!)).not.toEqual(denseAfterStage1);
    // freeze()/unfreeze() cleared the optimizer state before each stage (fastai's clear_state).
    expect(optStateAtFit).toEqual([0, 0]);
    expect(learn.recorder.values).toHaveLength(2);
  });
});
