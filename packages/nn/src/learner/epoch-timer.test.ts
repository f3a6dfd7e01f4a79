/** EpochTimer: an epoch's wall time split into steps, data waits, validation and after-epoch work (checkpoint included). */
import { beforeAll, describe, expect, it } from 'vitest';
import { initDevice, manualSeed } from '@tessera/tensor';
import { Callback } from './callback.js';
import { Learner } from './learner.js';
import { type Batch, type BatchSource } from './data.js';
import { TinyNet, tinyData } from './testing/fixtures.js';

beforeAll(async () => {
  await initDevice();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A source whose every batch arrives `ms` late (a slow loader). */
function slow(src: BatchSource, ms: number): BatchSource {
  return {
    get numBatches() {
      return src.numBatches;
    },
    async *batches(epoch: number): AsyncIterable<Batch> {
      for await (const b of src.batches(epoch)) {
        await sleep(ms);
        yield b;
      }
    },
  } as BatchSource;
}

/** Slow work after the epoch row (like writing metrics files). */
class SlowAfterEpoch extends Callback {
  override order = 70;
  override async afterEpoch(): Promise<void> {
    await sleep(60);
  }
}

describe('EpochTimer', () => {
  it('splits each epoch into steps, data waits, validation and after-epoch work, checkpoint included', async () => {
    manualSeed(5);
    const d = tinyData(); // 4 training batches, 2 validation batches
    const learn = new Learner({ train: slow(d.train, 40), valid: slow(d.valid, 40), classes: d.classes }, new TinyNet(), { progress: false, cbs: [new SlowAfterEpoch()] });
    expect(learn.timer.firstStepAt).toBeNull();
    await learn.fit(2, 1e-2, { checkpoint: 'ck' });
    const [e0, e1] = learn.timer.epochs;
    expect(learn.timer.epochs).toHaveLength(2);
    expect(learn.timer.firstStepAt).not.toBeNull();
    for (const e of [e0!, e1!]) {
      expect(e.steps).toBe(4);
      // 6 batches each 40 ms late (timers may fire a little early).
      expect(e.data_wait_s).toBeGreaterThan(6 * 0.035);
      // Of which the 2 validation batches' waits.
      expect(e.valid_data_wait_s).toBeGreaterThan(2 * 0.035);
      expect(e.valid_data_wait_s).toBeLessThan(e.data_wait_s - 3 * 0.035);
      expect(e.after_s).toBeGreaterThan(0.055);
      expect(e.checkpoint_s).toBeGreaterThan(0);
      expect(e.checkpoint_s).toBeLessThan(e.after_s);
      expect(e.step_median_s).toBeGreaterThan(0);
      expect(e.first_step_s).toBeGreaterThan(0);
      // The parts add up to the epoch (what is left is bookkeeping between callbacks).
      const parts = e.step_s + e.data_wait_s + e.valid_s + e.after_s;
      expect(parts).toBeLessThanOrEqual(e.seconds + 1e-6);
      expect(e.seconds - parts).toBeLessThan(0.05 + 0.1 * e.seconds);
    }
  });
});
