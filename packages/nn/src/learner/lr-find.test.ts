import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initDevice, manualSeed } from '@tessera/tensor';
import { Sequential } from '../module.js';
import { schedExp } from '../optim/schedules.js';
import { Callback } from './callback.js';
import { fileStore } from '../node/file-store.js';
import { Learner } from './learner.js';
import { minimum, steep, valley } from './suggest.js';
import { Capture, Scale, TinyNet, maxAbsDiff, snapshot, tinyData } from './testing/fixtures.js';
import { SaveModelCallback } from './tracker.js';

let root = '';
beforeAll(async () => {
  await initDevice();
  root = await mkdtemp(join(tmpdir(), 'tessera-lrfind-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function optState(learn: Learner): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>();
  for (const [k, t] of learn.opt!.stateTensors()) out.set(k, Array.from(await t.toArray()));
  return out;
}

describe('lrFind', () => {
  it('sweeps the lr exponentially, records the smoothed loss and restores everything', async () => {
    manualSeed(21);
    const out = new Capture();
    const path = join(root, 'a');
    const learn = new Learner(tinyData(), new TinyNet(), { path, store: fileStore(), progress: { out }, cbs: [new SaveModelCallback()] });
    await learn.fit(1, 1e-2); // some optimizer state and moved BN statistics to restore
    const w0 = await snapshot(learn.model); // parameters and BatchNorm buffers
    const o0 = await optState(learn);
    const hyper0 = learn.opt!.groups.map((g) => ({ ...g.hyper }));
    const steps0 = learn.opt!.stepCount;
    const printed = out.text;

    const res = await learn.lrFind({ numIt: 30, suggestFuncs: [valley, minimum, steep] });
    expect(res.lrs.length).toBeLessThanOrEqual(30);
    expect(res.lrs.length).toBeGreaterThan(10);
    res.lrs.forEach((lr, i) => expect(lr).toBeCloseTo(schedExp(1e-7, 10, i / 30), 20));
    if (res.lrs.length < 30) {
      // Stopped on divergence: the last smoothed loss is past 4× the best.
      expect(res.losses[res.losses.length - 1]!).toBeGreaterThan(4 * Math.min(...res.losses));
    }
    // No validation ran: only train_loss in each row.
    expect(learn.recorder.values.every((r) => r[0] !== null && r.slice(1).every((v) => v === null))).toBe(true);
    // Suggestions come from lrs[numIt/10 : -5].
    const sl = res.lrs.slice(3, res.lrs.length - 5);
    const sy = res.losses.slice(3, res.losses.length - 5);
    expect(res.suggestions['valley']).toBe(valley(sl, sy, 30).lr);
    expect(res.suggestions['minimum']).toBe(minimum(sl, sy, 30).lr);
    expect(res.suggestions['steep']).toBe(steep(sl, sy, 30).lr);
    // Restored exactly; nothing printed; the tracker stood aside.
    expect(maxAbsDiff(w0, await snapshot(learn.model))).toBe(0);
    expect(maxAbsDiff(o0, await optState(learn))).toBe(0);
    expect(learn.opt!.groups.map((g) => g.hyper)).toEqual(hyper0);
    expect(learn.opt!.stepCount).toBe(steps0);
    expect(out.text).toBe(printed);
    const saved = await stat(join(path, 'models', 'model.safetensors'));
    await learn.lrFind({ numIt: 12 });
    expect((await stat(join(path, 'models', 'model.safetensors'))).mtimeMs).toBe(saved.mtimeMs);
  });

  it('leaves a fresh optimizer without state, as fastai does', async () => {
    const learn = new Learner(tinyData(), new TinyNet(), { progress: false });
    const w0 = await snapshot(learn.model);
    await learn.lrFind({ numIt: 12 });
    expect(learn.opt!.stateTensors().size).toBe(0);
    expect(maxAbsDiff(w0, await snapshot(learn.model))).toBe(0);
    // Training afterwards starts from the original state.
    await learn.fit(1, 1e-2);
    expect(learn.recorder.values).toHaveLength(1);
  });

  it('drops NaN losses before suggesting and does not throw on them', async () => {
    const scale = new Scale(1);
    const learn = new Learner(tinyData(), new Sequential(new TinyNet(), scale), { progress: false });
    class Poison extends Callback {
      override beforeBatch(): void {
        scale.factor = this.learn.trainIter >= 15 ? NaN : 1;
      }
    }
    learn.addCbs([new Poison()]);
    const res = await learn.lrFind({ numIt: 30, stopDiv: false });
    scale.factor = 1;
    expect(res.lrs).toHaveLength(30);
    expect(res.losses.slice(15).every(Number.isNaN)).toBe(true);
    // lrs[3:25] cut at its first NaN (index 15 overall) → points 3..14.
    expect(res.suggestions['valley']).toBe(valley(res.lrs.slice(3, 15), res.losses.slice(3, 15), 30).lr);
    const stopped = await learn.lrFind({ numIt: 30 });
    expect(stopped.lrs).toHaveLength(16); // stop_div also stops on NaN
  });
});
