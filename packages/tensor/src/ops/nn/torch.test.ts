/**
 * The nn ops against PyTorch (Debian's python3-torch, run by scripts/torch_fixtures.py
 * in float64 on NCHW; the script converts layouts). Every forward output and every
 * gradient is compared, plus BN's running stats after the update and the CPU twin's
 * max-pool argmax against PyTorch's indices. Skips, printing why, without torch. In the
 * browser project the GPU side runs in the page and PyTorch on the test server.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { conv2d, initDevice, linear, tensor, type Tensor } from '../../index.js';
import {
  adaptiveAvgPool2d,
  adaptiveMaxPool2d,
  avgPool2d,
  batchNorm1d,
  batchNorm2d,
  batchNormMaxPool2d,
  type BnActivation,
  maxPool2d,
  softmaxCrossEntropy,
  type Reduction,
} from './index.js';
import { pool2dRef, poolOutSize } from '../../reference/nn/index.js';
import { numel } from '../../shape.js';
import { assertClose, ints, normal } from '../../testing/index.js';
import { runTorch, torchAvailable, type TensorData, type TorchCase, type TorchResult } from '../../../test-fixtures/torch.js';

/** [atol relative to the reference's max |value| (at least 1), rtol] per compared name. */
type Tols = Record<string, [number, number]>;

interface Case extends TorchCase {
  gpu: () => Promise<Record<string, ArrayLike<number>>>;
  tols: Tols;
  /** Extra checks against the torch result (e.g. argmax indices vs the CPU twin). */
  extra?: (t: TorchResult) => void;
}

const cases: Case[] = [];
const td = (data: Float32Array | Int32Array, shape: number[]): TensorData => ({ data, shape });

/** Runs `fwd` on fresh leaves, back-propagates `grad`, and reads the output and each leaf's gradient. */
async function withGrads(leaves: Record<string, TensorData>, fwd: (t: Record<string, Tensor>) => Tensor, grad: TensorData, after?: () => Promise<Record<string, ArrayLike<number>>>) {
  const ts: Record<string, Tensor> = {};
  for (const [k, v] of Object.entries(leaves)) ts[k] = tensor(v.data, v.shape).requireGrad();
  const y = fwd(ts);
  y.backward({ grad: tensor(grad.data, grad.shape) });
  const out: Record<string, ArrayLike<number>> = { y: await y.toArray() };
  for (const [k, t] of Object.entries(ts)) out[`grad_${k}`] = await t.grad!.toArray();
  Object.assign(out, (await after?.()) ?? {});
  return out;
}

// ------------------------------------------------------------------ batch norm
const BN_TOLS: Tols = {
  y: [3e-5, 1e-4],
  grad_x: [1e-4, 1e-4],
  grad_weight: [1e-4, 1e-4],
  grad_bias: [1e-4, 1e-4],
  grad_residual: [1e-6, 1e-6],
  runningMean: [1e-5, 1e-5],
  runningVar: [1e-5, 1e-4],
};

interface BnTorchOpts {
  training: boolean;
  momentum?: number;
  eps?: number;
  affine?: boolean;
  running?: boolean;
  activation?: BnActivation;
  /** Adds a residual of x's shape before the activation (a leaf: its gradient is compared too). */
  residual?: boolean;
  /** A 2×2/2 max-pool after the activation: batchNormMaxPool2d. */
  pool?: boolean;
  /** Flat indices of x set to NaN (edge values through the fused activation). */
  nanAt?: number[];
}

function bnCase(id: string, shape: number[], opts: BnTorchOpts, seed: number) {
  const C = shape[shape.length - 1]!;
  const n = numel(shape);
  const affine = opts.affine ?? true;
  const running = opts.running ?? true;
  const x = td(normal(n, seed, 0.3, 1.5), shape);
  for (const k of opts.nanAt ?? []) x.data[k] = NaN;
  const inputs: Record<string, TensorData> = { x };
  if (affine) {
    inputs.weight = td(normal(C, seed + 1, 1, 0.5), [C]);
    inputs.bias = td(normal(C, seed + 2, 0, 0.5), [C]);
  }
  const rm = running ? normal(C, seed + 3, 0, 0.2) : null;
  const rv = running ? Float32Array.from(normal(C, seed + 4), (v) => 0.5 + Math.abs(v)) : null;
  if (rm && rv) {
    inputs.runningMean = td(rm, [C]);
    inputs.runningVar = td(rv, [C]);
  }
  if (opts.residual) inputs.residual = td(normal(n, seed + 6, 0, 0.8), shape);
  const outShape = opts.pool ? [shape[0]!, shape[1]! >> 1, shape[2]! >> 1, C] : shape;
  const grad = td(normal(numel(outShape), seed + 5), outShape);
  const fn = opts.pool ? batchNormMaxPool2d : shape.length === 4 ? batchNorm2d : batchNorm1d;
  const { residual: _, pool: __, nanAt: ___, ...bnOpts } = opts;
  const leaves = Object.fromEntries(Object.entries(inputs).filter(([k]) => k !== 'runningMean' && k !== 'runningVar'));
  cases.push({
    id,
    op: shape.length === 4 ? 'batchNorm2d' : 'batchNorm1d',
    params: { training: opts.training, momentum: opts.momentum ?? 0.1, eps: opts.eps ?? 1e-5, ...activationParams(opts.activation), ...(opts.residual ? { residual: true } : {}), ...(opts.pool ? { pool: true } : {}) },
    inputs,
    grad,
    tols: BN_TOLS,
    gpu: async () => {
      const rmt = rm ? tensor(rm, [C]) : null;
      const rvt = rv ? tensor(rv, [C]) : null;
      return withGrads(leaves, (t) => fn(t.x!, t.weight, t.bias, rmt, rvt, { ...bnOpts, residual: t.residual }), grad, async (): Promise<Record<string, ArrayLike<number>>> => (rmt ? { runningMean: await rmt.toArray(), runningVar: await rvt!.toArray() } : {}));
    },
  });
}

/** The fused activation as torch_fixtures.py reads it. */
function activationParams(a: BnActivation | undefined): Record<string, unknown> {
  if (!a || a === 'none') return {};
  return a === 'relu' ? { activation: 'relu' } : { activation: 'leaky', slope: a.leaky };
}

bnCase('batchNorm2d training, ResNet-like [4,8,8,64]', [4, 8, 8, 64], { training: true }, 10);
bnCase('batchNorm2d training, batch 1, odd 5×7, C=3, momentum 0.3, eps 1e-3', [1, 5, 7, 3], { training: true, momentum: 0.3, eps: 1e-3 }, 20);
bnCase('batchNorm2d training, [3,9,11,13] (C=13, M=297 over many chunks)', [3, 9, 11, 13], { training: true }, 30);
bnCase('batchNorm2d training, no affine, no running stats', [2, 3, 5, 5], { training: true, affine: false, running: false }, 40);
bnCase('batchNorm2d eval, [2,5,7,6]', [2, 5, 7, 6], { training: false }, 50);
bnCase('batchNorm2d eval, batch 1 [1,4,4,70]', [1, 4, 4, 70], { training: false }, 55);
bnCase('batchNorm1d training, [16,10]', [16, 10], { training: true }, 60);
bnCase('batchNorm1d training, [2,513]', [2, 513], { training: true }, 70);
bnCase('batchNorm1d eval, [4,7]', [4, 7], { training: false }, 80);
bnCase('batchNorm2d training + LeakyReLU(0.1), batch 1, [1,7,9,13] (M=63)', [1, 7, 9, 13], { training: true, eps: 1e-3, activation: { leaky: 0.1 } }, 85);
bnCase('batchNorm2d training + ReLU, [3,5,5,70]', [3, 5, 5, 70], { training: true, activation: 'relu' }, 90);
bnCase('batchNorm2d eval + LeakyReLU(0.1), [2,3,5,7]', [2, 3, 5, 7], { training: false, activation: { leaky: 0.1 } }, 95);
// A NaN input through eval-mode BN → ReLU: PyTorch keeps the NaN and passes its gradient (scalar and vec4 kernels).
bnCase('batchNorm2d eval + ReLU, NaN inputs, [2,3,5,7]', [2, 3, 5, 7], { training: false, activation: 'relu', nanAt: [0, 17, 100] }, 96);
bnCase('batchNorm2d eval + ReLU, NaN inputs, [2,3,5,8]', [2, 3, 5, 8], { training: false, activation: 'relu', nanAt: [0, 17, 100] }, 97);
bnCase('batchNorm1d training + ReLU, [6,5]', [6, 5], { training: true, activation: 'relu' }, 97);
bnCase('batchNorm2d training + residual + ReLU, batch 1, [1,7,9,13] (M=63)', [1, 7, 9, 13], { training: true, activation: 'relu', residual: true }, 110);
bnCase('batchNorm2d training + residual + LeakyReLU(0.1), [3,5,5,70]', [3, 5, 5, 70], { training: true, momentum: 0.3, activation: { leaky: 0.1 }, residual: true }, 120);
bnCase('batchNorm2d training + residual, no activation, [2,3,5,5]', [2, 3, 5, 5], { training: true, residual: true }, 130);
bnCase('batchNorm2d eval + residual + ReLU, [2,3,5,7]', [2, 3, 5, 7], { training: false, activation: 'relu', residual: true }, 140);
bnCase('batchNorm1d training + residual + ReLU, [6,5]', [6, 5], { training: true, activation: 'relu', residual: true }, 150);
bnCase('batchNormMaxPool2d training + LeakyReLU(0.1), batch 1, odd [1,7,9,13]', [1, 7, 9, 13], { training: true, activation: { leaky: 0.1 }, pool: true }, 160);
bnCase('batchNormMaxPool2d training + ReLU, [3,6,4,70], momentum 0.3', [3, 6, 4, 70], { training: true, momentum: 0.3, activation: 'relu', pool: true }, 170);
bnCase('batchNormMaxPool2d eval, no activation, [2,5,4,3]', [2, 5, 4, 3], { training: false, pool: true }, 180);

// ------------------------------------------------------------------ pooling
type PoolOp = 'maxPool2d' | 'avgPool2d' | 'adaptiveAvgPool2d' | 'adaptiveMaxPool2d';

function poolCase(op: PoolOp, shape: [number, number, number, number], p: { kernel?: [number, number]; stride?: [number, number]; padding?: [number, number]; countIncludePad?: boolean; out?: [number, number] }, seed: number) {
  const [N, H, W, C] = shape;
  const adaptive = !!p.out;
  const k = p.kernel ?? [1, 1];
  const s = p.stride ?? k;
  const pad = p.padding ?? [0, 0];
  const [OH, OW] = adaptive ? p.out! : [poolOutSize(H, k[0], s[0], pad[0]), poolOutSize(W, k[1], s[1], pad[1])];
  const x = td(normal(numel(shape), seed), shape);
  const grad = td(normal(N * OH * OW * C, seed + 1), [N, OH, OW, C]);
  const desc = adaptive ? `→ ${OH}×${OW}` : `k${k.join('×')} s${s.join(',')} p${pad.join(',')}${p.countIncludePad === false ? ' exclude pad' : ''}`;
  const isMax = op.toLowerCase().includes('max');
  const avgTol: [number, number] = [1e-6, 1e-6];
  cases.push({
    id: `${op} ${desc} on [${shape.join(',')}]`,
    op,
    params: adaptive ? { out: p.out } : { kernel: k, stride: s, padding: pad, countIncludePad: p.countIncludePad ?? true },
    inputs: { x },
    grad,
    // Max selects (exact); averages sum at most 25 terms once.
    tols: { y: isMax ? [0, 0] : avgTol, grad_x: isMax ? [1e-6, 1e-6] : avgTol },
    gpu: () =>
      withGrads({ x }, (t) => {
        if (op === 'maxPool2d') return maxPool2d(t.x!, { kernel: k, stride: s, padding: pad });
        if (op === 'avgPool2d') return avgPool2d(t.x!, { kernel: k, stride: s, padding: pad, countIncludePad: p.countIncludePad });
        if (op === 'adaptiveAvgPool2d') return adaptiveAvgPool2d(t.x!, p.out!);
        return adaptiveMaxPool2d(t.x!, p.out!);
      }, grad),
    extra: isMax
      ? (t) => {
          const ref = pool2dRef('max', x.data, { N, H, W, C, OH, OW, kernel: k, stride: s, padding: pad, adaptive });
          expect(Array.from(ref.idx)).toEqual(Array.from(t.indices!.data));
        }
      : undefined,
  });
}

poolCase('maxPool2d', [2, 17, 17, 8], { kernel: [3, 3], stride: [2, 2], padding: [1, 1] }, 100);
poolCase('maxPool2d', [2, 16, 16, 64], { kernel: [3, 3], stride: [2, 2], padding: [1, 1] }, 110);
poolCase('maxPool2d', [1, 7, 9, 3], { kernel: [2, 2] }, 120);
poolCase('maxPool2d', [2, 6, 7, 5], { kernel: [5, 5], stride: [1, 1], padding: [2, 2] }, 130);
poolCase('maxPool2d', [1, 5, 8, 7], { kernel: [3, 2], stride: [1, 2], padding: [1, 0] }, 140);
poolCase('avgPool2d', [2, 9, 11, 6], { kernel: [3, 3], stride: [2, 2], padding: [1, 1] }, 150);
poolCase('avgPool2d', [2, 9, 11, 6], { kernel: [3, 3], stride: [2, 2], padding: [1, 1], countIncludePad: false }, 160);
poolCase('avgPool2d', [1, 6, 7, 5], { kernel: [5, 5], stride: [1, 1], padding: [2, 2] }, 170);
poolCase('avgPool2d', [3, 8, 8, 16], { kernel: [2, 2] }, 180);
poolCase('adaptiveAvgPool2d', [2, 7, 7, 64], { out: [1, 1] }, 190);
poolCase('adaptiveAvgPool2d', [2, 7, 5, 5], { out: [3, 2] }, 200);
poolCase('adaptiveAvgPool2d', [1, 3, 3, 3], { out: [5, 4] }, 210);
poolCase('adaptiveMaxPool2d', [2, 7, 7, 64], { out: [1, 1] }, 220);
poolCase('adaptiveMaxPool2d', [2, 7, 5, 5], { out: [3, 4] }, 230);
poolCase('adaptiveMaxPool2d', [1, 13, 11, 3], { out: [4, 5] }, 240);

// ------------------------------------------------------------------ cross-entropy
function xentCase(N: number, C: number, reduction: Reduction, eps: number, seed: number, std = 2) {
  const logits = td(normal(N * C, seed, 0, std), [N, C]);
  const labels = ints(N, seed + 1, 0, C);
  const grad = reduction === 'none' ? td(normal(N, seed + 2), [N]) : td(Float32Array.of(1.3), []);
  cases.push({
    id: `softmaxCrossEntropy [${N},${C}] ${reduction}, smoothing ${eps}`,
    op: 'softmaxCrossEntropy',
    params: { reduction, labelSmoothing: eps },
    inputs: { logits, labels: td(labels, [N]) },
    grad,
    tols: { y: [2e-6, 2e-6], grad_logits: [1e-6, 1e-5] },
    gpu: () => withGrads({ logits }, (t) => softmaxCrossEntropy(t.logits!, tensor(labels, [N], 'i32'), { reduction, labelSmoothing: eps }), grad),
    // PyTorch's label_smoothing and fastai's LabelSmoothingCrossEntropy formula agree.
    extra: (t) => assertClose(t.fastai!.data, t.y!.data, { atol: 1e-12, rtol: 1e-12 }, 'fastai formula vs F.cross_entropy'),
  });
}

xentCase(64, 37, 'mean', 0, 300);
xentCase(64, 37, 'mean', 0.1, 310);
xentCase(5, 1000, 'sum', 0.1, 320, 10);
xentCase(7, 10, 'none', 0.2, 330);
xentCase(1, 3, 'none', 0, 340);
xentCase(300, 3, 'mean', 0.05, 350);

// Edge logits, one row each: −Inf off and on the target, +Inf, all −Inf, NaN, huge. PyTorch:
// −Inf off the target adds nothing, on it the loss is +Inf; +Inf and NaN make the row NaN.
const EDGE_LOGITS = [[-Infinity, 2, 3], [-Infinity, 2, 3], [1, 2, 3], [Infinity, 2, 3], [-Infinity, -Infinity, -Infinity], [NaN, 1, 2], [3e38, -3e38, 0]];
const EDGE_LABELS = [1, 0, 2, 1, 0, 1, 0];
function xentEdgeCase(rows: number[], reduction: Reduction, eps: number) {
  const N = rows.length;
  const logits = td(Float32Array.from(rows.flatMap((r) => EDGE_LOGITS[r]!)), [N, 3]);
  const labels = Int32Array.from(rows.map((r) => EDGE_LABELS[r]!));
  const grad = reduction === 'none' ? td(new Float32Array(N).fill(1), [N]) : td(Float32Array.of(1), []);
  cases.push({
    id: `softmaxCrossEntropy edge logits rows ${rows.join(',')}, ${reduction}, smoothing ${eps}`,
    op: 'softmaxCrossEntropy',
    params: { reduction, labelSmoothing: eps },
    inputs: { logits, labels: td(labels, [N]) },
    grad,
    tols: { y: [2e-6, 2e-6], grad_logits: [1e-6, 1e-5] },
    gpu: () => withGrads({ logits }, (t) => softmaxCrossEntropy(t.logits!, tensor(labels, [N], 'i32'), { reduction, labelSmoothing: eps }), grad),
  });
}
xentEdgeCase([0, 2], 'none', 0); // the case: [1.3133, 0.4076], not [NaN, 0.4076]
xentEdgeCase([0, 2], 'mean', 0);
xentEdgeCase([0, 1, 2, 3, 4, 5, 6], 'none', 0);
xentEdgeCase([0, 1, 2, 3, 4, 5, 6], 'none', 0.1);
xentEdgeCase([0, 1, 2, 6], 'sum', 0.1);

// ------------------------------------------------------------------ convolution and linear
const CONV_TOLS: Tols = { y: [2e-5, 1e-4], grad_x: [2e-5, 1e-4], grad_w: [2e-5, 1e-4], grad_b: [2e-5, 1e-4] };

function convCase(id: string, x: [number, number, number, number], w: [number, number, number, number], p: { stride?: number; padding?: number; dilation?: number; groups?: number; bias?: boolean }, seed: number) {
  const stride = p.stride ?? 1;
  const padding = p.padding ?? 0;
  const dilation = p.dilation ?? 1;
  const groups = p.groups ?? 1;
  const OH = Math.floor((x[1] + 2 * padding - dilation * (w[1] - 1) - 1) / stride) + 1;
  const OW = Math.floor((x[2] + 2 * padding - dilation * (w[2] - 1) - 1) / stride) + 1;
  const inputs: Record<string, TensorData> = { x: td(normal(numel(x), seed), x), w: td(normal(numel(w), seed + 1, 0, 0.3), w) };
  if (p.bias) inputs.b = td(normal(w[0], seed + 2), [w[0]]);
  const yShape = [x[0], OH, OW, w[0]];
  const grad = td(normal(numel(yShape), seed + 3), yShape);
  cases.push({
    id,
    op: 'conv2d',
    params: { stride, padding, dilation, groups },
    inputs,
    grad,
    tols: CONV_TOLS,
    gpu: () => withGrads(inputs, (t) => conv2d(t.x!, t.w!, t.b, { stride, padding, dilation, groups }), grad),
  });
}

convCase('conv2d 3x3/1 ResNet stage shape', [2, 14, 14, 32], [32, 3, 3, 32], { padding: 1 }, 400);
convCase('conv2d 3x3/2 odd input, bias', [1, 13, 11, 16], [24, 3, 3, 16], { stride: 2, padding: 1, bias: true }, 410);
convCase('conv2d 7x7/2 stem', [2, 23, 23, 3], [16, 7, 7, 3], { stride: 2, padding: 3 }, 420);
convCase('conv2d 1x1/2 shortcut', [2, 9, 9, 16], [32, 1, 1, 16], { stride: 2 }, 430);
convCase('conv2d C=5 batch 1 padding 2 bias', [1, 7, 6, 5], [7, 3, 3, 5], { padding: 2, bias: true }, 440);
convCase('conv2d dilation 2', [2, 10, 9, 4], [6, 3, 3, 4], { padding: 2, dilation: 2 }, 450);
convCase('conv2d groups 3 bias', [2, 8, 8, 6], [9, 3, 3, 2], { padding: 1, groups: 3, bias: true }, 460);

function linearCase(id: string, n: number, inF: number, outF: number, bias: boolean, seed: number) {
  const inputs: Record<string, TensorData> = { x: td(normal(n * inF, seed), [n, inF]), w: td(normal(outF * inF, seed + 1, 0, 0.2), [outF, inF]) };
  if (bias) inputs.b = td(normal(outF, seed + 2), [outF]);
  const grad = td(normal(n * outF, seed + 3), [n, outF]);
  cases.push({
    id,
    op: 'linear',
    inputs,
    grad,
    tols: CONV_TOLS,
    gpu: () => withGrads(inputs, (t) => linear(t.x!, t.w!, t.b), grad),
  });
}

linearCase('linear 1024->512 head', 16, 1024, 512, false, 500);
linearCase('linear odd sizes with bias', 7, 13, 5, true, 510);
linearCase('linear batch 1', 1, 9, 3, true, 520);

// ------------------------------------------------------------------ the comparison
const torch = await torchAvailable();
if (!torch.ok) console.warn(`[nn/torch.test] ${torch.reason}`);

describe.skipIf(!torch.ok)(`nn ops vs PyTorch (${torch.reason}, float64 reference)`, () => {
  let ref: Map<string, TorchResult>;
  const ours = new Map<string, Record<string, ArrayLike<number>>>();

  beforeAll(async () => {
    await initDevice();
    for (const c of cases) ours.set(c.id, await c.gpu());
    ref = await runTorch(cases);
    // Every case's GPU side and one Python run: ~45 s on SwiftShader, more on a loaded machine.
  }, 600_000);

  for (const c of cases) {
    it(c.id, () => {
      const t = ref.get(c.id)!;
      const o = ours.get(c.id)!;
      const names = Object.keys(c.tols).filter((n) => n in t || n in o);
      expect(names.length).toBeGreaterThan(1);
      for (const name of names) {
        expect(o[name], `${name} missing on our side`).toBeDefined();
        expect(t[name], `${name} missing in PyTorch's results`).toBeDefined();
        const [atol, rtol] = c.tols[name]!;
        const scale = t[name]!.data.reduce((m, v) => (Number.isFinite(v) ? Math.max(m, Math.abs(v)) : m), 1);
        const worst = assertClose(o[name]!, t[name]!.data, { atol: atol * scale, rtol: rtol }, name);
        if (globalThis.process?.env?.TESSERA_NN_VERBOSE) console.log(`${c.id} | ${name}: max |diff| ${worst.toExponential(2)} (ref max |v| ${scale.toPrecision(3)})`);
      }
      c.extra?.(t);
    });
  }
});
