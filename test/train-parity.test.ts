// Training parity with PyTorch: tells an engine problem from a recipe problem. Tiny Darknet's
// body with fastai's head (dropout 0, so no randomness is left in the step) is trained for
// 32 steps by Tessera's own Learner.fitOneCycle (fastai's Adam, the one-cycle schedules, the
// real loop with its callbacks) and, from the very same initial weights and batches, by a
// PyTorch twin (train_parity.py) that writes fastai's Adam and fit_one_cycle out from
// fastai's source. Per-step losses, learning rates and momenta, and (after the first step and
// at the end) every BatchNorm's running statistics and the weights must agree. Skips, saying why, when Python cannot import torch.
//
// What "the same" can mean here: this training run is chaotic in float32. PyTorch itself,
// run once in float32 and once in float64 from the same start (the twin does both), drifts
// apart from 2e-6 at step 0 to ~1e-1 relative loss by step 20–30: the step amplifies any
// rounding difference ~1.5× per step (max-pool and LeakyReLU switches, small-batch
// BatchNorm; not Adam's eps — with eps 1e-2 it stays), at every learning rate tried
// (1e-5 … 3e-3) and batch size (8 … 32). So 1e-3 at every step is out of reach for any
// float32 engine, PyTorch included, and the bounds are anchored to that measured floor instead (printed by the test; see docs/results.md):
//  - loss at step i: 1e-3 relative, or FLOOR_FACTOR × the largest float32-vs-float64
//    difference PyTorch showed up to step i, whichever is larger. The first ~6 steps, before
//    the chaos grows, are held to 1e-3 (measured: ≤ 7e-4); a recipe slip such as a missing
//    Adam debias fails there (step 2, 2.3e-3).
//  - after the first step, BatchNorm running statistics (relative to max(1, |value|)) to 1e-4
//    (measured 9e-6; a momentum of 0.09 instead of 0.1 gives 2e-2) and the weights to 1e-4
//    (relative L2 over all parameters; measured 2e-6);
//  - at the end, the same two to 1e-4 and 1e-3, or FLOOR_FACTOR × PyTorch's own difference.
// FLOOR_FACTOR is 16 because Tessera's default 3×3 convolutions are Winograd F(4×4), whose
// forward rounding is ~10× float32 GEMM's: at step 0 the loss differs from PyTorch's by 2e-5
// (PyTorch f32 vs f64: 2e-6), so Tessera's drift starts ~10× higher on the same curve;
// measured, wherever the bound is above 1e-3, Tessera's difference is at most 8× the floor.
// With setConvAlgorithm('gemm') the step-0 difference is 6e-6, and from step 7 on Tessera's
// difference tracks PyTorch's own f32-vs-f64 one within 2×.

import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { initDevice, manualSeed, tensor } from '@tessera/tensor';
import {
  type Batch, type BatchSource, Callback, type Module, DARKNET_TINY_LAYOUT, Learner, createVisionModel, darknetTiny, exportStateDict, io,
} from '@tessera/nn';
import { mulberry32 } from '@tessera/vision';
import { runPython, type Scratch, scratchDir, torchOrSkip } from '@tessera/tensor/testing/node';

const torch = torchOrSkip('train-parity');

const SIZE = 32;
const BS = 8;
const BATCHES = 16;
const EPOCHS = 2;
const CLASSES = 4;
const HIDDEN = 512;
const LR_MAX = 1e-4;
const WD = 0.01;
/** Steps after which the state is compared too, before rounding differences have grown. */
const SNAPSHOT_AFTER = 1;

/** BATCHES batches of NHWC images (uniform noise plus a faint label-dependent tint, so the loss can fall). */
function makeBatches(): { x: Float32Array; y: Int32Array } {
  const r = mulberry32(15); // seeded: the same batches on every run
  const per = SIZE * SIZE * 3;
  const x = new Float32Array(BATCHES * BS * per);
  const y = new Int32Array(BATCHES * BS);
  for (let n = 0; n < BATCHES * BS; n++) {
    const label = Math.floor(r() * CLASSES);
    y[n] = label;
    for (let i = 0; i < per; i++) {
      const c = i % 3;
      const bias = label === 3 ? 0.025 : c === label ? 0.04 : 0;
      x[n * per + i] = r() + bias;
    }
  }
  return { x, y };
}

/** The fixed batches, the same ones every epoch (no shuffling, no augmentation). */
class FixedBatches implements BatchSource {
  constructor(
    private readonly x: Float32Array,
    private readonly y: Int32Array,
    readonly numBatches: number,
  ) {}
  async *batches(): AsyncIterable<Batch> {
    const per = BS * SIZE * SIZE * 3;
    for (let b = 0; b < this.numBatches; b++) {
      yield {
        x: tensor(this.x.subarray(b * per, (b + 1) * per), [BS, SIZE, SIZE, 3]),
        y: tensor(this.y.subarray(b * BS, (b + 1) * BS), [BS], 'i32'),
        size: BS,
      };
    }
  }
}

/** Each training batch's loss, as the loop read it back, and the state after SNAPSHOT_AFTER steps. */
class LossTap extends Callback {
  override runValid = false;
  readonly losses: number[] = [];
  early: io.StateDict | null = null;
  constructor(private readonly model: Module) {
    super();
  }
  override async afterBatch(): Promise<void> {
    this.losses.push(this.learn.loss);
    if (this.losses.length === SNAPSHOT_AFTER) this.early = await exportStateDict(this.model);
  }
}

function readState(scratch: Scratch, name: string): io.StateDict {
  return io.parseSafetensors(scratch.bytes(`${name}.safetensors`), `${name}.safetensors`).tensors;
}

interface Compared {
  /** Largest BatchNorm running-statistic difference, relative to max(1, |value|) (running means sit near 0). */
  stats: number;
  statsKey: string;
  statsCount: number;
  /** ‖Δ‖₂ / ‖w‖₂ over every parameter together: one element whose near-zero gradient flips sign moves by 2·lr, so a per-element bound would say little. */
  weights: number;
}

/** Tessera's state (a) against PyTorch's float32 (b); PyTorch float32 against float64 (b vs c) is the floor. */
function compareStates(a: io.StateDict, b: io.StateDict, c: io.StateDict): { tessera: Compared; floor: Compared } {
  const compare = (x: io.StateDict, y: io.StateDict): Compared => {
    const out: Compared = { stats: 0, statsKey: '', statsCount: 0, weights: 0 };
    let diff2 = 0;
    let norm2 = 0;
    for (const [key, t] of x) {
      if (t.dtype !== 'f32' && t.dtype !== 'f64') continue;
      const u = floats(t);
      const v = floats(y.get(key));
      expect(v.length, key).toBe(u.length);
      if (key.endsWith('running_mean') || key.endsWith('running_var')) {
        out.statsCount++;
        const d = maxDiff(u, v, 1);
        if (d > out.stats) [out.stats, out.statsKey] = [d, key];
      } else {
        for (let i = 0; i < u.length; i++) {
          diff2 += (u[i]! - v[i]!) ** 2;
          norm2 += v[i]! ** 2;
        }
      }
    }
    out.weights = Math.sqrt(diff2 / norm2);
    return out;
  };
  return { tessera: compare(a, b), floor: compare(b, c) };
}

interface TwinRun {
  torch: string;
  losses: number[];
  losses64: number[];
  lrs: number[];
  moms: number[];
}

/** The PyTorch twin, on one core, asynchronously (Tessera trains meanwhile). */
async function runTwin(scratch: Scratch): Promise<TwinRun> {
  await runPython(fileURLToPath(new URL('./train_parity.py', import.meta.url)), { args: [scratch.dir] });
  return scratch.json<TwinRun>('out.json');
}

/** How many times PyTorch's own float32-vs-float64 difference Tessera may differ by. */
const FLOOR_FACTOR = 16;

const relDiff = (a: number, b: number): number => Math.abs(a - b) / Math.abs(b);

/** Largest |a − b| / max(floor, |b|) over the elements. */
function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>, floor: number): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!) / Math.max(floor, Math.abs(b[i]!)));
  return d;
}

/**
 * The bound on step i's relative loss difference: 1e-3, or FLOOR_FACTOR times the largest
 * float32-vs-float64 difference PyTorch itself showed up to that step (a chaotic trajectory's
 * rounding differences grow as an envelope, so the running maximum is the floor).
 */
function lossBounds(floor: number[]): number[] {
  let env = 0;
  return floor.map((f) => {
    env = Math.max(env, f);
    return Math.max(1e-3, FLOOR_FACTOR * env);
  });
}

const floats = (t: io.RawTensor | undefined): Float32Array | Float64Array => {
  if (!t || !(t.data instanceof Float32Array || t.data instanceof Float64Array)) throw new Error('expected a float tensor');
  return t.data;
};

describe.skipIf(!torch.ok)('training parity with PyTorch (Tiny Darknet + fastai head, fitOneCycle, fastai Adam)', () => {
  const scratch = scratchDir('parity');
  afterAll(() => scratch.remove());

  it('gives the same losses, BatchNorm statistics and weights as the PyTorch twin', async () => {
    await initDevice();
    manualSeed(15);
    const model = createVisionModel(darknetTiny(), CLASSES, { hidden: HIDDEN, psLast: 0 });
    const { x, y } = makeBatches();
    scratch.write('x.f32', x);
    scratch.write('y.i32', y);
    scratch.write('init.safetensors', io.serializeSafetensors(await exportStateDict(model)));
    const config = { layout: DARKNET_TINY_LAYOUT, hidden: HIDDEN, classes: CLASSES, size: SIZE, bs: BS, batches: BATCHES, epochs: EPOCHS, lrMax: LR_MAX, wd: WD, snapshotAfter: SNAPSHOT_AFTER };
    scratch.write('config.json', config);
    // PyTorch trains on one core while Tessera trains beside it.
    const torchRun = runTwin(scratch);
    torchRun.catch(() => {}); // awaited below; keep an early failure from being "unhandled"

    const tap = new LossTap(model);
    const dls = { train: new FixedBatches(x, y, BATCHES), valid: new FixedBatches(x, y, 1), classes: ['a', 'b', 'c', 'd'] };
    const learn = new Learner(dls, model, { progress: false, wd: WD, cbs: [tap] });
    await learn.fitOneCycle(EPOCHS, LR_MAX);
    const mine = await exportStateDict(model);
    const ref = await torchRun;

    // The schedules first: a mismatch here is a recipe difference, not an engine one.
    const lrs = learn.recorder.lrs;
    expect(lrs).toHaveLength(EPOCHS * BATCHES);
    lrs.forEach((lr, i) => expect(Math.abs(lr - ref.lrs[i]!) / ref.lrs[i]!).toBeLessThan(1e-6));

    // Momentum too: fastai's debiasing uses each step's momentum.
    learn.recorder.moms.forEach((m, i) => expect(Math.abs(m - ref.moms[i]!)).toBeLessThan(1e-6));

    // Per step: Tessera vs PyTorch (float32), and PyTorch float32 vs float64 — the floor.
    expect(tap.losses).toHaveLength(EPOCHS * BATCHES);
    const lossDiff = tap.losses.map((l, i) => relDiff(l, ref.losses[i]!));
    const lossFloor = ref.losses.map((l, i) => relDiff(l, ref.losses64[i]!));
    const bound = lossBounds(lossFloor);
    const show = (xs: number[]) => xs.map((d) => d.toExponential(0)).join(' ');
    console.log(`[train-parity] torch ${ref.torch}: loss ${ref.losses[0]!.toFixed(4)} → ${ref.losses.at(-1)!.toFixed(4)} over ${lossDiff.length} steps`);
    console.log(`[train-parity] relative loss difference per step, Tessera vs PyTorch f32: ${show(lossDiff)} (max ${Math.max(...lossDiff).toExponential(2)})`);
    console.log(`[train-parity]                               PyTorch f32 vs f64:     ${show(lossFloor)} (max ${Math.max(...lossFloor).toExponential(2)})`);

    // The state early on (before the trajectories' rounding differences grow), and at the end.
    const early = compareStates(tap.early!, readState(scratch, 'early'), readState(scratch, 'early64'));
    const final = compareStates(mine, readState(scratch, 'final'), readState(scratch, 'final64'));
    for (const [when, c] of [[`after step ${SNAPSHOT_AFTER}`, early], ['at the end', final]] as const) {
      console.log(
        `[train-parity] ${when}: ${c.tessera.statsCount} BatchNorm statistics differ by ${c.tessera.stats.toExponential(2)} (${c.tessera.statsKey}; PyTorch f32 vs f64 ${c.floor.stats.toExponential(2)}), ` +
          `weights by ${c.tessera.weights.toExponential(2)} (relative L2; PyTorch f32 vs f64 ${c.floor.weights.toExponential(2)})`,
      );
      expect(c.tessera.statsCount).toBe(2 * (15 + 2));
    }
    lossDiff.forEach((d, i) => expect(d, `loss at step ${i}: Tessera ${tap.losses[i]}, PyTorch ${ref.losses[i]}`).toBeLessThanOrEqual(bound[i]!));
    // After the first step, BatchNorm statistics come from one forward pass of the initial weights: exact to 1e-4.
    expect(early.tessera.stats).toBeLessThan(1e-4);
    expect(early.tessera.weights).toBeLessThan(1e-4);
    expect(final.tessera.stats).toBeLessThanOrEqual(Math.max(1e-4, FLOOR_FACTOR * final.floor.stats));
    expect(final.tessera.weights).toBeLessThanOrEqual(Math.max(1e-3, FLOOR_FACTOR * final.floor.weights));
  });
});
