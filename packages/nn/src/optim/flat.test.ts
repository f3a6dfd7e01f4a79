// The flat path — each group packed into one buffer and updated by one dispatch per
// step — against the per-parameter path (`flat: false`, one dispatch per parameter,
// itself checked against PyTorch and fastai in optim.test.ts): parameters, state and
// Adam's step counts over several steps, for SGD (plain, momentum, Nesterov, weight
// decay) and Adam; with parameters that have no gradient or are frozen, with unequal
// step counts, and across checkpoint save/restore. Dispatches are counted per step.
// Planted mistakes (decaying the no-decay tail, Adam on a faked zero gradient, one
// debiasing for unequal step counts) must be caught.

import { rng } from '@tessera/tensor/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Tensor, initDevice, queueStats, tensor } from '@tessera/tensor';
import { captureOptimizer, restoreOptimizer } from '../learner/state.js';
import { Adam, type AdamHyper } from './adam.js';
import { adamStep, type UpdateRange } from './kernels.js';
import type { Optimizer } from './optimizer.js';
import { SGD } from './sgd.js';

// Decayed and no-decay (rank-1) parameters interleaved, so that the layout reorders
// them; sizes not divisible by 4 and of 1; one over several workgroups; two groups.
// Group 0's layout: 0, 2, 4, 5 (decayed), then 1, 3, 6 (no decay); group 1's: 7, 9, then 8.
const SPECS = [
  { shape: [4, 3, 3, 2], group: 0 },
  { shape: [5], group: 0 },
  { shape: [3, 3], group: 0 },
  { shape: [1], group: 0 },
  { shape: [700, 3], group: 0 },
  { shape: [1, 1], group: 0 },
  { shape: [7], group: 0 },
  { shape: [2, 5, 3], group: 1 },
  { shape: [6], group: 1 },
  { shape: [4, 4], group: 1 },
];
const STEPS = 6;
const LR = [0.05, 0.01];
/** Both paths run the same float32 arithmetic: observed differences are 0. */
const TOL = 1e-6;
/** What a planted mistake must exceed (far above TOL, so catching it is no accident of rounding). */
const CAUGHT = 1e-4;

const numel = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

interface Problem {
  params: Float32Array[];
  grads: Float32Array[][]; // [step][param]
}

function makeProblem(seed: number): Problem {
  const u = rng(seed);
  const r = () => u() * 2 - 1;
  const params = SPECS.map((s) => Float32Array.from({ length: numel(s.shape) }, r));
  const grads = Array.from({ length: STEPS }, () => SPECS.map((s) => Float32Array.from({ length: numel(s.shape) }, (_, i) => (i % 13 === 0 ? 0 : r()))));
  return { params, grads };
}

interface Plan {
  /** Whether parameter k has a gradient at step s (default: always). */
  hasGrad?: (s: number, k: number) => boolean;
  /** Parameters with requiresGrad false: they get gradients anyway, which the optimizer must ignore. */
  frozen?: number[];
  /** After this many steps, save the state, and go on with a new optimizer restored from it… */
  checkpointAfter?: number;
  /** …which is flat or not (default: as the one that saved). */
  resumeFlat?: boolean;
  /** A planted mistake: zero gradients where the plan has none. */
  fakeZeroGrads?: boolean;
}

type Make = (groups: Tensor[][], flat: boolean) => Optimizer;

interface Outcome {
  values: Map<string, Float32Array>;
  steps: number[] | null;
  dispatches: number[];
}

function setGrads(params: Tensor[], pr: Problem, plan: Plan, s: number): void {
  params.forEach((p, k) => {
    p.grad?.dispose();
    const has = plan.hasGrad?.(s, k) ?? true;
    const g = has ? pr.grads[s]![k]! : plan.fakeZeroGrads ? new Float32Array(p.size) : null;
    p.grad = g && tensor(g, SPECS[k]!.shape);
  });
}

/** What a run leaves: every parameter, every state tensor (by checkpoint key) and Adam's step counts. */
async function outcome(params: Tensor[], opt: Optimizer, dispatches: number[]): Promise<Outcome> {
  const values = new Map<string, Float32Array>();
  for (const [k, p] of params.entries()) values.set(`param ${k}`, (await p.toArray()) as Float32Array);
  for (const [k, t] of opt.stateTensors()) values.set(`state ${k}`, (await t.toArray()) as Float32Array);
  const steps = opt instanceof Adam ? opt.paramSteps() : null;
  return { values, steps, dispatches };
}

async function train(pr: Problem, make: Make, flat: boolean, plan: Plan = {}): Promise<Outcome> {
  const params = pr.params.map((d, k) => tensor(d, SPECS[k]!.shape).requireGrad(!plan.frozen?.includes(k)).keep());
  const groups = [0, 1].map((g) => params.filter((_, k) => SPECS[k]!.group === g));
  let opt = make(groups, flat);
  const dispatches: number[] = [];
  for (let s = 0; s < STEPS; s++) {
    if (s === plan.checkpointAfter) opt = await resume(opt, () => make(groups, plan.resumeFlat ?? flat));
    setGrads(params, pr, plan, s);
    opt.set('lr', LR.map((lr) => lr * (1 + 0.5 * Math.sin(s)))); // a schedule
    const before = queueStats().dispatches;
    opt.step();
    dispatches.push(queueStats().dispatches - before);
  }
  const out = await outcome(params, opt, dispatches);
  opt.zeroGrad();
  opt.dispose();
  params.forEach((p) => p.dispose());
  return out;
}

/** Saves the optimizer as checkpoints do, disposes it and restores the state into a new one. */
async function resume(opt: Optimizer, make: () => Optimizer): Promise<Optimizer> {
  const { tensors, meta } = await captureOptimizer(opt);
  opt.dispose();
  const next = make();
  restoreOptimizer(next, tensors, meta);
  return next;
}

/** Max |a − b| over every parameter and state element; the two runs must hold the same keys and step counts. */
function maxDiff(a: Outcome, b: Outcome): number {
  expect(a.steps).toEqual(b.steps);
  return valueDiff(a, b);
}

/** Max |a − b| over every parameter and state element (the same keys). */
function valueDiff(a: Outcome, b: Outcome): number {
  expect([...a.values.keys()].sort()).toEqual([...b.values.keys()].sort());
  let worst = 0;
  for (const [k, x] of a.values) {
    const y = b.values.get(k)!;
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i]! - y[i]!));
  }
  return worst;
}

const OPTIMIZERS: { name: string; make: Make }[] = [
  { name: 'sgd-plain', make: (g, flat) => new SGD(g, { flat }) },
  { name: 'sgd-momentum-wd', make: (g, flat) => new SGD(g, { mom: 0.9, wd: 0.05, flat }) },
  { name: 'sgd-nesterov-wd', make: (g, flat) => new SGD(g, { mom: 0.9, wd: 0.05, nesterov: true, flat }) },
  { name: 'adam', make: (g, flat) => new Adam(g, { wd: 0.1, flat }) },
];
const adam = OPTIMIZERS[3]!.make;

/** Parameter 2 (in the middle of group 0's decayed range) misses step 1 only. */
const missesStep1 = (s: number, k: number) => !(k === 2 && s === 1);

/** Runs both paths, checks they agree, and returns the flat run's dispatches per step. */
async function agree(name: string, pr: Problem, make: Make, plan: Plan = {}): Promise<number[]> {
  const flat = await train(pr, make, true, plan);
  const each = await train(pr, make, false, plan);
  const err = maxDiff(flat, each);
  console.log(`[flat] ${name}: max difference ${err.toExponential(2)}; dispatches per step ${flat.dispatches.join(', ')} (per parameter: ${each.dispatches.join(', ')})`);
  expect(err).toBeLessThanOrEqual(TOL);
  return flat.dispatches;
}

beforeAll(async () => {
  await initDevice();
});

describe('flat path = per-parameter path', () => {
  for (const { name, make } of OPTIMIZERS) {
    it(`${name}: every parameter has a gradient — one dispatch per group and step`, async () => {
      expect(await agree(`${name} all`, makeProblem(1), make)).toEqual(Array(STEPS).fill(2));
    });

    it(`${name}: a parameter without gradient, one frozen — left out, the rest in runs around them`, async () => {
      // Group 0 runs: [0] and [4, 5, 1, 3], around parameter 2 (no gradient) and before 6 (frozen); group 1 one.
      const plan: Plan = { hasGrad: (_, k) => k !== 2, frozen: [6] };
      expect(await agree(`${name} gradient-less + frozen`, makeProblem(2), make, plan)).toEqual(Array(STEPS).fill(3));
    });

    it(`${name}: a frozen body whose no-decay parameters still train — one dispatch for that tail`, async () => {
      const plan: Plan = { frozen: [0, 2, 4, 5, 7, 9] };
      expect(await agree(`${name} frozen body`, makeProblem(3), make, plan)).toEqual(Array(STEPS).fill(2));
    });

    it(`${name}: checkpoint after 3 steps, restored into a flat and into a per-parameter optimizer`, async () => {
      const pr = makeProblem(4);
      const plan: Plan = { checkpointAfter: 3, hasGrad: missesStep1 };
      const straight = await train(pr, make, false, { hasGrad: missesStep1 });
      for (const [saveFlat, resumeFlat] of [[true, true], [true, false], [false, true]] as const) {
        const resumed = await train(pr, make, saveFlat, { ...plan, resumeFlat });
        expect(maxDiff(resumed, straight)).toBeLessThanOrEqual(TOL);
      }
    });
  }

  it('adam: unequal step counts split the run — one dispatch per step count', async () => {
    // Step 1: group 0 runs [0] and [4, 5, 1, 3, 6] around parameter 2. Then parameter 2 is one step
    // behind its neighbours: [0], [2] and [4, 5, 1, 3, 6]. Group 1: one run throughout.
    expect(await agree('adam unequal steps', makeProblem(5), adam, { hasGrad: missesStep1 })).toEqual([2, 3, 4, 4, 4, 4]);
  });
});

describe('parameters that move', () => {
  it('an optimizer whose parameters another one packed elsewhere updates them where they now are', async () => {
    const a = tensor([1, 2, 3], [3]).requireGrad(true);
    const b = tensor([4, 5], [2]).requireGrad(true);
    const first = new SGD([a, b], { lr: 1, mom: 0.5 });
    const second = new SGD([b, a], { lr: 1 }); // packs them again, into its own buffer
    a.grad = tensor([1, 1, 1], [3]);
    b.grad = tensor([2, 2], [2]);
    const before = queueStats().dispatches;
    first.step(); // momentum buffer = g
    first.step(); // buffer = 0.5·g + g
    expect(queueStats().dispatches - before).toBe(4); // one by one: its chunk is no longer where a and b are
    expect([...(await a.toArray()), ...(await b.toArray())]).toEqual([-1.5, -0.5, 0.5, -1, 0]);
    second.step();
    expect([...(await a.toArray()), ...(await b.toArray())]).toEqual([-2.5, -1.5, -0.5, -3, -2]);
    first.zeroGrad();
    [first, second].forEach((o) => o.dispose());
    [a, b].forEach((t) => t.dispose());
  });
});

/** Adam with the no-decay boundary lost: every element decays. */
class DecaysEverything extends Adam {
  protected override update(r: UpdateRange, h: AdamHyper, params: readonly Tensor[]): void {
    super.update({ ...r, decayEnd: r.n }, h, params);
  }
}

/** Adam that fuses across step counts and debiases every run with its first parameter's count. */
class MergesStepCounts extends Adam {
  private readonly own = new Map<Tensor, number>();
  protected override fuseKey(): number {
    return 0;
  }
  protected override update(r: UpdateRange, h: AdamHyper, params: readonly Tensor[]): void {
    const step = (this.own.get(params[0]!) ?? 0) + 1;
    for (const p of params) this.own.set(p, (this.own.get(p) ?? 0) + 1);
    adamStep(r, { lr: h.lr, beta1: h.mom, beta2: h.sqrMom, eps: h.eps, wd: h.wd, step });
  }
}

describe('planted mistakes are caught', () => {
  async function flatVsEach(make: Make, plan: Plan, reference: Plan = plan): Promise<number> {
    const pr = makeProblem(6);
    return valueDiff(await train(pr, make, true, plan), await train(pr, adam, false, reference));
  }

  it('weight decay on the no-decay tail', async () => {
    expect(await flatVsEach((g, flat) => new DecaysEverything(g, { wd: 0.1, flat }), {})).toBeGreaterThan(CAUGHT);
  });

  it('Adam on a zero gradient instead of skipping the parameter', async () => {
    const err = await flatVsEach(adam, { hasGrad: missesStep1, fakeZeroGrads: true }, { hasGrad: missesStep1 });
    expect(err).toBeGreaterThan(CAUGHT);
  });

  it('one debiasing for parameters on different steps', async () => {
    const merged: Make = (g, flat) => new MergesStepCounts(g, { wd: 0.1, flat });
    // Harmless while the step counts agree…
    const pr = makeProblem(7);
    expect(valueDiff(await train(pr, merged, true), await train(pr, adam, false))).toBeLessThanOrEqual(TOL);
    // …caught when they do not.
    const plan: Plan = { hasGrad: missesStep1 };
    expect(valueDiff(await train(pr, merged, true, plan), await train(pr, adam, false, plan))).toBeGreaterThan(CAUGHT);
  });
});
