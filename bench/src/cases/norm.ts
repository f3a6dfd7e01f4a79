/**
 * Memory-bound training ops, forward + backward per run, in GB/s of the minimal
 * algorithm's traffic (bytes formulas below and in each case's note), each against
 * TensorFlow.js's WebGPU backend (same adapter, same run, interleaved):
 *  - batchNorm2d in training mode (batch statistics, running-stat update), with
 *    weight and bias, gradients for x, weight and bias. Minimal traffic:
 *    forward reads x and writes y, backward reads x and dy and writes dx:
 *    bytes = 4·(5·N·H·W·C) (+ O(C) parameter/statistics traffic, ignored). A two-pass
 *    implementation (statistics, then normalise; reduce, then dx) moves 8·4·NHWC.
 *    tfjs: forward tf.moments + tf.batchNorm (eps 1e-5), backward written out in tfjs ops
 *    (db = Σdy, dγ = Σdy·x̂, dx = γ·invstd/M·(M·dy − db − x̂·dγ)).
 *  - softmaxCrossEntropy (mean over the batch) against integer labels, gradient for the
 *    logits. Minimal traffic: forward reads logits [N, C] and labels and writes the
 *    scalar loss, backward reads logits and labels and writes dlogits:
 *    bytes = 4·(3·N·C + 2·N + 1). tfjs: forward tf.losses.softmaxCrossEntropy(oneHot, z)
 *    (its default reduction is the mean over the batch), backward (softmax(z) − oneHot)/N;
 *    the one-hot labels are made once, outside the timing.
 * tfjs's backward passes are written out in tfjs ops because tf.grad cannot run here:
 * tfjs-core's Node build registers no gradients (that is done by the @tensorflow/tfjs
 * union package, not a dependency), so tf.grad fails ("gradient function not found for
 * Reshape"). The conv baselines call tfjs's own gradient kernels directly (see conv.ts).
 * Ours is timed through the ops and autograd: each run records the forward and runs
 * backward (the seed copy included), then frees the gradients.
 */
import { backward, batchNorm2d, softmaxCrossEntropy, sync, tensor } from '@tessera/tensor';
import { collectGarbage, median, type BenchCase, type RefResult, type Timed } from '../harness.js';
import { loadTfjs, type Tf } from '../baselines/tfjs.js';

function randomData(n: number, seed: number, scale = 1, shift = 0): Float32Array {
  const out = new Float32Array(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = (x / 4294967296 - 0.5) * scale + shift;
  }
  return out;
}

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): string {
  let err = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    err = Math.max(err, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return scale === 0 ? 'degenerate' : (err / scale).toExponential(1);
}

/** Runs `inner` times per timed repetition (tiny problems are dominated by per-run overhead). */
function repeat(t: Timed, inner: number): Timed {
  return inner === 1 ? t : { ...t, run: () => { for (let i = 0; i < inner; i++) t.run(); } };
}

async function measure(
  ctx: { reps: number },
  ours: Timed,
  theirs: Timed | null,
  inner: number,
): Promise<{ ms: number; tfMs?: number; times: string }> {
  const items = [repeat(ours, inner), ...(theirs ? [repeat(theirs, inner)] : [])];
  for (const it of items) {
    it.run();
    await it.settle();
  }
  const times: number[][] = items.map(() => []);
  for (let r = 0; r < ctx.reps; r++) {
    for (let i = 0; i < items.length; i++) {
      collectGarbage();
      const t0 = performance.now();
      items[i]!.run();
      await items[i]!.settle();
      times[i]!.push((performance.now() - t0) / inner);
    }
  }
  const fmt = (xs: number[]) => xs.map((x) => x.toFixed(2)).join('/');
  return {
    ms: median(times[0]!),
    ...(theirs ? { tfMs: median(times[1]!) } : {}),
    times: `ours ${fmt(times[0]!)} ms${theirs ? `, tfjs ${fmt(times[1]!)} ms` : ''} per run${inner > 1 ? ` (each the mean of ${inner} back-to-back runs)` : ''}`,
  };
}

export function batchNormCase(N: number, H: number, W: number, C: number): BenchCase {
  const M = N * H * W;
  return {
    name: 'batchNorm2d train fwd+bwd',
    shape: `${N}x${H}x${W}x${C}`,
    bytes: 4 * 5 * M * C,
    async run(ctx) {
      const notes = ['bytes = 4·5·N·H·W·C (fwd: read x, write y; bwd: read x, dy, write dx; O(C) traffic ignored)'];
      const xd = randomData(M * C, 21, 2, 0.3);
      const dyd = randomData(M * C, 22);
      const wd = randomData(C, 23, 0.5, 1);
      const bd = randomData(C, 24, 0.5);
      const x = tensor(xd, [N, H, W, C]).requireGrad();
      const w = tensor(wd, [C]).requireGrad();
      const b = tensor(bd, [C]).requireGrad();
      const rm = tensor(new Float32Array(C), [C]);
      const rv = tensor(new Float32Array(C).fill(1), [C]);
      const dy = tensor(dyd, [N, H, W, C]);
      const clear = () => {
        for (const t of [x, w, b]) {
          t.grad?.dispose();
          t.grad = null;
        }
      };
      const ours: Timed = {
        run: () => {
          clear();
          const y = batchNorm2d(x, w, b, rm, rv, { training: true });
          backward(y, { grad: dy });
          y.dispose();
        },
        settle: sync,
      };
      const refs: RefResult[] = [];
      const h = await loadTfjs();
      let r;
      if (typeof h === 'string') {
        notes.push(`tfjs-webgpu skipped: ${h}`);
        r = await measure(ctx, ours, null, 1);
      } else {
        const { tf } = h;
        const tx = tf.tensor4d(xd, [N, H, W, C]);
        const tdy = tf.tensor4d(dyd, [N, H, W, C]);
        const ts = tf.tensor1d(wd);
        const to = tf.tensor1d(bd);
        let out: ReturnType<Tf['tensor']>[] = [];
        const theirs: Timed = {
          run: () => {
            tf.dispose(out);
            out = tf.tidy(() => {
              const m = tf.moments(tx, [0, 1, 2]);
              const yy = tf.batchNorm(tx, m.mean, m.variance, to, ts, 1e-5);
              const invstd = tf.rsqrt(tf.add(m.variance, 1e-5));
              const xhat = tf.mul(tf.sub(tx, m.mean), invstd);
              const db = tf.sum(tdy, [0, 1, 2]);
              const dg = tf.sum(tf.mul(tdy, xhat), [0, 1, 2]);
              const k = tf.div(tf.mul(ts, invstd), M);
              const dx = tf.mul(k, tf.sub(tf.sub(tf.mul(tdy, M), db), tf.mul(xhat, dg)));
              return [dx, dg, db, yy];
            });
          },
          settle: h.settle,
        };
        r = await measure(ctx, ours, theirs, 1);
        refs.push({ name: 'tfjs-webgpu', ms: r.tfMs! });
        notes.push(`max rel. error of dx vs tfjs ${relErr(await x.grad!.toArray(), await out[0]!.data())}`);
        tf.dispose([...out, tx, tdy, ts, to]);
      }
      notes.push(r.times);
      clear();
      for (const t of [x, w, b, rm, rv, dy]) t.dispose();
      await sync();
      return { ms: r.ms, refs, notes };
    },
  };
}

export function crossEntropyCase(N: number, C: number): BenchCase {
  return {
    name: 'softmaxCrossEntropy fwd+bwd',
    shape: `${N}x${C}`,
    bytes: 4 * (3 * N * C + 2 * N + 1),
    async run(ctx) {
      const notes = ['bytes = 4·(3·N·C + 2·N + 1) (fwd: read logits, labels, write loss; bwd: read logits, labels, write dlogits)'];
      const zd = randomData(N * C, 31, 8);
      const labels = new Int32Array(N);
      for (let i = 0; i < N; i++) labels[i] = (i * 7919) % C;
      const z = tensor(zd, [N, C]).requireGrad();
      const y = tensor(labels, [N], 'i32');
      const ours: Timed = {
        run: () => {
          z.grad?.dispose();
          z.grad = null;
          const loss = softmaxCrossEntropy(z, y);
          backward(loss);
          loss.dispose();
        },
        settle: sync,
      };
      // Small problems: several back-to-back runs per timed repetition.
      const inner = Math.max(1, Math.min(50, Math.round(2e6 / (N * C))));
      const refs: RefResult[] = [];
      const h = await loadTfjs();
      let r;
      if (typeof h === 'string') {
        notes.push(`tfjs-webgpu skipped: ${h}`);
        r = await measure(ctx, ours, null, inner);
      } else {
        const { tf } = h;
        const tz = tf.tensor2d(zd, [N, C]);
        const onehot = tf.cast(tf.oneHot(tf.tensor1d(labels, 'int32'), C), 'float32');
        let out: ReturnType<Tf['tensor']> | null = null;
        let lossT: ReturnType<Tf['tensor']> | null = null;
        const theirs: Timed = {
          run: () => {
            out?.dispose();
            lossT?.dispose();
            lossT = tf.losses.softmaxCrossEntropy(onehot, tz);
            out = tf.tidy(() => tf.div(tf.sub(tf.softmax(tz), onehot), N));
          },
          settle: h.settle,
        };
        r = await measure(ctx, ours, theirs, inner);
        refs.push({ name: 'tfjs-webgpu', ms: r.tfMs! });
        notes.push(`max rel. error of dlogits vs tfjs ${relErr(await z.grad!.toArray(), await (out as unknown as ReturnType<Tf['tensor']>).data())}`);
        tf.dispose([out as unknown as ReturnType<Tf['tensor']>, lossT as unknown as ReturnType<Tf['tensor']>, tz, onehot]);
      }
      notes.push(r.times);
      z.grad?.dispose();
      z.grad = null;
      z.dispose();
      y.dispose();
      await sync();
      return { ms: r.ms, refs, notes };
    },
  };
}

export const normCases: BenchCase[] = [
  batchNormCase(16, 56, 56, 64),
  batchNormCase(16, 14, 14, 256),
  crossEntropyCase(16, 1000),
  crossEntropyCase(256, 10),
];
