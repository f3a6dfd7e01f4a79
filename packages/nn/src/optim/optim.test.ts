// The fused optimizers against their definitions: PyTorch's SGD (momentum, Nesterov,
// coupled weight decay) and fastai's Adam (dampened moments, debiased step, decoupled
// weight decay, none on rank-1 parameters), written out here on the CPU in float64, over
// several steps with a learning-rate schedule and two parameter groups with their own lr.
// Also against torch.optim.SGD / torch.optim.AdamW (fastai's Adam is AdamW's formula) when
// PyTorch is installed (the one Python bridge; skipped, saying why, otherwise), and counts dispatches.
// Both update paths are checked: the flat one (the default: a group packed into one
// buffer, one dispatch per group) and the per-parameter one (`flat: false`), which
// flat.test.ts uses as the reference for everything the formulas here do not cover.

import { rng as unitRng } from '@tessera/tensor/testing';
import { runPython, scratchDir, torchOrSkip } from '@tessera/tensor/testing/node';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Tensor, initDevice, queueStats, sync, tensor, zeros } from '@tessera/tensor';
import { SGD, type SgdHyper } from './sgd.js';
import { Adam, type AdamHyper } from './adam.js';
import type { Optimizer } from './optimizer.js';

/** Deterministic uniform(-1, 1) stream. */
function rng(seed: number): () => number {
  const u = unitRng(seed);
  return () => u() * 2 - 1;
}

// Shapes cover rank 4 (an OHWI convolution), rank 2, rank 1 (no weight decay) and a
// parameter spanning several workgroups; two groups. Sizes divisible by 4 take the vec4
// kernels, the odd ones ([7], [5, 3]) the scalar ones.
const SPECS = [
  { shape: [4, 3, 3, 2], group: 0 },
  { shape: [4], group: 0 },
  { shape: [7], group: 0 },
  { shape: [1000, 3], group: 1 },
  { shape: [5, 3], group: 1 },
  { shape: [300], group: 1 },
];
const STEPS = 6;
/** lr multiplier per step: a schedule changes lr between steps. */
const LR_SCALE = [1, 1, 0.5, 0.5, 2, 1];

interface Problem {
  params: Float32Array[];
  grads: Float32Array[][]; // [step][param]
}

function makeProblem(seed: number): Problem {
  const r = rng(seed);
  const numel = (s: number[]) => s.reduce((a, b) => a * b, 1);
  const params = SPECS.map((s) => Float32Array.from({ length: numel(s.shape) }, () => r()));
  // Gradients of varied scale, some exactly zero (Adam's v stays 0 there: eps matters).
  const grads = Array.from({ length: STEPS }, (_, step) =>
    SPECS.map((s) => Float32Array.from({ length: numel(s.shape) }, (_, i) => (i % 17 === 0 ? 0 : r() * (step % 2 ? 0.1 : 1)))),
  );
  return { params, grads };
}

// ---- CPU references, float64 ----

function sgdReference(pr: Problem, groups: SgdHyper[]): Float64Array[] {
  const ps = pr.params.map((p) => Float64Array.from(p));
  const bufs = ps.map(() => null as Float64Array | null);
  for (let s = 0; s < STEPS; s++) {
    ps.forEach((p, k) => {
      const h = groups[SPECS[k]!.group]!;
      const wd = SPECS[k]!.shape.length === 1 ? 0 : h.wd;
      const lr = h.lr * LR_SCALE[s]!;
      const g = pr.grads[s]![k]!;
      for (let i = 0; i < p.length; i++) {
        let d = g[i]! + wd * p[i]!;
        if (h.mom !== 0) {
          // torch.optim.SGD: the buffer starts as a copy of the first d_p (dampening 0).
          const b = (bufs[k] ??= new Float64Array(p.length));
          b[i] = s === 0 ? d : h.mom * b[i]! + d;
          d = h.nesterov ? d + h.mom * b[i]! : b[i]!;
        }
        p[i] = p[i]! - lr * d;
      }
    });
  }
  return ps;
}

function adamReference(pr: Problem, groups: AdamHyper[]): Float64Array[] {
  const ps = pr.params.map((p) => Float64Array.from(p));
  const ms = ps.map((p) => new Float64Array(p.length));
  const vs = ps.map((p) => new Float64Array(p.length));
  for (let s = 0; s < STEPS; s++) {
    const t = s + 1;
    ps.forEach((p, k) => {
      const h = groups[SPECS[k]!.group]!;
      const wd = SPECS[k]!.shape.length === 1 ? 0 : h.wd;
      const lr = h.lr * LR_SCALE[s]!;
      const g = pr.grads[s]![k]!;
      const [m, v] = [ms[k]!, vs[k]!];
      // fastai.optimizer: weight_decay (decoupled), average_grad(dampening=True),
      // average_sqr_grad(dampening=True), step_stat, adam_step.
      for (let i = 0; i < p.length; i++) {
        p[i] = p[i]! * (1 - lr * wd);
        m[i] = h.mom * m[i]! + (1 - h.mom) * g[i]!;
        v[i] = h.sqrMom * v[i]! + (1 - h.sqrMom) * g[i]! * g[i]!;
        const debias1 = 1 - h.mom ** t;
        const debias2 = 1 - h.sqrMom ** t;
        p[i] = p[i]! - (lr / debias1) * (m[i]! / (Math.sqrt(v[i]! / debias2) + h.eps));
      }
    });
  }
  return ps;
}

// ---- Tessera ----

interface Run {
  final: Float32Array[];
  dispatchesPerStep: number[];
}

/** What the runs use of an optimizer (SGD and Adam differ in their hyper-parameter types). */
type AnyOptimizer = Pick<Optimizer, 'step' | 'zeroGrad' | 'dispose'> & { set(key: 'lr', value: number[]): void };

async function runTessera(pr: Problem, make: (groups: Tensor[][]) => AnyOptimizer, groupLr: number[]): Promise<Run> {
  const params = pr.params.map((d, k) => tensor(d, SPECS[k]!.shape).requireGrad(true).keep());
  const groups = [0, 1].map((g) => params.filter((_, k) => SPECS[k]!.group === g));
  const opt = make(groups);
  const dispatchesPerStep: number[] = [];
  for (let s = 0; s < STEPS; s++) {
    params.forEach((p, k) => {
      p.grad?.dispose();
      p.grad = tensor(pr.grads[s]![k]!, SPECS[k]!.shape);
    });
    opt.set('lr', groupLr.map((lr) => lr * LR_SCALE[s]!));
    const before = queueStats().dispatches;
    opt.step();
    dispatchesPerStep.push(queueStats().dispatches - before);
  }
  const final = await Promise.all(params.map(async (p) => (await p.toArray()) as Float32Array));
  opt.zeroGrad();
  opt.dispose();
  params.forEach((p) => p.dispose());
  return { final, dispatchesPerStep };
}

/**
 * Max |a − b| / (|b| + 1) over every element: relative for the O(1) parameters, absolute
 * near zero (where float32 state rounding dominates a relative measure).
 */
function maxRelErr(a: ArrayLike<number>[], b: ArrayLike<number>[]): number {
  let worst = 0;
  a.forEach((x, k) => {
    const y = b[k]!;
    expect(x.length).toBe(y.length);
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i]! - y[i]!) / (Math.abs(y[i]!) + 1));
  });
  return worst;
}

const LR = [0.1, 0.01];
/** Observed max errors are 4e-8–4e-7 (float32 state vs float64 reference or torch's float32). */
const TOL = 2e-6;
const SGD_RUNS: { name: string; hyper: Omit<SgdHyper, 'lr'> }[] = [
  { name: 'sgd-plain', hyper: { mom: 0, wd: 0, nesterov: false } },
  { name: 'sgd-momentum-wd', hyper: { mom: 0.9, wd: 0.05, nesterov: false } },
  { name: 'sgd-nesterov-wd', hyper: { mom: 0.9, wd: 0.05, nesterov: true } },
];
const ADAM_HYPER: Omit<AdamHyper, 'lr'> = { mom: 0.9, sqrMom: 0.99, eps: 1e-5, wd: 0.01 };

beforeAll(async () => {
  await initDevice();
});

const PATHS = [
  { path: 'flat', flat: true },
  { path: 'per-parameter', flat: false },
];

describe('SGD against the PyTorch formula (CPU reference)', () => {
  for (const run of SGD_RUNS) {
    for (const { path, flat } of PATHS) {
      it(`${run.name} (${path}): ${STEPS} steps, two groups with their own lr, an lr schedule`, async () => {
        const pr = makeProblem(1);
        const got = await runTessera(pr, (g) => new SGD(g, { ...run.hyper, flat }), LR);
        const want = sgdReference(pr, LR.map((lr) => ({ lr, ...run.hyper })));
        const err = maxRelErr(got.final, want);
        console.log(`[optim] ${run.name} (${path}) vs CPU reference: max error ${err.toExponential(2)}`);
        expect(err).toBeLessThan(TOL);
      });
    }
  }
});

describe("Adam against fastai's formula (CPU reference)", () => {
  it('defaults are fastai’s: betas (0.9, 0.99), eps 1e-5, decoupled wd 0.01', () => {
    const p = zeros([2]).requireGrad(true);
    const opt = new Adam([p]);
    expect(opt.groups[0]!.hyper).toEqual({ lr: 1e-3, mom: 0.9, sqrMom: 0.99, eps: 1e-5, wd: 0.01 });
    opt.dispose();
    p.dispose();
  });

  for (const { path, flat } of PATHS) {
    it(`${path}: ${STEPS} steps, two groups with their own lr, an lr schedule, no wd on rank-1 parameters`, async () => {
      const pr = makeProblem(2);
      const got = await runTessera(pr, (g) => new Adam(g, { ...ADAM_HYPER, flat }), LR);
      const want = adamReference(pr, LR.map((lr) => ({ lr, ...ADAM_HYPER })));
      const err = maxRelErr(got.final, want);
      console.log(`[optim] adam (${path}) vs CPU reference: max error ${err.toExponential(2)}`);
      expect(err).toBeLessThan(TOL);
      // Decaying the rank-1 parameters too would move them by ~(lr·wd·steps) ≈ 6e-3 / 6e-4
      // relative (groups 0 / 1): far above the tolerance, so the exemption is checked above.
    });
  }
});

describe('dispatches', () => {
  it('one fused dispatch per group per step (flat), per parameter (per-parameter path)', async () => {
    const pr = makeProblem(3);
    const makers: ((g: Tensor[][], flat: boolean) => AnyOptimizer)[] = [
      (g, flat) => new SGD(g, { mom: 0.9, nesterov: true, wd: 0.01, flat }),
      (g, flat) => new Adam(g, { flat }),
    ];
    for (const make of makers) {
      // Flat: the state is zeroed by clear commands, not kernels, so every step is one dispatch per group.
      const flat = await runTessera(pr, (g) => make(g, true), LR);
      console.log(`[optim] flat: dispatches per step ${flat.dispatchesPerStep.join(', ')} (2 groups, ${SPECS.length} parameters)`);
      expect(flat.dispatchesPerStep).toEqual(Array(STEPS).fill(2));
      // Per parameter: the first step also fills the state tensors with zeros; every later step is 1 per parameter.
      const each = await runTessera(pr, (g) => make(g, false), LR);
      expect(each.dispatchesPerStep.slice(1)).toEqual(Array(STEPS - 1).fill(SPECS.length));
    }
  });

  for (const { path, flat } of PATHS) {
    it(`${path}: none for frozen or gradient-less parameters`, async () => {
      await frozenAndGradientless(flat);
    });
  }

  async function frozenAndGradientless(flat: boolean): Promise<void> {
    const a = tensor([1, 2], [2]).requireGrad(true);
    const b = tensor([3, 4], [2]).requireGrad(true);
    const c = tensor([5, 6], [2]).requireGrad(true);
    const opt = new SGD([a, b, c], { lr: 1, flat });
    a.grad = tensor([1, 1], [2]);
    b.grad = tensor([1, 1], [2]);
    b.requiresGrad = false; // frozen
    opt.step(); // creates a's momentum buffer
    const before = queueStats().dispatches;
    opt.step();
    expect(queueStats().dispatches - before).toBe(1);
    await sync();
    expect([...(await a.toArray()), ...(await b.toArray()), ...(await c.toArray())]).toEqual([-1, 0, 3, 4, 5, 6]);
    opt.zeroGrad();
    expect([a.grad, b.grad]).toEqual([null, null]);
    opt.dispose();
    [a, b, c].forEach((t) => t.dispose());
  }

  it('refuses non-f32 parameters', () => {
    const i = zeros([2], 'i32');
    expect(() => new SGD([i])).toThrow(/only f32 parameters can be trained/);
    i.dispose();
  });
});

const torch = torchOrSkip('optim: torch.optim comparison');

describe.skipIf(!torch.ok)('against torch.optim (SGD, AdamW = fastai Adam)', () => {
  const scratch = scratchDir('optim');
  let torchOut: Record<string, number[][]> = {};
  const pr = makeProblem(4);
  const runs = [
    ...SGD_RUNS.map((r) => ({ name: r.name, optim: 'sgd', groups: LR.map((lr) => ({ lr, ...r.hyper })) })),
    { name: 'adam', optim: 'adamw', groups: LR.map((lr) => ({ lr, ...ADAM_HYPER })) },
  ];

  beforeAll(async () => {
    const problem = {
      params: pr.params.map((d, k) => ({ shape: SPECS[k]!.shape, group: SPECS[k]!.group, data: Array.from(d) })),
      grads: pr.grads.map((gs) => gs.map((g) => Array.from(g))),
      runs: runs.map((r) => ({ ...r, lrScale: LR_SCALE, noDecayRank1: true })),
    };
    const script = fileURLToPath(new URL('./testing/torch_optim.py', import.meta.url));
    const version = await runPython(script, { args: [scratch.write('problem.json', problem), scratch.path('out.json')] });
    console.log(`[optim] torch.optim reference from torch ${version.trim()}`);
    torchOut = scratch.json<typeof torchOut>('out.json');
  });
  afterAll(() => scratch.remove());

  for (const run of runs) {
    for (const { path, flat } of PATHS) {
      it(`${run.name} (${path}) matches torch.optim.${run.optim === 'sgd' ? 'SGD' : 'AdamW'}`, async () => {
        const got = await runTessera(
          pr,
          (g) => (run.optim === 'sgd' ? new SGD(g, { ...(run.groups[0] as SgdHyper), flat }) : new Adam(g, { ...(run.groups[0] as AdamHyper), flat })),
          LR,
        );
        const err = maxRelErr(got.final, torchOut[run.name]!);
        console.log(`[optim] ${run.name} (${path}) vs torch.optim: max error ${err.toExponential(2)}`);
        expect(err).toBeLessThan(TOL);
      });
    }
  }
});
