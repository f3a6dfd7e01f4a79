/**
 * Batch normalisation kernels over a dense channels-last matrix x[M, C]
 * (M = N·H·W for NHWC activations, M = N for [N, C]). Every kernel here uses the
 * same "column" grid: a thread owns one channel c (or 4, see Width below) and walks a
 * chunk of rows, so per-channel values (mean, scale, …) are loaded once per thread and
 * each row element costs one load per tensor read (lavapipe's cost is load count).
 * Consecutive threads read consecutive channels, which coalesces on real GPUs. A
 * workgroup is a tile of tc columns × 64/tc chunks (tileCols), so few columns do not
 * leave most of its lanes idle.
 *
 * Forward (3 dispatches): bn_partial_stats → bn_finalize (also updates the running
 * stats in place) → bn_apply. Backward (3): bn_partial_grads (Σg, Σg·x̂ per chunk)
 * → bn_grad_finalize (dweight, dbias, dx coefficients) → bn_dx.
 * Eval-mode folding (1): bn_fold turns the running statistics into the per-channel
 * scale and shift a convolution's epilogue applies (see ops/conv/op.ts conv2dFused).
 *
 * Fused activation. bn_apply, bn_partial_grads and bn_dx each come in three variants,
 * `act` ∈ none | relu | leaky (kernel names bn_apply, bn_apply_relu, bn_apply_leaky, …;
 * the leaky slope is a uniform): y = act(z) with z = x̂·γ + β, and the backward uses
 * g' = g·act'(z) in place of g. So BatchNorm → ReLU/LeakyReLU costs no pass of its
 * own in either direction (the separate activation costs 1 load + 1 store forward and
 * 2 loads + 1 store backward per element, plus 2 dispatches).
 * The backward gets act'(z) by recomputing z from x, which it loads anyway for x̂,
 * with the forward's own expression (so the sign, hence the mask, is the forward's
 * bit for bit): one multiply-add per element and no load. The alternatives cost loads:
 * saving y would add a third load to bn_partial_grads and bn_dx (x̂ still needs x),
 * and recovering x̂ from y alone inverts γ and the activation, which fails where
 * ReLU zeroed z (and for γ = 0).
 *
 * Fused residual (`residual` given): y = act(z + r), r a dense [M, C] like x (a ResNet
 * block's identity or projection shortcut). Forward: bn_apply_res* loads r beside x and
 * adds it before the activation (kernel names bn_apply_res, bn_apply_res_relu, …): the
 * separate add costs 2 loads + 1 store per element and a dispatch, the fused one 1 load.
 * Backward, with an activation: the mask needs z + r. Per lane, bn_partial_grads loads x
 * (for x̂, which Σg'·x̂ needs whatever the mask's source) and g; the mask then costs one
 * more load whether it recomputes z + r from r or reads y's sign, so the load count does
 * not decide. It recomputes from r, with the forward's expression (bit for bit the
 * forward's mask, as above), because y's sign loses the mask for a LeakyReLU with a
 * negative slope (y > 0 on both sides of 0). bn_partial_grads_res* stores g' = g·act'(z + r)
 * per element: that is the residual's gradient dr (no dispatch of its own), and bn_dx
 * then reads g' in place of g and the mask's inputs, i.e. the plain (no-activation)
 * bn_dx bound to dr: 2 loads per element (x, g') with batch statistics, 1 with running
 * ones, instead of 3 (x, g, r) — one store in partial_grads buys one load less in dx.
 * Without an activation the residual's gradient is g itself (no kernel), and BatchNorm's
 * backward is the plain one.
 *
 * Statistics are taken relative to a per-channel shift K (the channel's first value):
 * each chunk's sums (shifted by its own first value) become (mean − K, M2), merged
 * with Chan's formula; the
 * normalisation computes ((x − K) − (mean − K)), where x − K is exact for x near K.
 * So a large mean with a small spread loses nothing to cancellation or to rounding
 * the mean to f32.
 *
 * Width (kernel names suffixed _v4): when C and every offset a kernel adds are
 * multiples of 4, the per-element kernels (partial stats, apply, partial grads, dx and
 * their pool variants) give each thread 4 adjacent channels, bound as array<vec4<f32>>:
 * lavapipe pays its per-access overhead (lane mask, descriptor, bounds check) once per
 * vec4 instead of once per float (ResNet-34's BatchNorm: ~316 → ~190 ms per step).
 * Each component gets the scalar kernel's expression (the same generators), so the
 * backward's recomputed mask is its forward's whichever width each pass took (they can
 * differ: the widths are chosen per dispatch from the offsets that dispatch reads).
 * Otherwise, and for the O(C) kernels (finalize, grad finalize, fold), one channel per
 * thread; the partials keep one layout ([chunks, C] pairs) for both widths.
 */
import { isNanWgsl } from '../../../kernels/wgsl-float.js';
import { type BufferView, defineKernel, run } from '../../../kernels/define.js';

const WG = 64;
const MAX_CHUNKS = 256;
const MIN_ROWS_PER_CHUNK = 16;

/** A dense f32 vector or matrix inside a buffer, at an element offset. */
type BufRef = BufferView;

/** Rows per chunk and chunk count for M rows. */
export function bnChunks(M: number): { L: number; chunks: number } {
  const chunks = Math.max(1, Math.min(MAX_CHUNKS, Math.ceil(M / MIN_ROWS_PER_CHUNK)));
  const L = Math.ceil(M / chunks);
  return { L, chunks: Math.ceil(M / L) };
}

/** Rows of the per-channel stats buffer [STATS_ROWS, C] that the forward writes and the backward reads:
 * shift K, mean − K, invstd, weight·invstd, bias. */
export const STATS_ROWS = 5;

/**
 * Thread columns per workgroup (tc) for cw columns: a workgroup is a tile of tc columns
 * × WG/tc chunks, so that a narrow matrix (cw < WG, e.g. C = 64 at width 4) does not
 * leave most of a workgroup's lanes idle (lavapipe runs idle lanes too: ResNet-34's
 * BatchNorm took 275 ms per step with one chunk per 64-lane workgroup, 195 with 16 lanes).
 */
function tileCols(cw: number): number {
  let tc = 1;
  while (tc < cw && tc < WG) tc *= 2;
  return tc;
}

/** The workgroup grid for cw thread columns and `chunks` chunks (tileCols). */
function tileGrid(cw: number, chunks: number): [number, number] {
  const tc = tileCols(cw);
  return [Math.ceil(cw / tc), Math.ceil(chunks / (WG / tc))];
}

/** The uniform block every column kernel shares (offsets are in elements; slope is the leaky activation's; rOff the residual's; tc tileCols). */
const COLUMN_U = { M: 'u32', C: 'u32', L: 'u32', xOff: 'u32', gOff: 'u32', slope: 'f32', rOff: 'u32', tc: 'u32' } as const;

const columnUniforms = (M: number, C: number, v: Width, xOff: number, gOff = 0, slope = 0, rOff = 0) =>
  ({ M, C, L: bnChunks(M).L, xOff, gOff, slope, rOff, tc: tileCols(C / v) });

/** A column kernel: COLUMN_U, the given buffers, WG threads. */
const columnKernel = (name: string, inputs: Record<string, string>, outputs: Record<string, string>, body: string) =>
  defineKernel({ name, uniforms: COLUMN_U, inputs, outputs, workgroupSize: WG, body });

/** The activation fused after the normalisation (see the header). */
export type BnActivation = 'none' | 'relu' | { leaky: number };

type ActKind = 'none' | 'relu' | 'leaky';

const actKind = (a: BnActivation): ActKind => (typeof a === 'string' ? a : 'leaky');
const actSlope = (a: BnActivation): number => (typeof a === 'string' ? 0 : a.leaky);
/** bn_apply, bn_apply_relu, bn_apply_res_leaky, …: `res` for the variants that read the residual. */
const kernelName = (base: string, k: ActKind, res = false): string => `${base}${res ? '_res' : ''}${k === 'none' ? '' : `_${k}`}`;

/** Channels per thread: 1, or 4 with vec4 bindings (see the header). */
type Width = 1 | 4;

/** 4 when C and every element offset the kernel adds to its indices are multiples of 4 (a vec4 index must be whole). */
const widthFor = (C: number, ...offsets: number[]): Width => (C % 4 === 0 && offsets.every((o) => o % 4 === 0) ? 4 : 1);

/** The WGSL type of one thread's share of a row, its zero, the name suffix. */
const vty = (v: Width): string => (v === 4 ? 'vec4<f32>' : 'f32');
const vzero = (v: Width): string => (v === 4 ? 'vec4<f32>(0.0)' : '0.0');
const vsuffix = (v: Width): string => (v === 4 ? '_v4' : '');

/**
 * WGSL lets, in units of the thread's width: cw (C), and the offsets xo, go, ro. The host
 * only picks width 4 when the divisions are exact.
 */
const widthLets = (v: Width, offs: string[]): string =>
  [`\n  let cw = u.C / ${v}u;`, ...offs.map((o) => `\n  let ${o[0]}o = u.${o} / ${v}u;`)].join('');

/** WGSL for act(z). ReLU keeps a NaN (z < 0 is false for it), as PyTorch's. */
function actExpr(k: ActKind, z: string, v: Width): string {
  if (k === 'relu') return `select(${z}, ${vzero(v)}, ${z} < ${vzero(v)})`;
  if (k === 'leaky') return `select(${z} * u.slope, ${z}, ${z} > ${vzero(v)})`;
  return z;
}

/**
 * WGSL for g·act'(z) (z > 0 selects g, as PyTorch's ReLU/LeakyReLU backward; ReLU's also
 * passes g at a NaN, since PyTorch zeroes it only where relu(z) <= 0).
 */
function actGradExpr(k: ActKind, g: string, z: string, v: Width): string {
  if (k === 'relu') return `select(${vzero(v)}, ${g}, (${z} > ${vzero(v)}) ${v === 4 ? '|' : '||'} ${isNanWgsl(z, v === 4)})`;
  if (k === 'leaky') return `select(${g} * u.slope, ${g}, ${z} > ${vzero(v)})`;
  return g;
}

/** WGSL for the residual's element(s) in row r, column c (dense [M, C] at u.rOff). */
const RES_AT = 'res[ro + r * cw + c]';

/** z from d = (x − K) − (mean − K), as bn_apply computes it (+ r with a residual): the same expression in both. */
const zExpr = (d: string, res: boolean): string => (res ? `(${d} * scale + beta) + ${RES_AT}` : `${d} * scale + beta`);

/** The backward's z (nothing without an activation). */
const zLine = (k: ActKind, res = false): string => (k === 'none' ? '' : `
    let z = ${zExpr('d', res)};`);

/** WGSL: thread column c (v channels from v·c) and chunk ch of the workgroup's tile (tileCols). */
const TILE_LETS = `
  let c = wid.x * u.tc + lid.x % u.tc;
  let ch = wid.y * (${WG}u / u.tc) + lid.x / u.tc;`;

/** The column kernels' entry: thread column c, chunk ch: rows r0 ≤ r < r1. */
const columnHead = (v: Width): string => `
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {${widthLets(v, ['xOff', 'gOff', 'rOff'])}${TILE_LETS}
  let r0 = ch * u.L;
  if (c >= cw || r0 >= u.M) { return; }
  let r1 = min(r0 + u.L, u.M);`;

function columnGrid(M: number, C: number, v: Width): [number, number] {
  return tileGrid(C / v, bnChunks(M).chunks);
}

/**
 * WGSL: stores the chunk's per-channel pair (a, b) into part, [chunks, C] vec2s in either
 * width (the finalize kernels read them one channel per thread): as 2 vec4s for width 4.
 */
function storePart(v: Width, a: string, b: string): string {
  if (v === 1) return `part[ch * cw + c] = vec2<f32>(${a}, ${b});`;
  return `let pa = ${a};
  let pb = ${b};
  part[2u * (ch * cw + c)] = vec4<f32>(pa.x, pb.x, pa.y, pb.y);
  part[2u * (ch * cw + c) + 1u] = vec4<f32>(pa.z, pb.z, pa.w, pb.w);`;
}

/** The partials' type: [chunks, C] vec2s, stored as vec4 pairs at width 4. */
const partType = (v: Width): string => `array<${v === 4 ? 'vec4' : 'vec2'}<f32>>`;

function partialStatsKernel(v: Width) {
  const T = `array<${vty(v)}>`;
  return columnKernel(`bn_partial_stats${vsuffix(v)}`, { x: T }, { part: partType(v) }, `// bn_partial_stats${vsuffix(v)}
${columnHead(v)}
  // Sums relative to the chunk's first value keep M2 accurate; the mean is reported
  // relative to the channel's shift K (row 0), which the finalize merges in.
  let shift = x[xo + c];
  let k = x[xo + r0 * cw + c];
  var s1 = ${vzero(v)};
  var s2 = ${vzero(v)};
  for (var r = r0; r < r1; r++) {
    let d = x[xo + r * cw + c] - k;
    s1 = s1 + d;
    s2 = s2 + d * d;
  }
  let n = f32(r1 - r0);
  ${storePart(v, '(k - shift) + s1 / n', `max(s2 - s1 * s1 / n, ${vzero(v)})`)}
}
`);
}

export interface BnFinalizeOptions {
  /** Batch statistics (from the partials) or the running statistics. */
  useBatch: boolean;
  /** Update runningMean/runningVar in place (only with useBatch). */
  updateRunning: boolean;
  hasWeight: boolean;
  hasBias: boolean;
}

function finalizeKernel(o: BnFinalizeOptions, hasRunning: boolean) {
  const inputs: Record<string, string> = {};
  const outputs: Record<string, string> = {};
  if (o.useBatch) Object.assign(inputs, { x0: 'array<f32>', part: 'array<vec2<f32>>' });
  if (hasRunning) Object.assign(o.updateRunning ? outputs : inputs, { rm: 'array<f32>', rv: 'array<f32>' });
  if (o.hasWeight) inputs.w = 'array<f32>';
  if (o.hasBias) inputs.b = 'array<f32>';
  outputs.stats = 'array<f32>';
  const stats = o.useBatch
    ? `  let shift = x0[u.xOff + c];
  var n = 0.0;
  var mean = 0.0;
  var m2 = 0.0;
  for (var k = 0u; k < u.chunks; k++) {
    let nk = f32(min(u.L, u.M - k * u.L));
    let p = part[k * u.C + c];
    let tot = n + nk;
    let d = p.x - mean;
    mean = mean + d * (nk / tot);
    m2 = m2 + p.y + d * d * (n * nk / tot);
    n = tot;
  }
  let variance = m2 / f32(u.M);
${
  o.updateRunning
    ? `  rm[u.rmOff + c] = (1.0 - u.momentum) * rm[u.rmOff + c] + u.momentum * (shift + mean);
  rv[u.rvOff + c] = (1.0 - u.momentum) * rv[u.rvOff + c] + u.momentum * (m2 / max(f32(u.M) - 1.0, 1.0));`
    : ''
}`
    : `  let shift = rm[u.rmOff + c];
  let mean = 0.0;
  let variance = rv[u.rvOff + c];`;
  const body = `// bn_finalize (${o.useBatch ? 'batch' : 'running'} stats${o.updateRunning ? ', update running' : ''}${o.hasWeight ? ', weight' : ''}${o.hasBias ? ', bias' : ''})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let c = wid.x * ${WG}u + lid.x;
  if (c >= u.C) { return; }
${stats}
  let invstd = inverseSqrt(variance + u.eps);
  stats[c] = shift;
  stats[u.C + c] = mean;
  stats[2u * u.C + c] = invstd;
  stats[3u * u.C + c] = ${o.hasWeight ? 'w[u.wOff + c]' : '1.0'} * invstd;
  stats[4u * u.C + c] = ${o.hasBias ? 'b[u.bOff + c]' : '0.0'};
}
`;
  return defineKernel({
    name: 'bn_finalize',
    uniforms: {
      M: 'u32', C: 'u32', L: 'u32', chunks: 'u32', momentum: 'f32', eps: 'f32', rmOff: 'u32', rvOff: 'u32', wOff: 'u32', bOff: 'u32', xOff: 'u32',
    },
    inputs,
    outputs,
    workgroupSize: WG,
    body,
  });
}

/**
 * y = act(z), z = ((x − K) − (mean − K))·(γ·invstd) + β (+ r with a residual): the
 * expression the backward recomputes z with.
 */
function applyKernel(k: ActKind, res: boolean, v: Width) {
  const T = `array<${vty(v)}>`;
  const inputs: Record<string, string> = res ? { x: T, stats: T, res: T } : { x: T, stats: T };
  return columnKernel(kernelName('bn_apply', k, res) + vsuffix(v), inputs, { y: T }, `// ${kernelName('bn_apply', k, res)}${vsuffix(v)}
${columnHead(v)}
  let shift = stats[c];
  let mean = stats[cw + c];
  let scale = stats[3u * cw + c];
  let beta = stats[4u * cw + c];
  for (var r = r0; r < r1; r++) {
    let d = (x[xo + r * cw + c] - shift) - mean;
    let z = ${zExpr('d', res)};
    y[r * cw + c] = ${actExpr(k, 'z', v)};
  }
}
`);
}

export interface BnForwardArgs {
  x: BufRef;
  M: number;
  C: number;
  weight: BufRef | null;
  bias: BufRef | null;
  runningMean: BufRef | null;
  runningVar: BufRef | null;
  useBatch: boolean;
  updateRunning: boolean;
  momentum: number;
  eps: number;
  /** Output: dense [STATS_ROWS, C]. */
  stats: GPUBuffer;
  /** Scratch of at least 2·C·chunks floats (only read when useBatch). */
  partial: GPUBuffer | null;
  /** Applied to the normalised output in the same pass. */
  act: BnActivation;
  /** Dense [M, C] added to the normalised output before the activation, in the same pass. */
  residual: BufRef | null;
  /** Output: dense [M, C]. */
  y: GPUBuffer;
}

/** Forward batch norm: statistics (and running update) then y = act((x − mean)·scale + bias). */
export function runBatchNormForward(a: BnForwardArgs): void {
  runBatchNormStats(a);
  const { M, C } = a;
  const k = actKind(a.act);
  const res = a.residual !== null;
  const v = widthFor(C, a.x.offset, a.residual?.offset ?? 0);
  const uniforms = columnUniforms(M, C, v, a.x.offset, 0, actSlope(a.act), a.residual?.offset ?? 0);
  const buffers = { x: a.x.buffer, stats: a.stats, y: a.y, res: a.residual?.buffer ?? a.x.buffer };
  run(applyKernel(k, res, v), buffers, uniforms, columnGrid(M, C, v));
}

/** The forward's statistics (and running update) into a.stats: bn_partial_stats, bn_finalize. */
function runBatchNormStats(a: Omit<BnForwardArgs, 'residual' | 'y'>): void {
  const { M, C } = a;
  const { L, chunks } = bnChunks(M);
  if (a.useBatch) {
    const v = widthFor(C, a.x.offset);
    run(partialStatsKernel(v), { x: a.x.buffer, part: a.partial! }, columnUniforms(M, C, v, a.x.offset), columnGrid(M, C, v));
  }
  const opts: BnFinalizeOptions = {
    useBatch: a.useBatch,
    updateRunning: a.useBatch && a.updateRunning,
    hasWeight: a.weight !== null,
    hasBias: a.bias !== null,
  };
  const hasRunning = a.runningMean !== null && (opts.updateRunning || !a.useBatch);
  const uniforms = {
    M,
    C,
    L,
    chunks,
    momentum: a.momentum,
    eps: a.eps,
    rmOff: a.runningMean?.offset,
    rvOff: a.runningVar?.offset,
    wOff: a.weight?.offset,
    bOff: a.bias?.offset,
    xOff: a.x.offset,
  };
  // Buffers the variant does not declare are not bound (finalizeKernel's options decide).
  const buffers = {
    x0: a.x.buffer,
    part: a.partial ?? a.stats,
    rm: a.runningMean?.buffer ?? a.stats,
    rv: a.runningVar?.buffer ?? a.stats,
    w: a.weight?.buffer ?? a.stats,
    b: a.bias?.buffer ?? a.stats,
    stats: a.stats,
  };
  run(finalizeKernel(opts, hasRunning), buffers, uniforms, [Math.ceil(C / WG)]);
}

// ---------------------------------------------------------------- backward

/**
 * Per chunk: (Σg', Σg'·x̂) with g' = g·act'(z). With a residual (and an activation), z
 * includes r and g' is also stored per element: the residual's gradient, which bn_dx
 * then reads in place of g.
 */
function partialGradsKernel(k: ActKind, res: boolean, v: Width) {
  const T = `array<${vty(v)}>`;
  const inputs: Record<string, string> = res ? { x: T, g: T, stats: T, res: T } : { x: T, g: T, stats: T };
  const outputs: Record<string, string> = res ? { part: partType(v), dr: T } : { part: partType(v) };
  const name = kernelName('bn_partial_grads', k, res) + vsuffix(v);
  return columnKernel(name, inputs, outputs, `// ${name}
${columnHead(v)}
  let shift = stats[c];
  let mean = stats[cw + c];
  let invstd = stats[2u * cw + c];
  let scale = stats[3u * cw + c];
  let beta = stats[4u * cw + c];
  var sg = ${vzero(v)};
  var sgx = ${vzero(v)};
  for (var r = r0; r < r1; r++) {
    let d = (x[xo + r * cw + c] - shift) - mean;${zLine(k, res)}
    let gv = ${actGradExpr(k, 'g[go + r * cw + c]', 'z', v)};${res ? `
    dr[r * cw + c] = gv;` : ''}
    sg = sg + gv;
    sgx = sgx + gv * (d * invstd);
  }
  ${storePart(v, 'sg', 'sgx')}
}
`);
}

/** Sums the partials into dweight/dbias and the dx coefficients coef[2, C] = (Σg'/M, Σg'·x̂/M). */
const GRAD_FINALIZE = defineKernel({
  name: 'bn_grad_finalize',
  uniforms: { M: 'u32', C: 'u32', L: 'u32', chunks: 'u32' },
  inputs: { part: 'array<vec2<f32>>' },
  outputs: { dwb: 'array<f32>' },
  workgroupSize: WG,
  body: `// bn_grad_finalize
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let c = wid.x * ${WG}u + lid.x;
  if (c >= u.C) { return; }
  var sg = 0.0;
  var sgx = 0.0;
  for (var k = 0u; k < u.chunks; k++) {
    let p = part[k * u.C + c];
    sg = sg + p.x;
    sgx = sgx + p.y;
  }
  // Rows: dweight, dbias, mean of g, mean of g·x̂.
  dwb[c] = sgx;
  dwb[u.C + c] = sg;
  dwb[2u * u.C + c] = sg / f32(u.M);
  dwb[3u * u.C + c] = sgx / f32(u.M);
}
`,
});

/** dx = γ·invstd·(g' − mean(g') − x̂·mean(g'·x̂)) with batch statistics, γ·invstd·g' with running ones. */
function dxKernel(useBatch: boolean, k: ActKind, v: Width) {
  // x is read for x̂ (batch statistics) or for the activation's mask; otherwise it is not bound.
  const readsX = useBatch || k !== 'none';
  const gv = actGradExpr(k, 'g[go + r * cw + c]', 'z', v);
  const T = `array<${vty(v)}>`;
  const inputs: Record<string, string> = {};
  for (const n of [...(readsX ? ['x'] : []), 'g', 'stats', ...(useBatch ? ['dwb'] : [])]) inputs[n] = T;
  return columnKernel(kernelName('bn_dx', k) + vsuffix(v), inputs, { dx: T }, `// ${kernelName('bn_dx', k)}${vsuffix(v)} (${useBatch ? 'batch' : 'running'} stats)
${columnHead(v)}
  let shift = stats[c];
  let mean = stats[cw + c];
  let invstd = stats[2u * cw + c];
  let scale = stats[3u * cw + c];
  let beta = stats[4u * cw + c];${
    useBatch
      ? `
  let mg = dwb[2u * cw + c];
  let mgx = dwb[3u * cw + c];`
      : ''
  }
  for (var r = r0; r < r1; r++) {${
    readsX
      ? `
    let d = (x[xo + r * cw + c] - shift) - mean;${zLine(k)}`
      : ''
  }
    dx[r * cw + c] = scale * ${useBatch ? `((${gv} - mg) - (d * invstd) * mgx)` : gv};
  }
}
`);
}

export interface BnBackwardArgs {
  x: BufRef;
  g: BufRef;
  M: number;
  C: number;
  /** The forward's [STATS_ROWS, C] stats. */
  stats: GPUBuffer;
  useBatch: boolean;
  /** The forward's activation: the backward masks g with act'(z) (z recomputed from x, and r with a residual). */
  act: BnActivation;
  /**
   * The forward's residual r and the output dr for its gradient g·act'(z) (dense [M, C]),
   * or null. Only with an activation: without one, dr is g and the backward is the plain one.
   */
  residual: { r: BufRef; dr: GPUBuffer } | null;
  /** Scratch of at least 2·C·chunks floats. */
  partial: GPUBuffer;
  /** Output [4, C]: dweight, dbias, then two rows of dx coefficients. */
  dwb: GPUBuffer;
  /** Output [M, C], or null when x needs no gradient. */
  dx: GPUBuffer | null;
}

/** bn_grad_finalize: the chunks' partials → dwb (M: the element count the means divide by). */
function gradFinalize(M: number, C: number, ch: { L: number; chunks: number }, partial: GPUBuffer, dwb: GPUBuffer): void {
  run(GRAD_FINALIZE, { part: partial, dwb }, { M, C, L: ch.L, chunks: ch.chunks }, [Math.ceil(C / WG)]);
}

export function runBatchNormBackward(a: BnBackwardArgs): void {
  const { M, C } = a;
  const { L, chunks } = bnChunks(M);
  const k = actKind(a.act);
  const res = a.residual;
  if (res && k === 'none') throw new Error('internal: runBatchNormBackward takes a residual only with an activation (without one, dr = g)');
  const partialBuffers = { x: a.x.buffer, g: a.g.buffer, stats: a.stats, part: a.partial, res: res?.r.buffer ?? a.x.buffer, dr: res?.dr ?? a.partial };
  const v = widthFor(C, a.x.offset, a.g.offset, res?.r.offset ?? 0);
  const w = columnUniforms(M, C, v, a.x.offset, a.g.offset, actSlope(a.act), res?.r.offset ?? 0);
  run(partialGradsKernel(k, !!res, v), partialBuffers, w, columnGrid(M, C, v));
  gradFinalize(M, C, { L, chunks }, a.partial, a.dwb);
  if (!a.dx) return;
  // With a residual, dr holds the masked g' already: bn_dx without an activation, reading dr for g.
  const dxAct: ActKind = res ? 'none' : k;
  const vdx = res ? widthFor(C, a.x.offset) : widthFor(C, a.x.offset, a.g.offset);
  const buffers = { x: a.x.buffer, g: res ? res.dr : a.g.buffer, stats: a.stats, dwb: a.dwb, dx: a.dx };
  const wdx = res ? columnUniforms(M, C, vdx, a.x.offset, 0) : columnUniforms(M, C, vdx, a.x.offset, a.g.offset, actSlope(a.act));
  run(dxKernel(a.useBatch, dxAct, vdx), buffers, wdx, columnGrid(M, C, vdx));
}

// ---------------------------------------------------------------- eval-mode folding

const FOLD = defineKernel({
  name: 'bn_fold',
  uniforms: { C: 'u32', eps: 'f32', wOff: 'u32', bOff: 'u32', mOff: 'u32', vOff: 'u32', cbOff: 'u32', hasConvBias: 'u32' },
  inputs: { w: 'array<f32>', b: 'array<f32>', rm: 'array<f32>', rv: 'array<f32>', cb: 'array<f32>' },
  outputs: { out: 'array<f32>' },
  workgroupSize: WG,
  body: `// bn_fold
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c = gid.x;
  if (c >= u.C) { return; }
  let scale = w[u.wOff + c] / sqrt(rv[u.vOff + c] + u.eps);
  let centre = select(0.0, cb[u.cbOff + c], u.hasConvBias != 0u) - rm[u.mOff + c];
  out[c] = scale;
  out[u.C + c] = b[u.bOff + c] + centre * scale;
}
`,
});

export interface BnFoldArgs {
  C: number;
  eps: number;
  weight: BufRef;
  bias: BufRef;
  runningMean: BufRef;
  runningVar: BufRef;
  /** The convolution's own bias, folded into the shift. */
  convBias: BufRef | null;
  /** Output: dense [2, C] — scale, then shift. */
  out: GPUBuffer;
}

/** scale = γ/√(var + ε), shift = β + (convBias − mean)·scale, per channel: BatchNorm in eval mode as an affine map. */
export function runBatchNormFold(a: BnFoldArgs): void {
  const uniforms = {
    C: a.C,
    eps: a.eps,
    wOff: a.weight.offset,
    bOff: a.bias.offset,
    mOff: a.runningMean.offset,
    vOff: a.runningVar.offset,
    cbOff: a.convBias?.offset ?? 0,
    hasConvBias: a.convBias ? 1 : 0,
  };
  const cb = a.convBias?.buffer ?? a.weight.buffer; // bound but unread without a conv bias
  const buffers = { w: a.weight.buffer, b: a.bias.buffer, rm: a.runningMean.buffer, rv: a.runningVar.buffer, cb, out: a.out };
  run(FOLD, buffers, uniforms, [Math.ceil(a.C / WG)]);
}

// ---------------------------------------------------------------- fused 2×2/2 max-pool

/**
 * BatchNorm + activation + 2×2/2 max-pool (PyTorch's MaxPool2d(2, 2): floor mode, so an
 * odd last row/column belongs to no window). The statistics are the plain forward's
 * (bn_partial_stats, bn_finalize over all M = N·H·W rows). Then, per thread (channel c)
 * and chunk of "block rows" q = n·BH + bh, each 2×2 block (bh, bw) of the input:
 * - bn_apply_pool*: act(z) for the block's 4 elements, their max (scan order, the first
 *   maximum wins, a NaN replaces: the max-pool kernel's rule) → y [N, OH, OW, C]. The
 *   full-size activation is never written.
 * - bn_partial_grads_pool*: Σg', Σg'·x̂ where g' is dy routed to the window's argmax and
 *   masked with act'(z) there, 0 elsewhere (so only windows are walked).
 * - bn_dx_pool*: dx for every element, leftovers (odd H/W) included: they get g' = 0,
 *   but still the −mean(g') − x̂·mean(g'·x̂) terms.
 * What the backward saves (lavapipe's cost = loads per lane): nothing but the stats. The
 * argmax is recomputed from x with the forward's own expressions (so it is the forward's
 * bit for bit), and x is loaded anyway for x̂: 4 x + 1 dy per window. Saving an argmax
 * would cost a store per window forward and one more load per window in each backward
 * pass (1.5 loads per element instead of 1.25); saving the full-size activation (or its
 * gradient) would cost a store per element forward and a load per element back, as the
 * separate pool does.
 */
const POOL_U = {
  H: 'u32', W: 'u32', C: 'u32', BH: 'u32', BW: 'u32', OH: 'u32', OW: 'u32', L: 'u32', Q: 'u32', xOff: 'u32', gOff: 'u32', slope: 'f32', tc: 'u32',
} as const;

/** Block rows per chunk and chunk count for Q block rows (bnChunks' rule). */
export const bnPoolChunks = (Q: number): { L: number; chunks: number } => bnChunks(Q);

const poolHead = (v: Width): string => `
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {${widthLets(v, ['xOff', 'gOff'])}${TILE_LETS}
  let q0 = ch * u.L;
  if (c >= cw || q0 >= u.Q) { return; }
  let shift = stats[c];
  let mean = stats[cw + c];
  let invstd = stats[2u * cw + c];
  let scale = stats[3u * cw + c];
  let beta = stats[4u * cw + c];
  let q1 = min(q0 + u.L, u.Q);`;

/** WGSL: the argmax index j as the argmax's type (vec4<u32> for width 4: one per channel). */
const argOf = (v: Width, j: number): string => (v === 4 ? `vec4<u32>(${j}u)` : `${j}u`);

/** WGSL: d, z and act(z) of the block element at (h, w) of image n, suffix j; and its x index (thread units). */
function poolElem(k: ActKind, v: Width, j: number, h: string, w: string): string {
  return `
      let i${j} = ((n * u.H + ${h}) * u.W + ${w}) * cw + c;
      let d${j} = (x[xo + i${j}] - shift) - mean;
      let z${j} = ${zExpr(`d${j}`, false)};
      let a${j} = ${actExpr(k, `z${j}`, v)};`;
}

/**
 * WGSL: best = a_j where a_j > best or is NaN (per channel for width 4, where the condition
 * is a vector). NaN is tested on the bits: lavapipe's compiler folds \`a != a\` to false.
 */
function poolTake(v: Width, j: number): string {
  const nan = v === 1 ? `(bitcast<u32>(a${j}) & 0x7fffffffu) > 0x7f800000u` : `(bitcast<vec4<u32>>(a${j}) & vec4<u32>(0x7fffffffu)) > vec4<u32>(0x7f800000u)`;
  if (v === 1) return `
      if (a${j} > best || ${nan}) { best = a${j}; arg = ${j}u; }`;
  return `
      let t${j} = (a${j} > best) | (${nan});
      best = select(best, a${j}, t${j});
      arg = select(arg, ${argOf(v, j)}, t${j});`;
}

/** WGSL: a window's 4 elements (rows h0, h0 + 1; columns w0, w0 + 1), the argmax j (0..3) as \`arg\`, z at it as \`za\`, d at it as \`da\`. */
function poolWindow(k: ActKind, v: Width): string {
  return `${poolElem(k, v, 0, 'h0', 'w0')}${poolElem(k, v, 1, 'h0', 'w0 + 1u')}${poolElem(k, v, 2, 'h0 + 1u', 'w0')}${poolElem(k, v, 3, 'h0 + 1u', 'w0 + 1u')}
      var best = a0;
      var arg = ${argOf(v, 0)};${poolTake(v, 1)}${poolTake(v, 2)}${poolTake(v, 3)}`;
}

/** A kernel that walks the windows (block rows q < N·OH of the thread's chunk): its buffers, code before the loop, per window, after. */
function windowWalker(name: string, v: Width, inputs: Record<string, string>, outputs: Record<string, string>, pre: string, body: string, post: string) {
  return defineKernel({ name, uniforms: POOL_U, inputs, outputs, workgroupSize: WG, body: `// ${name}
${poolHead(v)}${pre}
  for (var q = q0; q < q1; q++) {
    let n = q / u.OH;
    let h0 = 2u * (q % u.OH);
    for (var bw = 0u; bw < u.OW; bw++) {
      let w0 = 2u * bw;${body}
    }
  }${post}
}
` });
}

function applyPoolKernel(k: ActKind, v: Width) {
  const T = `array<${vty(v)}>`;
  return windowWalker(kernelName('bn_apply_pool', k) + vsuffix(v), v, { x: T, stats: T }, { y: T }, '', `${poolWindow(k, v)}
      y[(q * u.OW + bw) * cw + c] = best;`, '');
}

/** WGSL: the value of e0..e3 at the argmax (per channel for width 4). */
const atArg = (v: Width, e: string): string =>
  `select(select(select(${e}0, ${e}1, arg == ${argOf(v, 1)}), ${e}2, arg == ${argOf(v, 2)}), ${e}3, arg == ${argOf(v, 3)})`;

/** WGSL: g' (dy masked by act' at the argmax) of window q, bw from dy [N·OH·OW, C]. */
const poolGrad = (k: ActKind, v: Width, q: string): string => `
      let za = ${atArg(v, 'z')};
      let gv = ${actGradExpr(k, `g[go + (${q} * u.OW + bw) * cw + c]`, 'za', v)};`;

function partialGradsPoolKernel(k: ActKind, v: Width) {
  const T = `array<${vty(v)}>`;
  const body = `${poolWindow(k, v)}${poolGrad(k, v, 'q')}
      let da = ${atArg(v, 'd')};
      sg = sg + gv;
      sgx = sgx + gv * (da * invstd);`;
  return windowWalker(kernelName('bn_partial_grads_pool', k) + vsuffix(v), v, { x: T, g: T, stats: T }, { part: partType(v) }, `
  var sg = ${vzero(v)};
  var sgx = ${vzero(v)};`, body, `
  ${storePart(v, 'sg', 'sgx')}`);
}

/** bn_dx with the pool's routing, over every 2×2 block of the input (blocks cut by an odd edge are leftovers: g' = 0). */
function dxPoolKernel(name: string, useBatch: boolean, k: ActKind, v: Width) {
  const T = `array<${vty(v)}>`;
  const Z = vzero(v);
  const dxOf = (gj: string, dj: string) => (useBatch ? `scale * ((${gj} - mg) - (${dj} * invstd) * mgx)` : `scale * ${gj}`);
  const left = (h: string, w: string) => `
      if (${h} < u.H && ${w} < u.W) {
        let i = ((n * u.H + ${h}) * u.W + ${w}) * cw + c;
        let d = (x[xo + i] - shift) - mean;
        dx[i] = ${dxOf(Z, 'd')};
      }`;
  const body = `// ${kernelName('bn_dx_pool', k)}${vsuffix(v)} (${useBatch ? 'batch' : 'running'} stats)
${poolHead(v)}
  let mg = dwb[2u * cw + c];
  let mgx = dwb[3u * cw + c];
  for (var q = q0; q < q1; q++) {
    let n = q / u.BH;
    let bh = q % u.BH;
    let h0 = 2u * bh;
    for (var bw = 0u; bw < u.BW; bw++) {
      let w0 = 2u * bw;
      if (bh < u.OH && bw < u.OW) {
        let qw = n * u.OH + bh;${poolWindow(k, v)}${poolGrad(k, v, 'qw')}${[0, 1, 2, 3].map((j) => `
        dx[i${j}] = ${dxOf(`select(${Z}, gv, arg == ${argOf(v, j)})`, `d${j}`)};`).join('')}
      } else {${left('h0', 'w0')}${left('h0', 'w0 + 1u')}${left('h0 + 1u', 'w0')}${left('h0 + 1u', 'w0 + 1u')}
      }
    }
  }
}
`;
  return defineKernel({ name, uniforms: POOL_U, inputs: { x: T, g: T, stats: T, dwb: T }, outputs: { dx: T }, workgroupSize: WG, body });
}

/** Geometry of the fused pool: NHWC [N, H, W, C], OH = ⌊H/2⌋, OW = ⌊W/2⌋. */
export interface BnPoolGeometry {
  N: number;
  H: number;
  W: number;
  C: number;
}

function poolUniforms(g: BnPoolGeometry, v: Width, Q: number, xOff: number, gOff: number, slope: number) {
  const { H, W, C } = g;
  const [BH, BW, OH, OW] = [Math.ceil(H / 2), Math.ceil(W / 2), Math.floor(H / 2), Math.floor(W / 2)];
  return { H, W, C, BH, BW, OH, OW, L: bnPoolChunks(Q).L, Q, xOff, gOff, slope, tc: tileCols(C / v) };
}

const poolGrid = (C: number, Q: number, v: Width): [number, number] => tileGrid(C / v, bnPoolChunks(Q).chunks);

/** Windows' block rows (N·OH) and all block rows (N·⌈H/2⌉). */
export const bnPoolRows = (g: BnPoolGeometry): { windows: number; blocks: number } => ({ windows: g.N * Math.floor(g.H / 2), blocks: g.N * Math.ceil(g.H / 2) });

/** Forward: statistics as runBatchNormForward (partial: its size), then y [N, ⌊H/2⌋, ⌊W/2⌋, C] = maxpool(act(bn(x))). */
export function runBatchNormPoolForward(a: Omit<BnForwardArgs, 'residual' | 'y' | 'M' | 'C'>, g: BnPoolGeometry, y: GPUBuffer): void {
  const M = g.N * g.H * g.W;
  runBatchNormStats({ ...a, M, C: g.C });
  const k = actKind(a.act);
  const Q = bnPoolRows(g).windows;
  const v = widthFor(g.C, a.x.offset);
  run(applyPoolKernel(k, v), { x: a.x.buffer, stats: a.stats, y }, poolUniforms(g, v, Q, a.x.offset, 0, actSlope(a.act)), poolGrid(g.C, Q, v));
}

/** Backward of runBatchNormPoolForward from dy [N, OH, OW, C]; partial needs 2·C·bnPoolChunks(N·⌊H/2⌋).chunks floats. */
export function runBatchNormPoolBackward(a: Omit<BnBackwardArgs, 'residual' | 'M' | 'C'>, g: BnPoolGeometry): void {
  const k = actKind(a.act);
  const slope = actSlope(a.act);
  const { windows, blocks } = bnPoolRows(g);
  const v = widthFor(g.C, a.x.offset, a.g.offset);
  run(
    partialGradsPoolKernel(k, v),
    { x: a.x.buffer, g: a.g.buffer, stats: a.stats, part: a.partial },
    poolUniforms(g, v, windows, a.x.offset, a.g.offset, slope),
    poolGrid(g.C, windows, v),
  );
  gradFinalize(g.N * g.H * g.W, g.C, bnPoolChunks(windows), a.partial, a.dwb);
  if (!a.dx) return;
  const name = `${kernelName('bn_dx_pool', k)}${a.useBatch ? '' : '_running'}${vsuffix(v)}`;
  const buffers = { x: a.x.buffer, g: a.g.buffer, stats: a.stats, dwb: a.dwb, dx: a.dx };
  run(dxPoolKernel(name, a.useBatch, k, v), buffers, poolUniforms(g, v, blocks, a.x.offset, a.g.offset, slope), poolGrid(g.C, blocks, v));
}
