/**
 * conv2d cases: every convolution shape of ResNet-34 at batch 16 (224² input) — the
 * stem 7×7/2, each stage's 3×3/1, the 3×3/2 stage transitions and the 1×1/2 shortcuts —
 * in the three directions a training step runs (forward, backward-input,
 * backward-filter), each in GFLOP/s = 2·N·OH·OW·O·KH·KW·(C/groups) / time, and each
 * against TensorFlow.js's WebGPU backend on the same adapter, in the same run,
 * interleaved.
 *
 * How ours is timed: the direction kernels (kernels/conv.ts) are not exported by
 * @tessera/tensor, so they are timed through the op and autograd:
 *  - forward:         conv2d(x, w) with nothing requiring grad (no graph recorded);
 *  - backward-input:  x requires grad, w does not; the graph y = conv2d(x, w) is recorded
 *                     once (untimed) and each run is backward(y, { grad: dy, retainGraph })
 *                     — the conv's input-gradient GEMM plus the engine's copy of the seed
 *                     dy (one dy-sized copy) and its bookkeeping;
 *  - backward-filter: the same with only w requiring grad (the split-K filter GEMM, its
 *                     partial-sum reduction, the seed copy).
 * The 3×3 stride-1 layers run Winograd by default (kernels/winograd.ts): their GFLOP/s are
 * effective ones, the direct convolution's FLOPs over the time (`--conv-algorithm gemm`
 * times the implicit GEMM instead).
 * Nothing is subtracted: the seed copy and autograd overhead are in the figures. For
 * scale, each backward case also times one copy of dy on its own (median of 3) and
 * prints it (`seedCopyMs` in the JSON's extra): at the 1×1 shortcuts it is a large
 * part of the total.
 *
 * TensorFlow.js: forward is `tf.conv2d` (NHWC, filter HWIO); the gradients are the
 * kernels that `tf.grad(conv2d)` dispatches — `Conv2DBackpropInput` and
 * `Conv2DBackpropFilter`, called directly through `tf.engine().runKernel` (tfjs-core
 * 4.22 does not export conv2DBackpropInput/Filter as ops), so their forward is not
 * timed either. tfjs-backend-webgpu's defaults apply (e.g. its naive
 * Conv2DDerInputProgram: flag WEBGPU_USE_NAIVE_CONV2D_TRANSPOSE defaults to true).
 */
import { Tensor, backward, conv2d, copy, sync, tensor } from '@tessera/tensor';
import { gflops, median, timeInterleavedAll, type BenchCase, type RefResult, type Timed } from '../harness.js';
import { loadTfjs, type Tf } from '../baselines/tfjs.js';

export type ConvDirection = 'fwd' | 'bwd-input' | 'bwd-filter';

export interface ConvShape {
  /** Which layer(s) of ResNet-34 this is, e.g. 'conv2_x 3×3'. Also matched by --filter. */
  label: string;
  N: number;
  H: number;
  W: number;
  C: number;
  O: number;
  K: number;
  stride: number;
  pad: number;
  /** Why the batch differs from ResNet-34's 16 (printed). */
  batchNote?: string;
}

const outSize = (s: ConvShape) => ({
  OH: Math.floor((s.H + 2 * s.pad - s.K) / s.stride) + 1,
  OW: Math.floor((s.W + 2 * s.pad - s.K) / s.stride) + 1,
});

export function convFlops(s: ConvShape): number {
  const { OH, OW } = outSize(s);
  return 2 * s.N * OH * OW * s.O * s.K * s.K * s.C;
}

function randomData(n: number, seed: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = (x / 4294967296 - 0.5) * scale;
  }
  return out;
}

/** OHWI → HWIO (tfjs's filter layout). */
function ohwiToHwio(w: Float32Array, O: number, K: number, C: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let o = 0; o < O; o++) {
    for (let kk = 0; kk < K * K; kk++) {
      for (let c = 0; c < C; c++) out[(kk * C + c) * O + o] = w[(o * K * K + kk) * C + c]!;
    }
  }
  return out;
}

/** max |a − b| / max |b|, with `map(i)` giving b's index for a's element i (default identity). */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>, map?: (i: number) => number): string {
  if (a.length !== b.length) return `size mismatch: ${a.length} vs ${b.length}`;
  let err = 0;
  let scale = 0;
  let mine = 0;
  for (let i = 0; i < a.length; i++) {
    const bv = b[map ? map(i) : i]!;
    err = Math.max(err, Math.abs(a[i]! - bv));
    scale = Math.max(scale, Math.abs(bv));
    mine = Math.max(mine, Math.abs(a[i]!));
  }
  if (scale === 0 || mine === 0) return `degenerate: max|ours| = ${mine}, max|tfjs| = ${scale}`;
  return (err / scale).toExponential(1);
}

/**
 * Spot check against a float64 CPU reference on `count` sampled elements of the result
 * (NHWC y / dx, OHWI dw): max |ours − ref| / max |ref| over the samples.
 */
function spotCheck(s: ConvShape, dir: ConvDirection, got: ArrayLike<number>, xd: Float32Array, wd: Float32Array, dyd: Float32Array | null, count = 48): string {
  const { OH, OW } = outSize(s);
  const { N, H, W, C, O, K, stride: st, pad } = s;
  const xAt = (n: number, ih: number, iw: number, c: number) =>
    ih < 0 || iw < 0 || ih >= H || iw >= W ? 0 : xd[((n * H + ih) * W + iw) * C + c]!;
  const wAt = (o: number, kh: number, kw: number, c: number) => wd[((o * K + kh) * K + kw) * C + c]!;
  const dyAt = (n: number, oh: number, ow: number, o: number) => dyd![((n * OH + oh) * OW + ow) * O + o]!;
  let seed = 99;
  const pick = (n: number) => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return Math.floor((seed / 4294967296) * n);
  };
  let err = 0;
  let scale = 0;
  for (let t = 0; t < count; t++) {
    let ref = 0;
    let idx: number;
    if (dir === 'fwd') {
      const [n, oh, ow, o] = [pick(N), pick(OH), pick(OW), pick(O)];
      for (let kh = 0; kh < K; kh++) for (let kw = 0; kw < K; kw++) for (let c = 0; c < C; c++) ref += xAt(n, oh * st + kh - pad, ow * st + kw - pad, c) * wAt(o, kh, kw, c);
      idx = ((n * OH + oh) * OW + ow) * O + o;
    } else if (dir === 'bwd-input') {
      const [n, ih, iw, c] = [pick(N), pick(H), pick(W), pick(C)];
      for (let kh = 0; kh < K; kh++) {
        for (let kw = 0; kw < K; kw++) {
          const yh = ih + pad - kh;
          const yw = iw + pad - kw;
          if (yh < 0 || yw < 0 || yh % st || yw % st || yh / st >= OH || yw / st >= OW) continue;
          for (let o = 0; o < O; o++) ref += dyAt(n, yh / st, yw / st, o) * wAt(o, kh, kw, c);
        }
      }
      idx = ((n * H + ih) * W + iw) * C + c;
    } else {
      const [o, kh, kw, c] = [pick(O), pick(K), pick(K), pick(C)];
      for (let n = 0; n < N; n++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) ref += dyAt(n, oh, ow, o) * xAt(n, oh * st + kh - pad, ow * st + kw - pad, c);
      idx = ((o * K + kh) * K + kw) * C + c;
    }
    err = Math.max(err, Math.abs(got[idx]! - ref));
    scale = Math.max(scale, Math.abs(ref));
  }
  return scale === 0 ? 'degenerate reference' : (err / scale).toExponential(1);
}

/**
 * Repetitions for a direction of `flops`: the big layers (≥ 3 GFLOP, ~0.3-1 s ours and
 * several seconds for tfjs on this CPU adapter) get fewer so the conv bench stays under
 * ~10 minutes.
 */
function repsFor(flops: number, reps: number): { ours: number; theirs: number } {
  if (flops >= 3e9) return { ours: Math.min(reps, 3), theirs: Math.min(reps, 2) };
  if (flops >= 1e9) return { ours: Math.min(reps, 3), theirs: Math.min(reps, 3) };
  // Small (tens of ms): more repetitions of ours are cheap and steady the median.
  if (flops < 0.5e9) return { ours: 2 * reps, theirs: Math.min(reps, 3) };
  return { ours: reps, theirs: Math.min(reps, 3) };
}

/** Batch at which tfjs's naive filter gradient is timed: about ≤ 0.5 GFLOP per run (a divisor of N). */
function tfjsFilterBatch(s: ConvShape): number {
  let n = s.N;
  while (n > 1 && n % 2 === 0 && (convFlops(s) * n) / s.N > 0.5e9) n /= 2;
  return n;
}

function shapeName(s: ConvShape): string {
  const { OH } = outSize(s);
  return `b${s.N} ${s.H}²×${s.C}→${OH}²×${s.O} ${s.K}x${s.K}/${s.stride} p${s.pad} (${s.label})`;
}

export function convCase(s: ConvShape, dir: ConvDirection): BenchCase {
  const flops = convFlops(s);
  const { OH, OW } = outSize(s);
  return {
    name: `conv2d ${dir}`,
    shape: shapeName(s),
    flops,
    async run(ctx) {
      const notes: string[] = [];
      if (s.batchNote) notes.push(s.batchNote);
      if (s.K === 3 && s.stride === 1 && Math.min(s.C, s.O) >= 16) notes.push('Winograd unless --conv-algorithm gemm: effective GFLOP/s (direct-convolution FLOPs / time)');
      const xShape = [s.N, s.H, s.W, s.C];
      const wShape = [s.O, s.K, s.K, s.C];
      const yShape = [s.N, OH, OW, s.O];
      const xd = randomData(s.N * s.H * s.W * s.C, 11);
      const wd = randomData(s.O * s.K * s.K * s.C, 12, 2 / Math.sqrt(s.K * s.K * s.C));
      const dyd = dir === 'fwd' ? null : randomData(s.N * OH * OW * s.O, 13);
      const x = tensor(xd, xShape);
      const w = tensor(wd, wShape);
      const dy = dyd ? tensor(dyd, yShape) : null;
      const opts = { stride: s.stride, padding: s.pad };
      const reps = repsFor(flops, ctx.reps);
      if (reps.ours !== ctx.reps) {
        notes.push(`${reps.ours} repetitions of ours, ${reps.theirs} of tfjs (${reps.ours < ctx.reps ? 'a big layer on this CPU adapter' : 'a small layer: more repetitions steady the median'})`);
      }

      let ours: Timed;
      let y: Tensor | null = null;
      let result: () => Tensor | null;
      if (dir === 'fwd') {
        ours = {
          run: () => {
            y?.dispose();
            y = conv2d(x, w, null, opts);
          },
          settle: sync,
        };
        result = () => y;
      } else {
        const leaf = dir === 'bwd-input' ? x : w;
        leaf.requireGrad(true);
        y = conv2d(x, w, null, opts); // the recorded graph, reused by every run
        ours = {
          run: () => {
            leaf.grad?.dispose();
            leaf.grad = null;
            backward(y!, { grad: dy!, retainGraph: true });
          },
          settle: sync,
        };
        result = () => leaf.grad;
      }

      const refs: RefResult[] = [];
      let checked = false;
      const h = await loadTfjs();
      let ms: number;
      if (typeof h === 'string') {
        notes.push(`tfjs-webgpu skipped: ${h}`);
        const [t] = await timeInterleavedAll([{ ...ours, reps: reps.ours }], reps.ours);
        ms = median(t!);
      } else {
        const { tf } = h;
        // tfjs's Conv2DBackpropFilter is a naive kernel (one invocation per dw element, looping
        // over every pixel of the batch): tens of seconds per run at the big layers here. Its
        // work is linear in the batch and its thread count independent of it, so it is timed
        // on the first tN images and scaled by N/tN.
        const tN = dir === 'bwd-filter' ? tfjsFilterBatch(s) : s.N;
        const scale = s.N / tN;
        const txShape: [number, number, number, number] = [tN, s.H, s.W, s.C];
        const tyShape: [number, number, number, number] = [tN, OH, OW, s.O];
        const tx = tf.tensor4d(tN === s.N ? xd : xd.subarray(0, tN * s.H * s.W * s.C), txShape);
        const tw = tf.tensor4d(ohwiToHwio(wd, s.O, s.K, s.C), [s.K, s.K, s.C, s.O]);
        const tdy = dyd ? tf.tensor4d(tN === s.N ? dyd : dyd.subarray(0, tN * OH * OW * s.O), tyShape) : null;
        const strides: [number, number] = [s.stride, s.stride];
        let out: ReturnType<Tf['conv2d']> | null = null;
        const call = (): ReturnType<Tf['conv2d']> => {
          if (dir === 'fwd') return tf.conv2d(tx, tw, strides, s.pad, 'NHWC');
          if (dir === 'bwd-input') {
            return tf.engine().runKernel('Conv2DBackpropInput', { dy: tdy!, filter: tw }, {
              inputShape: txShape, strides, pad: s.pad, dataFormat: 'NHWC', dimRoundingMode: undefined,
            } as never);
          }
          return tf.engine().runKernel('Conv2DBackpropFilter', { x: tx, dy: tdy! }, {
            strides, pad: s.pad, dataFormat: 'NHWC', dimRoundingMode: undefined, filterShape: [s.K, s.K, s.C, s.O],
          } as never);
        };
        const theirs: Timed = {
          run: () => {
            out?.dispose();
            out = call();
          },
          settle: h.settle,
          reps: reps.theirs,
        };
        const [t0, t1] = (await timeInterleavedAll([{ ...ours, reps: reps.ours }, theirs], reps.ours)) as [number[], number[]];
        ms = median(t0);
        const tfMs = median(t1) * scale;
        refs.push({
          name: 'tfjs-webgpu',
          ms: tfMs,
          ...(scale > 1 ? { note: `timed at batch ${tN} (${median(t1).toFixed(0)} ms), scaled ×${scale} (its naive kernel's work is linear in the batch)` } : {}),
        });
        notes.push(`ours ${t0.map((t) => t.toFixed(0)).join('/')} ms, tfjs ${t1.map((t) => t.toFixed(0)).join('/')} ms${scale > 1 ? ` at batch ${tN}` : ''}`);
        // Sanity: the two agree (tfjs's dw is HWIO, ours OHWI).
        const mine = result();
        if (mine && out && scale === 1) {
          const a = await mine.toArray();
          const b = (await (out as ReturnType<Tf['conv2d']>).data()) as Float32Array;
          const KKC = s.K * s.K * s.C;
          const map = dir === 'bwd-filter' ? (i: number) => (i % KKC) * s.O + Math.floor(i / KKC) : undefined;
          checked = true;
          notes.push(`max rel. error: vs tfjs ${relErr(a, b, map)}, vs float64 CPU on 48 samples ${spotCheck(s, dir, a, xd, wd, dyd)}`);
        }
        (out as ReturnType<Tf['conv2d']> | null)?.dispose();
        tx.dispose();
        tw.dispose();
        tdy?.dispose();
      }

      let extra: Record<string, number> | undefined;
      if (dy) {
        // How much of a backward run the engine's seed copy of dy costs (not subtracted).
        const times: number[] = [];
        for (let i = 0; i < 4; i++) {
          const t0 = performance.now();
          const c = copy(dy);
          await sync();
          if (i > 0) times.push(performance.now() - t0);
          c.dispose();
        }
        const seedCopyMs = median(times);
        extra = { seedCopyMs };
        notes.push(`includes autograd's seed copy of dy: a copy of dy alone takes ${seedCopyMs.toFixed(1)} ms (${((100 * seedCopyMs) / ms).toFixed(0)}% of the median; not subtracted)`);
      }
      const mine = result();
      if (!checked && mine) notes.push(`max rel. error vs float64 CPU on 48 samples ${spotCheck(s, dir, await mine.toArray(), xd, wd, dyd)}`);
      for (const t of [x, w]) {
        t.grad?.dispose();
        t.grad = null;
      }
      (y as Tensor | null)?.dispose();
      x.dispose();
      w.dispose();
      dy?.dispose();
      await sync();
      ctx.log(`  ${dir} ${shapeName(s)}: ${ms.toFixed(1)} ms, ${gflops(flops, ms).toFixed(2)} GFLOP/s`);
      return { ms, refs, notes, ...(extra ? { extra } : {}) };
    },
  };
}

const B = 16;

/** ResNet-34's convolutions at batch 16, 224² input. */
export const RESNET34_CONVS: ConvShape[] = [
  { label: 'stem 7x7/2', N: B, H: 224, W: 224, C: 3, O: 64, K: 7, stride: 2, pad: 3 },
  { label: 'conv2_x 3x3', N: B, H: 56, W: 56, C: 64, O: 64, K: 3, stride: 1, pad: 1 },
  { label: 'conv3_x 3x3', N: B, H: 28, W: 28, C: 128, O: 128, K: 3, stride: 1, pad: 1 },
  { label: 'conv4_x 3x3', N: B, H: 14, W: 14, C: 256, O: 256, K: 3, stride: 1, pad: 1 },
  { label: 'conv5_x 3x3', N: B, H: 7, W: 7, C: 512, O: 512, K: 3, stride: 1, pad: 1 },
  { label: 'conv3_1 3x3/2', N: B, H: 56, W: 56, C: 64, O: 128, K: 3, stride: 2, pad: 1 },
  { label: 'conv4_1 3x3/2', N: B, H: 28, W: 28, C: 128, O: 256, K: 3, stride: 2, pad: 1 },
  { label: 'conv5_1 3x3/2', N: B, H: 14, W: 14, C: 256, O: 512, K: 3, stride: 2, pad: 1 },
  { label: 'shortcut3 1x1/2', N: B, H: 56, W: 56, C: 64, O: 128, K: 1, stride: 2, pad: 0 },
  { label: 'shortcut4 1x1/2', N: B, H: 28, W: 28, C: 128, O: 256, K: 1, stride: 2, pad: 0 },
  { label: 'shortcut5 1x1/2', N: B, H: 14, W: 14, C: 256, O: 512, K: 1, stride: 2, pad: 0 },
];

const DIRECTIONS: ConvDirection[] = ['fwd', 'bwd-input', 'bwd-filter'];

/** Per shape, the three directions in a row. */
export const convCases: BenchCase[] = RESNET34_CONVS.flatMap((s) => DIRECTIONS.map((d) => convCase(s, d)));
