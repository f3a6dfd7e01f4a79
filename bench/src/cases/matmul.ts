/**
 * matmul cases: 1024³ and the implicit-GEMM shapes of ResNet-34's 3×3 convolutions at
 * batch 16, 224² (M = 16·H·W output pixels, N = output channels, K = 9·input channels),
 * each against a naive one-thread-per-output WGSL kernel and TensorFlow.js's WebGPU
 * backend, measured in the same run on the same adapter.
 */
import { Tensor, matmul, sync, tensor } from '@tessera/tensor';
import { gflops, timeInterleaved, timeMedian, type BenchCase, type RefResult, type Timed } from '../harness.js';
import { naiveMatmul } from '../baselines/naive-matmul.js';
import { loadTfjs } from '../baselines/tfjs.js';

/** About this many FLOPs of the naive kernel are timed (a block of rows), then scaled to M. */
const NAIVE_FLOPS = 2.5e8;

function randomData(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 4294967296 - 0.5;
  }
  return out;
}

export function matmulCase(M: number, N: number, K: number, what?: string): BenchCase {
  return {
    name: 'matmul',
    shape: `${M}x${N}x${K}`,
    flops: 2 * M * N * K,
    async run(ctx) {
      const notes: string[] = [];
      if (what) notes.push(what);
      const ad = randomData(M * K, 1);
      const bd = randomData(K * N, 2);
      const a = tensor(ad, [M, K]);
      const b = tensor(bd, [K, N]);
      const refs: RefResult[] = [];

      // Ours and TensorFlow.js, interleaved (see timeInterleaved).
      let c: Tensor | null = null;
      const ours: Timed = {
        run: () => {
          c?.dispose();
          c = matmul(a, b);
        },
        settle: sync,
      };
      const h = await loadTfjs();
      let ms: number;
      if (typeof h === 'string') {
        notes.push(`tfjs-webgpu skipped: ${h}`);
        [ms] = (await timeInterleaved([ours], ctx.reps)) as [number];
      } else {
        const { tf } = h;
        const ta = tf.tensor2d(ad, [M, K]);
        const tb = tf.tensor2d(bd, [K, N]);
        let tc: ReturnType<Tf['matMul']> | null = null;
        const theirs: Timed = {
          run: () => {
            tc?.dispose();
            tc = tf.matMul(ta, tb);
          },
          settle: h.settle,
          // tfjs runs 5-10x longer: fewer repetitions keep the whole bench to a few minutes.
          reps: Math.min(ctx.reps, 3),
        };
        const [m0, m1] = (await timeInterleaved([ours, theirs], ctx.reps)) as [number, number];
        ms = m0;
        (tc as ReturnType<Tf['matMul']> | null)?.dispose();
        ta.dispose();
        tb.dispose();
        refs.push({ name: 'tfjs-webgpu', ms: m1 });
      }

      // Naive WGSL on a block of rows, scaled (every output costs the same there).
      const rows = Math.min(M, Math.max(8, Math.round(NAIVE_FLOPS / (2 * N * K) / 8) * 8));
      const block = Tensor.empty([rows, N]);
      const naiveMs = (await timeMedian(() => naiveMatmul(a, b, block, M, N, K, 0, rows), sync, { reps: 3 })) * (M / rows);
      refs.unshift({
        name: 'naive-wgsl',
        ms: naiveMs,
        ...(rows < M ? { note: `timed on ${rows} of ${M} rows, scaled ×${(M / rows).toFixed(1)}` } : {}),
      });
      // Sanity: ours agrees with the naive kernel on that block.
      const got = (await c!.toArray()).subarray(0, rows * N);
      const naive = await block.toArray();
      let err = 0;
      let scale = 1e-30;
      for (let i = 0; i < naive.length; i++) {
        err = Math.max(err, Math.abs(got[i]! - naive[i]!));
        scale = Math.max(scale, Math.abs(naive[i]!));
      }
      notes.push(`max |ours − naive| / max|C| = ${(err / scale).toExponential(1)}`);
      block.dispose();
      (c as Tensor | null)?.dispose();
      a.dispose();
      b.dispose();
      ctx.log(`  ${M}x${N}x${K}: ${ms.toFixed(1)} ms, ${gflops(2 * M * N * K, ms).toFixed(2)} GFLOP/s`);
      return { ms, refs, notes };
    },
  };
}

type Tf = typeof import('@tensorflow/tfjs-core');

export const matmulCases: BenchCase[] = [
  matmulCase(1024, 1024, 1024),
  matmulCase(50176, 64, 576, 'ResNet-34 conv2_x 3×3, 56²×64 at batch 16, as implicit GEMM'),
  matmulCase(12544, 128, 1152, 'ResNet-34 conv3_x 3×3, 28²×128 at batch 16'),
  matmulCase(3136, 256, 2304, 'ResNet-34 conv4_x 3×3, 14²×256 at batch 16'),
  matmulCase(784, 512, 4608, 'ResNet-34 conv5_x 3×3, 7²×512 at batch 16'),
];
