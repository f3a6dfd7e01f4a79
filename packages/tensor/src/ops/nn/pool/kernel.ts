/**
 * 2-D pooling over dense NHWC activations: max and average, with fixed windows
 * (kernel/stride/padding) or PyTorch's adaptive bins (start = ⌊i·H/out⌋,
 * end = ⌈(i+1)·H/out⌉). One generator, four forward variants and their backwards.
 *
 * Forward: one thread per output element; max also writes the argmax as a flat index
 * h·W + w within the input plane, like PyTorch. Backward gathers instead of
 * scattering: one thread per input element loops over the outputs whose window
 * covers it (max: those whose saved argmax is this element), so overlapping windows
 * need no atomics and the result is deterministic. Variants: max windows that tile the
 * input (kernel = stride, no padding) find their one window by a division, with no loop;
 * other fixed max windows unroll their window (forward, up to 4×4) and their ≤ ⌈k/s⌉²
 * covering windows (backward) with constant bounds, since lavapipe runs a loop whose
 * bounds differ between lanes with every lane masked through the longest.
 *
 * Grid: a workgroup of 64 lanes covers CT channels (CT = the power of two ≥ C, at
 * most 64) × 64/CT neighbouring columns; workgroup y walks columns, z walks (n, row).
 * So lanes read neighbouring addresses and the index arithmetic is shifts and masks,
 * not integer divisions: those are scalarised on CPU rasterisers (lavapipe), where
 * they cost more than the loads. Kernel, stride and padding (and the adaptive
 * output size) are WGSL constants for the same reason: a network has few distinct
 * pooling configurations, and divisions by constants become multiplies.
 *
 * Width (kernel names suffixed _v4): when C and the element offset the kernel adds (xOff
 * forward, gOff backward) are multiples of 4, each thread takes 4 adjacent channels through
 * array<vec4<f32>> (the argmax through array<vec4<i32>>), so the channel tile is over C/4
 * thread columns. lavapipe pays its per-access overhead (lane mask, descriptor reload,
 * bounds check) once per vec4 instead of once per float. Each component runs the scalar
 * kernel's expression — a comparison per channel, selects instead of branches — so NaNs,
 * ties and argmaxes stay per channel. Otherwise the scalar kernels, chosen per dispatch.
 */
import { gpu } from '../../../runtime/device.js';
import { type KernelDef, defineKernel, run } from '../../../kernels/define.js';
import { isNanWgsl } from '../../../kernels/wgsl-float.js';

const LANES = 64;

export type PoolKind = 'max' | 'avg';

export interface PoolGeometry {
  N: number;
  H: number;
  W: number;
  C: number;
  OH: number;
  OW: number;
  /** Fixed windows: kernel, stride, padding per axis. Ignored for adaptive bins. */
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  ph: number;
  pw: number;
  adaptive: boolean;
  /** avg only: divide by the full window (padding included, PyTorch's default) or by the valid count. */
  countIncludePad: boolean;
}

/** Channels per thread: 1, or 4 through vec4 bindings (see the header). */
type Width = 1 | 4;

/** 4 when C and the element offset the kernel adds are multiples of 4 (a vec4 index must be whole). */
const widthFor = (C: number, off: number): Width => (C % 4 === 0 && off % 4 === 0 ? 4 : 1);

/** WGSL spellings at a width: value and index types, a splat of a scalar expression, the kernel name suffix. */
function wgslTypes(v: Width) {
  const vec = v === 4;
  return {
    f: vec ? 'vec4<f32>' : 'f32',
    i: vec ? 'vec4<i32>' : 'i32',
    f0: vec ? 'vec4<f32>(0.0)' : '0.0',
    splatF: (e: string) => (vec ? `vec4<f32>(${e})` : e),
    splatI: (e: string) => (vec ? `vec4<i32>(${e})` : e),
    /** `ok` (scalar) and, per channel, idx == me: vec4<bool> needs & and a splat; scalars keep && (short-circuit). */
    hit: (ok: string, idx: string, me: string) => (vec ? `vec4<bool>(${ok}) & (${idx} == vec4<i32>(${me}))` : `${ok} && ${idx} == ${me}`),
    suffix: vec ? '_v4' : '',
  };
}

/**
 * WGSL: one max step — take v (flat index at) if ok and v beats best, is NaN (propagates),
 * or nothing was taken yet; ties keep the first maximum in scan order, like PyTorch.
 * Scalar: a branch; vec4: the same test per channel, as selects. NaN is tested on the
 * bits (isNanWgsl): lavapipe's compiler folds `v != v` to false, and the NaN was dropped.
 */
function maxStep(v: Width, ok: string | null, at: string): string {
  const isNan = isNanWgsl('v', v === 4);
  if (v === 1) return `if (${ok ? `${ok} && ` : ''}(v > best || ${isNan} || arg < 0)) { best = v; arg = ${at}; }`;
  const take = `(v > best) | (${isNan}) | (arg < vec4<i32>(0))`;
  return `let take = ${ok ? `vec4<bool>(${ok}) & (${take})` : take}; best = select(best, v, take); arg = select(arg, vec4<i32>(${at}), take);`;
}

/** Channel lanes per workgroup: the power of two ≥ C, capped at LANES. */
function channelTile(C: number): number {
  let t = 1;
  while (t < C && t < LANES) t *= 2;
  return t;
}

const UNIFORMS = { N: 'u32', H: 'i32', W: 'i32', C: 'u32', OH: 'i32', OW: 'i32', zBase: 'u32', gOff: 'u32', xOff: 'u32' } as const;
type PoolKernel = KernelDef<typeof UNIFORMS, string>;

/** WGSL: the window of output o along one axis: start/end clipped to the input, and the divisor extent. */
function windowFns(g: PoolGeometry): string {
  if (g.adaptive) {
    return `
fn winH(o: i32) -> vec3<i32> { let s = (o * u.H) / ${g.OH}; let e = ((o + 1) * u.H + ${g.OH - 1}) / ${g.OH}; return vec3<i32>(s, e, e - s); }
fn winW(o: i32) -> vec3<i32> { let s = (o * u.W) / ${g.OW}; let e = ((o + 1) * u.W + ${g.OW - 1}) / ${g.OW}; return vec3<i32>(s, e, e - s); }`;
  }
  // PyTorch (count_include_pad): the divisor spans the window clipped to the padded input.
  const ext = (lim: string, p: number) => (g.countIncludePad ? `min(e, ${lim} + ${p}) - s` : 'ce - cs');
  return `
fn winH(o: i32) -> vec3<i32> { let s = o * ${g.sh} - ${g.ph}; let e = s + ${g.kh}; let cs = max(s, 0); let ce = min(e, u.H); return vec3<i32>(cs, ce, ${ext('u.H', g.ph)}); }
fn winW(o: i32) -> vec3<i32> { let s = o * ${g.sw} - ${g.pw}; let e = s + ${g.kw}; let cs = max(s, 0); let ce = min(e, u.W); return vec3<i32>(cs, ce, ${ext('u.W', g.pw)}); }`;
}

/** WGSL: the range [lo, hi] of outputs along one axis whose window covers input i. */
function coverFns(g: PoolGeometry): string {
  if (g.adaptive) {
    // One bin along an axis (global pooling) covers every input: no division by the
    // input size, which lavapipe runs lane by lane (Tiny Darknet's 1000-channel global
    // average pool backward took 22 ms with them).
    const one = 'return vec2<i32>(0, 0);';
    return `
fn coverH(i: i32) -> vec2<i32> { ${g.OH === 1 ? one : `return vec2<i32>((i * ${g.OH}) / u.H, min(((i + 1) * ${g.OH} + u.H - 1) / u.H - 1, u.OH - 1));`} }
fn coverW(i: i32) -> vec2<i32> { ${g.OW === 1 ? one : `return vec2<i32>((i * ${g.OW}) / u.W, min(((i + 1) * ${g.OW} + u.W - 1) / u.W - 1, u.OW - 1));`} }`;
  }
  // Outputs o with o·s − p ≤ i < o·s − p + k: o from ⌈(i + p − k + 1)/s⌉ to ⌊(i + p)/s⌋. The
  // first numerator is shifted by s·k to stay non-negative (integer division truncates).
  const cover = (ax: 'H' | 'W', k: number, s: number, p: number) =>
    `fn cover${ax}(i: i32) -> vec2<i32> { return vec2<i32>(max((i + ${p - k + s + s * k}) / ${s} - ${k}, 0), min((i + ${p}) / ${s}, u.O${ax} - 1)); }`;
  return `\n${cover('H', g.kh, g.sh, g.ph)}\n${cover('W', g.kw, g.sw, g.pw)}`;
}

function label(kind: PoolKind, g: PoolGeometry): string {
  const base = `${g.adaptive ? 'adaptive_' : ''}${kind}_pool2d`;
  return g.adaptive ? `${base}_${g.OH}x${g.OW}` : `${base}_k${g.kh}x${g.kw}_s${g.sh}x${g.sw}_p${g.ph}x${g.pw}${kind === 'avg' && !g.countIncludePad ? '_exclude_pad' : ''}`;
}

/** WGSL prologue: lane → (channel c, column col), workgroup z → (n, row); returns early outside. */
function head(ct: number, rows: string, cols: string): string {
  const shift = Math.log2(ct);
  return `
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let c = wid.x * ${ct}u + (lid.x & ${ct - 1}u);
  let col = i32(wid.y * ${LANES / ct}u + (lid.x >> ${shift}u));
  let z = wid.z + u.zBase;
  let row = i32(z % u32(${rows}));
  let n = z / u32(${rows});
  if (c >= u.C || col >= ${cols}) { return; }`;
}

/** Max over a fixed window, unrolled (constant bounds; out-of-image taps masked): no per-lane loop. */
function unrolledMaxBody(g: PoolGeometry, v: Width): string {
  const t = wgslTypes(v);
  let s = `  var best = ${t.splatF('-3.402823e38')};
  var arg = ${t.splatI('-1')};
  let ih0 = oh * ${g.sh} - ${g.ph};
  let iw0 = ow * ${g.sw} - ${g.pw};
`;
  for (let a = 0; a < g.kh; a++) {
    for (let b = 0; b < g.kw; b++) {
      s += `  {
    let ih = ih0 + ${a}; let iw = iw0 + ${b};
    let ok = ih >= 0 && ih < u.H && iw >= 0 && iw < u.W;
    let v = x[base + u32(clamp(ih, 0, u.H - 1) * u.W + clamp(iw, 0, u.W - 1)) * u.C];
    ${maxStep(v, 'ok', 'ih * u.W + iw')}
  }
`;
    }
  }
  return `${s}  y[o] = best;
  idx[o] = arg;`;
}

function forwardCode(kind: PoolKind, g: PoolGeometry, v: Width): string {
  const t = wgslTypes(v);
  const body =
    kind === 'max' && !g.adaptive && g.kh * g.kw <= 16
      ? unrolledMaxBody(g, v)
      : kind === 'max'
      ? `  var best = ${t.splatF('-3.402823e38')};
  var arg = ${t.splatI('-1')};
  for (var ih = wh.x; ih < wh.y; ih++) {
    for (var iw = ww.x; iw < ww.y; iw++) {
      let v = x[base + u32(ih * u.W + iw) * u.C];
      ${maxStep(v, null, 'ih * u.W + iw')}
    }
  }
  y[o] = best;
  idx[o] = arg;`
      : `  var acc = ${t.f0};
  for (var ih = wh.x; ih < wh.y; ih++) {
    for (var iw = ww.x; iw < ww.y; iw++) {
      acc = acc + x[base + u32(ih * u.W + iw) * u.C];
    }
  }
  y[o] = acc / f32(wh.z * ww.z);`;
  return `// ${label(kind, g)} forward${t.suffix}
${windowFns(g)}
${head(channelTile(g.C / v), 'u.OH', 'u.OW')}
  let oh = row;
  let ow = col;
  let wh = winH(oh);
  let ww = winW(ow);
  let base = u.xOff + n * u32(u.H * u.W) * u.C + c;
  let o = ((n * u32(u.OH) + u32(oh)) * u32(u.OW) + u32(ow)) * u.C + c;
${body}
}
`;
}

/** Fixed windows that tile the input (kernel = stride, no padding): each input lies in at most one. */
function tiles(g: PoolGeometry): boolean {
  return !g.adaptive && g.kh === g.sh && g.kw === g.sw && g.ph === 0 && g.pw === 0;
}


function backwardCode(kind: PoolKind, g: PoolGeometry, v: Width): string {
  if (kind === 'max' && tiles(g)) return tiledMaxBackwardCode(g, v);
  if (kind === 'max' && !g.adaptive) return fixedMaxBackwardCode(g, v);
  const t = wgslTypes(v);
  const inner =
    kind === 'max'
      ? `      let o = obase + u32(oh * u.OW + ow) * u.C;
      ${v === 1 ? 'if (idx[o] == me) { acc = acc + g[u.gOff + o]; }' : 'acc = acc + select(vec4<f32>(0.0), g[u.gOff + o], idx[o] == vec4<i32>(me));'}`
      : `      let wh = winH(oh);
      let ww = winW(ow);
      if (ih >= wh.x && ih < wh.y && iw >= ww.x && iw < ww.y) {
        acc = acc + g[u.gOff + obase + u32(oh * u.OW + ow) * u.C] / f32(wh.z * ww.z);
      }`;
  return `// ${label(kind, g)} backward${t.suffix}
${windowFns(g)}
${coverFns(g)}
${head(channelTile(g.C / v), 'u.H', 'u.W')}
  let ih = row;
  let iw = col;
  let me = ih * u.W + iw;
  let obase = n * u32(u.OH * u.OW) * u.C + c;
  let ch = coverH(ih);
  let cw = coverW(iw);
  var acc = ${t.f0};
  for (var oh = ch.x; oh <= ch.y; oh++) {
    for (var ow = cw.x; ow <= cw.y; ow++) {
${inner}
    }
  }
  dx[((n * u32(u.H) + u32(ih)) * u32(u.W) + u32(iw)) * u.C + c] = acc;
}
`;
}

/**
 * Max backward when the windows tile the input (Darknet's 2×2/2): the one window holding
 * an input element is a division by a constant, so there is no loop over covering windows
 * and no divergent branch — a select. (The general backward's per-lane loop bounds cost
 * lavapipe ~4× more here.)
 */
function tiledMaxBackwardCode(g: PoolGeometry, v: Width): string {
  const t = wgslTypes(v);
  return `// ${label('max', g)} backward (tiled windows)${t.suffix}
${head(channelTile(g.C / v), 'u.H', 'u.W')}
  let ih = row;
  let iw = col;
  let oh = ih / ${g.sh};
  let ow = iw / ${g.sw};
  // Rows and columns past the last full window (floor mode) belong to no window.
  let inside = oh < u.OH && ow < u.OW;
  let o = n * u32(u.OH * u.OW) * u.C + c + u32(min(oh, u.OH - 1) * u.OW + min(ow, u.OW - 1)) * u.C;
  let hit = ${t.hit('inside', 'idx[o]', 'ih * u.W + iw')};
  dx[((n * u32(u.H) + u32(ih)) * u32(u.W) + u32(iw)) * u.C + c] = select(${t.f0}, g[u.gOff + o], hit);
}
`;
}

/**
 * Max backward for any other fixed window (ResNet's 3×3/2 stem pool): input i is covered
 * along an axis by at most ⌈k/s⌉ windows, o = ⌊(i + p)/s⌋ − j for j < ⌈k/s⌉, those with
 * o ≥ 0, o < O and o·s − p + k > i. The candidates are unrolled with constant bounds and
 * each read is clamped and selected, so no lane runs a loop of its own length (lavapipe
 * masks a divergent loop's every iteration; the looped kernel took ~3× as long).
 */
function fixedMaxBackwardCode(g: PoolGeometry, v: Width): string {
  const t = wgslTypes(v);
  const nh = Math.ceil(g.kh / g.sh);
  const nw = Math.ceil(g.kw / g.sw);
  let body = '';
  for (let j = 0; j < nh; j++) {
    body += `  let oh${j} = (ih + ${g.ph}) / ${g.sh} - ${j};\n  let vh${j} = oh${j} >= 0 && oh${j} < u.OH && oh${j} * ${g.sh} + ${g.kh - g.ph} > ih;\n`;
  }
  for (let j = 0; j < nw; j++) {
    body += `  let ow${j} = (iw + ${g.pw}) / ${g.sw} - ${j};\n  let vw${j} = ow${j} >= 0 && ow${j} < u.OW && ow${j} * ${g.sw} + ${g.kw - g.pw} > iw;\n`;
  }
  // Descending j is ascending o: gradients add up in output order, as in the looped kernel.
  for (let a = nh - 1; a >= 0; a--) {
    for (let b = nw - 1; b >= 0; b--) {
      body += `  {
    let ok = vh${a} && vw${b};
    let o = obase + u32(clamp(oh${a}, 0, u.OH - 1) * u.OW + clamp(ow${b}, 0, u.OW - 1)) * u.C;
    acc = acc + select(${t.f0}, g[u.gOff + o], ${t.hit('ok', 'idx[o]', 'me')});
  }\n`;
    }
  }
  return `// ${label('max', g)} backward (unrolled windows)${t.suffix}
${head(channelTile(g.C / v), 'u.H', 'u.W')}
  let ih = row;
  let iw = col;
  let me = ih * u.W + iw;
  let obase = n * u32(u.OH * u.OW) * u.C + c;
  var acc = ${t.f0};
${body}  dx[((n * u32(u.H) + u32(ih)) * u32(u.W) + u32(iw)) * u.C + c] = acc;
}
`;
}

/**
 * Dispatches over (channel tiles, column blocks, N·rows), in slabs when N·rows exceeds the
 * grid limit. C and the offsets go to the kernel in units of the width v.
 */
function launch(kernel: PoolKernel, buffers: Record<string, GPUBuffer>, g: PoolGeometry, v: Width, rows: number, cols: number, xOff: number, gOff: number): void {
  const C = g.C / v;
  const ct = channelTile(C);
  const gx = Math.ceil(C / ct);
  const gy = Math.ceil(cols / (LANES / ct));
  const maxDim = gpu().limits.maxComputeWorkgroupsPerDimension;
  if (gy > maxDim) throw new Error(`pool2d: ${cols} columns exceed the dispatch limit`);
  const total = g.N * rows;
  for (let z0 = 0; z0 < total; z0 += maxDim) {
    const uniforms = { N: g.N, H: g.H, W: g.W, C, OH: g.OH, OW: g.OW, zBase: z0, gOff: gOff / v, xOff: xOff / v };
    run(kernel, buffers, uniforms, [gx, gy, Math.min(maxDim, total - z0)]);
  }
}

/** Pools dense NHWC x (at element offset xOff) into dense y [N, OH, OW, C]; max also fills idx (i32). */
export function runPoolForward(kind: PoolKind, g: PoolGeometry, x: GPUBuffer, xOff: number, y: GPUBuffer, idx: GPUBuffer | null): void {
  const v = widthFor(g.C, xOff);
  const t = wgslTypes(v);
  const kernel = defineKernel({
    name: `${label(kind, g)}_fwd${t.suffix}`,
    uniforms: UNIFORMS,
    inputs: { x: `array<${t.f}>` },
    outputs: kind === 'max' ? { y: `array<${t.f}>`, idx: `array<${t.i}>` } : { y: `array<${t.f}>` },
    workgroupSize: LANES,
    body: forwardCode(kind, g, v),
  });
  launch(kernel, kind === 'max' ? { x, y, idx: idx! } : { x, y }, g, v, g.OH, g.OW, xOff, 0);
}

/** Gradient of the input (dense [N, H, W, C]) from dense-at-offset g [N, OH, OW, C]. */
export function runPoolBackward(kind: PoolKind, g: PoolGeometry, grad: GPUBuffer, gOff: number, idx: GPUBuffer | null, dx: GPUBuffer): void {
  const v = widthFor(g.C, gOff);
  const t = wgslTypes(v);
  const kernel = defineKernel({
    name: `${label(kind, g)}_bwd${t.suffix}`,
    uniforms: UNIFORMS,
    inputs: kind === 'max' ? { g: `array<${t.f}>`, idx: `array<${t.i}>` } : { g: `array<${t.f}>` },
    outputs: { dx: `array<${t.f}>` },
    workgroupSize: LANES,
    body: backwardCode(kind, g, v),
  });
  launch(kernel, kind === 'max' ? { g: grad, idx: idx!, dx } : { g: grad, dx }, g, v, g.H, g.W, 0, gOff);
}
