/**
 * Baseline: the naive WGSL matmul, one invocation per output element looping over K.
 * A yardstick for the benchmarks, not an engine kernel. `rowStart`/`rows` let a
 * benchmark time a block of rows and scale: every output costs the same here.
 */
import { type Tensor, defineKernel, runKernel } from '@tessera/tensor';

const NAIVE = defineKernel({
  name: 'bench_naive_matmul',
  uniforms: { M: 'u32', N: 'u32', K: 'u32', rowStart: 'u32', rows: 'u32' },
  inputs: { a: 'array<f32>', b: 'array<f32>' },
  outputs: { c: 'array<f32>' },
  workgroupSize: [8, 8],
  body: `// bench: naive matmul, one output per invocation
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let n = gid.x;
  let r = gid.y;
  if (n >= u.N || r >= u.rows) { return; }
  let m = u.rowStart + r;
  var s = 0.0;
  for (var k = 0u; k < u.K; k++) {
    s += a[m * u.K + k] * b[k * u.N + n];
  }
  c[r * u.N + n] = s;
}
`,
});

/**
 * Encodes c[0 .. rows) = a[rowStart .. rowStart+rows) · b for dense row-major a (M×K),
 * b (K×N); c holds `rows` rows.
 */
export function naiveMatmul(a: Tensor, b: Tensor, c: Tensor, M: number, N: number, K: number, rowStart = 0, rows = M): void {
  runKernel(NAIVE, { a: a.buffer, b: b.buffer, c: c.buffer }, { M, N, K, rowStart, rows }, [Math.ceil(N / 8), Math.ceil(rows / 8)]);
}
