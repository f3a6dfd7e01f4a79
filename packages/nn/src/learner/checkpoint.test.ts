import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getSeedState, initDevice, manualSeed } from '@tessera/tensor';
import { Sequential } from '../module.js';
import { Callback } from './callback.js';
import { readSafetensors } from '../node/weight-files.js';
import { fileStore, hasCheckpoint } from '../node/file-store.js';
import { CHECKPOINT_FILE } from './checkpoint.js';
import { CheckpointError, TrainingDivergedError } from './errors.js';
import { Learner } from './learner.js';
import { Capture, Scale, TinyNet, maxAbsDiff, snapshot, tinyData } from './testing/fixtures.js';
import { MemoryStore } from './store.js';
import { EarlyStoppingCallback, SaveModelCallback } from './tracker.js';

const store = fileStore();

let root = '';
beforeAll(async () => {
  await initDevice();
  root = await mkdtemp(join(tmpdir(), 'tessera-learner-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

class CrashAt extends Callback {
  constructor(readonly epoch: number) {
    super();
  }
  override beforeEpoch(): void {
    if (this.learn.epoch === this.epoch) throw new Error('simulated crash');
  }
}

/** Overwrites the monitored column with a scripted sequence (runs between recorder and trackers). */
class Script extends Callback {
  override order = 55;
  constructor(readonly seq: number[]) {
    super();
  }
  override afterEpoch(): void {
    const row = this.learn.recorder.values[this.learn.recorder.values.length - 1]!;
    row[1] = this.seq[this.learn.epoch]!;
  }
}

describe('resume', () => {
  it('continues an interrupted one-cycle run to the same weights as an uninterrupted one', async () => {
    manualSeed(11);
    const a = new Learner(tinyData(), new TinyNet(4, 8, 3, 1), { store, progress: false });
    await a.fitOneCycle(3, 1e-2, { checkpoint: join(root, 'a') });
    const wa = await snapshot(a.model);

    const dir = join(root, 'b');
    manualSeed(11);
    const b = new Learner(tinyData(), new TinyNet(4, 8, 3, 1), { store, progress: false });
    await expect(b.fitOneCycle(3, 1e-2, { checkpoint: dir, cbs: [new CrashAt(1)] })).rejects.toThrow('simulated crash');
    expect(await hasCheckpoint(dir)).toBe(true);

    // A different initialisation and RNG state: everything must come from the checkpoint.
    manualSeed(999);
    const c = new Learner(tinyData(), new TinyNet(4, 8, 3, 77), { store, progress: false });
    const epochs: number[] = [];
    class Epochs extends Callback {
      override beforeEpoch(): void {
        epochs.push(this.learn.epoch);
      }
    }
    await c.fitOneCycle(3, 1e-2, { resume: dir, cbs: [new Epochs()] });
    expect(epochs).toEqual([1, 2]);
    expect(maxAbsDiff(wa, await snapshot(c.model))).toBeLessThanOrEqual(1e-6);
    // The recorder continued the same curves (smoothed loss included).
    expect(c.recorder.values).toHaveLength(3);
    c.recorder.values.forEach((row, i) => row.forEach((v, k) => expect(v!).toBeCloseTo(a.recorder.values[i]![k]!, 5)));
    expect(c.recorder.lrs).toEqual(a.recorder.lrs);
    expect(getSeedState()).toBeTypeOf('number');
  });

  it('refuses a checkpoint from a different run and a missing one', async () => {
    const learn = new Learner(tinyData(), new TinyNet(), { store, progress: false });
    await expect(learn.fitOneCycle(5, 1e-2, { resume: join(root, 'b') })).rejects.toThrow(CheckpointError);
    await expect(learn.fit(3, 1e-2, { resume: join(root, 'b') })).rejects.toThrow(/belongs to fitOneCycle/);
    await expect(learn.fit(3, 1e-2, { resume: join(root, 'nothing') })).rejects.toThrow(/no checkpoint/);
  });

  it('resumes fineTune in its unfrozen stage', async () => {
    manualSeed(4);
    const a = new Learner(tinyData(), new TinyNet(4, 8, 3, 1), { store, progress: false });
    await a.fineTune(2, 1e-2);
    const dir = join(root, 'ft');
    const b = new Learner(tinyData(), new TinyNet(4, 8, 3, 1), { store, progress: false });
    let fits = 0;
    class CrashInStage2 extends Callback {
      override beforeFit(): void {
        fits++;
      }
      override beforeEpoch(): void {
        if (fits === 2 && this.learn.epoch === 1) throw new Error('simulated crash');
      }
    }
    b.addCbs([new CrashInStage2()]);
    await expect(b.fineTune(2, 1e-2, { checkpoint: dir })).rejects.toThrow('simulated crash');
    const c = new Learner(tinyData(), new TinyNet(4, 8, 3, 5), { store, progress: false });
    let c1 = 0;
    class Count extends Callback {
      override beforeEpoch(): void {
        c1++;
      }
    }
    c.addCbs([new Count()]);
    await c.fineTune(2, 1e-2, { resume: dir });
    expect(c1).toBe(1); // only the last unfrozen epoch ran
    expect(maxAbsDiff(await snapshot(a.model), await snapshot(c.model))).toBeLessThanOrEqual(1e-6);
  });

  it('keeps the last good checkpoint when training diverges, and leaves no temp files', async () => {
    const dir = join(root, 'div');
    const scale = new Scale(1);
    const model = new Sequential(new TinyNet(), scale);
    const learn = new Learner(tinyData(), model, { store, progress: false });
    class Poison extends Callback {
      override beforeBatch(): void {
        if (this.learn.training && this.learn.epoch === 1 && this.learn.iter === 1) scale.factor = NaN;
      }
    }
    const err = await learn.fit(3, 1e-3, { checkpoint: dir, cbs: [new Poison()] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TrainingDivergedError);
    const file = join(dir, CHECKPOINT_FILE);
    expect((err as Error).message).toContain(file);
    const before = await readFile(file);
    const st = await readSafetensors(file);
    const meta = JSON.parse(st.metadata['tessera.learner']!) as { run: { epoch: number } };
    expect(meta.run.epoch).toBe(1);
    expect([...st.tensors.keys()].some((k) => k.startsWith('@opt/'))).toBe(true);
    expect(st.tensors.has('0.head.0.weight')).toBe(true);
    expect(await readdir(dir)).toEqual([CHECKPOINT_FILE]);
    expect((await readFile(file)).equals(before)).toBe(true);
  });
});

describe('a non-finite validation loss', () => {
  it('is divergence: no checkpoint or best model is written from that epoch', async () => {
    const dir = join(root, 'div-valid');
    const path = join(root, 'div-valid-best');
    const scale = new Scale(1);
    const learn = new Learner(tinyData(), new Sequential(new TinyNet(), scale), { store, path, progress: false });
    // Training stays finite; only epoch 1's validation pass sees NaN outputs.
    class PoisonValid extends Callback {
      override beforeValidate(): void {
        if (this.learn.epoch === 1) scale.factor = NaN;
      }
      override afterValidate(): void {
        scale.factor = 1;
      }
    }
    const save = new SaveModelCallback({ fname: 'best' });
    const err = await learn.fit(3, 1e-3, { checkpoint: dir, cbs: [new PoisonValid(), save] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TrainingDivergedError);
    expect((err as TrainingDivergedError).during).toBe('validation');
    expect((err as Error).message).toMatch(/validation loss became NaN at the end of epoch 1/);
    const st = await readSafetensors(join(dir, CHECKPOINT_FILE));
    expect((JSON.parse(st.metadata['tessera.learner']!) as { run: { epoch: number } }).run.epoch).toBe(1);
    expect(save.best).not.toBeNaN();
    expect(learn.recorder.values).toHaveLength(1);
  });
});

describe('SaveModelCallback / EarlyStoppingCallback', () => {
  it('saves the best epoch by the monitored value and reloads it at the end', async () => {
    const path = join(root, 'save');
    const out = new Capture();
    const learn = new Learner(tinyData(), new TinyNet(), { store, path, progress: { out } });
    const perEpoch: Map<string, number[]>[] = [];
    class Keep extends Callback {
      override order = 56;
      override async afterEpoch(): Promise<void> {
        perEpoch.push(await snapshot(this.learn.model));
      }
    }
    const save = new SaveModelCallback();
    await learn.fit(3, 1e-2, { cbs: [new Script([0.5, 0.3, 0.4]), new Keep(), save] });
    expect(save.best).toBe(0.3);
    expect(out.text).toContain('Better model found at epoch 0 with valid_loss value: 0.5.');
    expect(out.text).toContain('Better model found at epoch 1 with valid_loss value: 0.3.');
    expect(out.text).not.toContain('at epoch 2');
    expect(save.lastSavedPath).toBe(join(path, 'models', 'model.safetensors'));
    expect((await stat(save.lastSavedPath!)).isFile()).toBe(true);
    expect(maxAbsDiff(perEpoch[1]!, await snapshot(learn.model))).toBe(0);
    expect(maxAbsDiff(perEpoch[2]!, await snapshot(learn.model))).toBeGreaterThan(0);
    expect((await readdir(join(path, 'models'))).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('stops after `patience` epochs without improvement', async () => {
    const out = new Capture();
    const learn = new Learner(tinyData(), new TinyNet(), { store, progress: { out } });
    const es = new EarlyStoppingCallback({ patience: 2 });
    await learn.fit(6, 1e-2, { cbs: [new Script([0.5, 0.6, 0.7, 0.4, 0.3, 0.2]), es] });
    expect(learn.recorder.values).toHaveLength(3);
    expect(out.text).toContain('No improvement since epoch 0: early stopping');
  });

  it('monitors metrics with the right direction and min_delta', async () => {
    const learn = new Learner(tinyData(), new TinyNet(), { store, progress: false });
    const es = new EarlyStoppingCallback({ monitor: 'valid_loss', minDelta: 0.15, patience: 1 });
    await learn.fit(4, 1e-2, { cbs: [new Script([0.5, 0.4, 0.1, 0.0]), es] });
    // 0.4 is not 0.15 better than 0.5: stop after epoch 1.
    expect(learn.recorder.values).toHaveLength(2);
    const bad = new Learner(tinyData(), new TinyNet(), { store, progress: false });
    await expect(bad.fit(1, 1e-2, { cbs: [new SaveModelCallback({ monitor: 'accuracy' })] })).rejects.toThrow(/cannot monitor 'accuracy'/);
  });
});

describe('save / load', () => {
  it('round-trips model and optimizer state', async () => {
    const path = join(root, 'sl');
    const learn = new Learner(tinyData(), new TinyNet(), { store, path, progress: false });
    await learn.fit(1, 1e-2);
    const file = await learn.save('m1');
    const w = await snapshot(learn.model);
    const opt = new Map<string, number[]>();
    for (const [k, t] of learn.opt!.stateTensors()) opt.set(k, Array.from(await t.toArray()));
    const other = new Learner(tinyData(), new TinyNet(4, 8, 3, 9), { store, path, progress: false });
    await other.load('m1');
    expect(maxAbsDiff(w, await snapshot(other.model))).toBe(0);
    const opt2 = new Map<string, number[]>();
    for (const [k, t] of other.opt!.stateTensors()) opt2.set(k, Array.from(await t.toArray()));
    expect(maxAbsDiff(opt, opt2)).toBe(0);
    expect(opt.size).toBeGreaterThan(0);
    expect(file).toBe(join(path, 'models', 'm1.safetensors'));
  });
});

describe('the default store', () => {
  it('keeps saves and checkpoints in memory, and resumes from them', async () => {
    manualSeed(3);
    const a = new Learner(tinyData(), new TinyNet(4, 8, 3, 1), { progress: false });
    await a.fitOneCycle(2, 1e-2, { checkpoint: 'run' });
    expect(a.store).toBeInstanceOf(MemoryStore);
    expect([...(a.store as MemoryStore).files.keys()]).toEqual(['run/checkpoint.safetensors']);
    expect(await a.save('m')).toBe('models/m.safetensors');

    manualSeed(3);
    const b = new Learner(tinyData(), new TinyNet(4, 8, 3, 1), { progress: false });
    await expect(b.fitOneCycle(2, 1e-2, { checkpoint: 'run', cbs: [new CrashAt(1)] })).rejects.toThrow('simulated crash');
    manualSeed(999);
    const c = new Learner(tinyData(), new TinyNet(4, 8, 3, 77), { store: b.store, progress: false });
    await c.fitOneCycle(2, 1e-2, { resume: 'run' });
    expect(maxAbsDiff(await snapshot(a.model), await snapshot(c.model))).toBeLessThanOrEqual(1e-6);
    const d = new Learner(tinyData(), new TinyNet(4, 8, 3, 5), { store: a.store, progress: false });
    await d.load('m');
    expect(maxAbsDiff(await snapshot(a.model), await snapshot(d.model))).toBe(0);
  });
});
