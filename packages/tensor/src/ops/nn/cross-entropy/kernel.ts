/**
 * Fused softmax cross-entropy over dense logits z[N, C] and integer labels y[N].
 *
 * Forward (one dispatch, one workgroup): each thread takes rows r ≡ lid (mod WG) and
 * makes one pass over the row with an online log-sum-exp (running max m and
 * Σexp(z − m), rescaled when the max grows), also summing z for label smoothing:
 *   loss_r = (1 − ε)(lse − z_y) + ε(lse − mean_c z_c)
 * (fastai's LabelSmoothingCrossEntropy; equal to PyTorch's label_smoothing = ε).
 * It writes lse_r (for the backward), the per-sample losses or their sum/mean
 * (reduced in workgroup memory). Out-of-range labels are clamped for the memory
 * access, make that sample's loss NaN, and are recorded in a status buffer
 * [count, first bad sample, a bad label, 0] that `checkLabelErrors` reads.
 * Edge values as PyTorch: a −Inf logit adds nothing to the row (its loss is finite unless
 * it is the target's, then +Inf, or ε > 0, then +Inf too); +Inf or NaN makes the row NaN
 * (expf/logf keep NaN where an adapter's exp/log do not, see wgsl-float.ts).
 *
 * Backward (one dispatch, thread per logit): dz = g_r · (exp(z − lse_r) − (1 − ε)[c = y] − ε/C).
 */
import { defineKernel, run } from '../../../kernels/define.js';
import { FLAT_INDEX, grid1d } from '../../../kernels/grid.js';
import { EXPF_WGSL, LOGF_WGSL } from '../../../kernels/wgsl-float.js';

export type Reduction = 'mean' | 'sum' | 'none';

const WG = 256;

function forwardKernel(reduction: Reduction) {
  const store =
    reduction === 'none'
      ? '    loss[r] = li;'
      : '    acc = acc + li;';
  const reduce =
    reduction === 'none'
      ? ''
      : `  red[lid.x] = acc;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (lid.x < s) { red[lid.x] = red[lid.x] + red[lid.x + s]; }
    workgroupBarrier();
  }
  if (lid.x == 0u) { loss[0] = red[0] * ${reduction === 'mean' ? 'u.invN' : '1.0'}; }`;
  return defineKernel({
    name: `softmax_xent_fwd_${reduction}`,
    uniforms: { N: 'u32', C: 'u32', zOff: 'u32', yOff: 'u32', eps: 'f32', invN: 'f32', nan: 'f32' },
    inputs: { z: 'array<f32>', y: 'array<i32>' },
    outputs: { loss: 'array<f32>', lse: 'array<f32>', status: 'array<atomic<u32>, 4>' },
    workgroupSize: WG,
    body: `// softmax_xent_fwd (${reduction})
var<workgroup> red: array<f32, WG>;
${EXPF_WGSL}${LOGF_WGSL}
fn main(@builtin(local_invocation_id) lid: vec3<u32>) {
  var acc = 0.0;
  for (var r = lid.x; r < u.N; r += WG) {
    let row = u.zOff + r * u.C;
    var m = -3.402823e38;
    var s = 0.0;
    var sz = 0.0;
    for (var c = 0u; c < u.C; c++) {
      let v = z[row + c];
      sz = sz + v;
      if (v > m) {
        s = s * expf(m - v) + 1.0;
        m = v;
      } else {
        s = s + expf(v - m);
      }
    }
    // +Inf among the logits, or all of them −Inf (s = 0: nothing added): PyTorch's log-softmax
    // is NaN (Inf − Inf) for the whole row.
    let l = select(m + logf(s), u.nan, m > 3.402823e38 || s == 0.0);
    lse[r] = l;
    let label = y[u.yOff + r];
    let bad = label < 0 || u32(label) >= u.C;
    if (bad) {
      atomicAdd(&status[0], 1u);
      atomicMin(&status[1], r);
      atomicStore(&status[2], bitcast<u32>(label));
      atomicStore(&status[3], u.C);
    }
    let lc = u32(clamp(label, 0, i32(u.C) - 1));
    // The smoothing term only when ε > 0: with a −Inf logit it is ε·∞, and 0·∞ is NaN.
    let lsTerm = select(0.0, u.eps * (l - sz / f32(u.C)), u.eps > 0.0);
    let li = select((1.0 - u.eps) * (l - z[row + lc]) + lsTerm, u.nan, bad);
${store}
  }
${reduce}
}
`,
  });
}

const BACKWARD = defineKernel({
  name: 'softmax_xent_bwd',
  uniforms: { N: 'u32', C: 'u32', zOff: 'u32', yOff: 'u32', eps: 'f32', scale: 'f32', gOff: 'u32', gStride: 'u32' },
  inputs: { z: 'array<f32>', y: 'array<i32>', lse: 'array<f32>', g: 'array<f32>' },
  outputs: { dz: 'array<f32>' },
  workgroupSize: WG,
  body: `// softmax_xent_bwd
${EXPF_WGSL}
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = ${FLAT_INDEX};
  if (i >= u.N * u.C) { return; }
  let r = i / u.C;
  let c = i % u.C;
  let lc = u32(clamp(y[u.yOff + r], 0, i32(u.C) - 1));
  let gr = g[u.gOff + r * u.gStride] * u.scale;
  let tgt = select(0.0, 1.0 - u.eps, c == lc) + u.eps / f32(u.C);
  dz[i] = gr * (expf(z[u.zOff + i] - lse[r]) - tgt);
}
`,
});

export interface XentForwardArgs {
  z: GPUBuffer;
  zOff: number;
  y: GPUBuffer;
  yOff: number;
  N: number;
  C: number;
  eps: number;
  reduction: Reduction;
  /** Output: [N] for 'none', [1] otherwise. */
  loss: GPUBuffer;
  /** Output: [N] log-sum-exp per row. */
  lse: GPUBuffer;
  status: GPUBuffer;
}

export function runCrossEntropyForward(a: XentForwardArgs): void {
  run(
    forwardKernel(a.reduction),
    { z: a.z, y: a.y, loss: a.loss, lse: a.lse, status: a.status },
    { N: a.N, C: a.C, zOff: a.zOff, yOff: a.yOff, eps: a.eps, invN: 1 / a.N, nan: NaN },
    [1],
  );
}

export interface XentBackwardArgs {
  z: GPUBuffer;
  zOff: number;
  y: GPUBuffer;
  yOff: number;
  lse: GPUBuffer;
  /** Upstream gradient: a scalar (gStride 0) or a strided [N] vector. */
  g: GPUBuffer;
  gOff: number;
  gStride: number;
  N: number;
  C: number;
  eps: number;
  reduction: Reduction;
  dz: GPUBuffer;
}

export function runCrossEntropyBackward(a: XentBackwardArgs): void {
  run(
    BACKWARD,
    { z: a.z, y: a.y, lse: a.lse, g: a.g, dz: a.dz },
    { N: a.N, C: a.C, zOff: a.zOff, yOff: a.yOff, eps: a.eps, scale: a.reduction === 'mean' ? 1 / a.N : 1, gOff: a.gOff, gStride: a.gStride },
    grid1d(a.N * a.C, WG),
  );
}
