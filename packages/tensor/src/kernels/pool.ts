/**
 * 2-D pooling over dense NHWC activations: max and average, with fixed windows
 * (kernel/stride/padding) or PyTorch's adaptive bins (start = ⌊i·H/out⌋,
 * end = ⌈(i+1)·H/out⌉). One generator, four forward variants and their backwards.
 *
 * Forward: one thread per output element (channel fastest, so neighbouring threads
 * read neighbouring addresses); max also writes the argmax as a flat index h·W + w
 * within the input plane, like PyTorch. Backward gathers instead of scattering: one
 * thread per input element loops over the outputs whose window covers it (max: those
 * whose saved argmax is this element), so overlapping windows need no atomics and
 * the result is deterministic.
 */
import { getKernel } from '../runtime/kernel.js';
import { dispatch } from '../runtime/queue.js';
import { FLAT_INDEX, grid1d, uniformWords } from './grid.js';

const WG = 256;

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

const UNIFORMS = `struct U {
  N: u32, H: i32, W: i32, C: u32,
  OH: i32, OW: i32, kh: i32, kw: i32,
  sh: i32, sw: i32, ph: i32, pw: i32,
  total: u32, xOff: u32, gOff: u32, pad0: u32,
}
@group(0) @binding(0) var<uniform> u: U;`;

/** WGSL: the window of output (o) along one axis: start/end clipped to the input, and the divisor extent. */
function windowFns(g: PoolGeometry): string {
  if (g.adaptive) {
    return `
fn winH(o: i32) -> vec3<i32> { let s = (o * u.H) / u.OH; let e = ((o + 1) * u.H + u.OH - 1) / u.OH; return vec3<i32>(s, e, e - s); }
fn winW(o: i32) -> vec3<i32> { let s = (o * u.W) / u.OW; let e = ((o + 1) * u.W + u.OW - 1) / u.OW; return vec3<i32>(s, e, e - s); }`;
  }
  // PyTorch (count_include_pad): the divisor spans the window clipped to the padded input.
  const ext = (s: string, e: string, cs: string, ce: string, lim: string, p: string) =>
    g.countIncludePad ? `min(${e}, ${lim} + ${p}) - ${s}` : `${ce} - ${cs}`;
  return `
fn winH(o: i32) -> vec3<i32> { let s = o * u.sh - u.ph; let e = s + u.kh; let cs = max(s, 0); let ce = min(e, u.H); return vec3<i32>(cs, ce, ${ext('s', 'e', 'cs', 'ce', 'u.H', 'u.ph')}); }
fn winW(o: i32) -> vec3<i32> { let s = o * u.sw - u.pw; let e = s + u.kw; let cs = max(s, 0); let ce = min(e, u.W); return vec3<i32>(cs, ce, ${ext('s', 'e', 'cs', 'ce', 'u.W', 'u.pw')}); }`;
}

/** WGSL: the range [lo, hi] of outputs along one axis whose window may cover input i (checked again exactly). */
function coverFns(g: PoolGeometry): string {
  if (g.adaptive) {
    return `
fn coverH(i: i32) -> vec2<i32> { return vec2<i32>((i * u.OH) / u.H, min(((i + 1) * u.OH + u.H - 1) / u.H - 1, u.OH - 1)); }
fn coverW(i: i32) -> vec2<i32> { return vec2<i32>((i * u.OW) / u.W, min(((i + 1) * u.OW + u.W - 1) / u.W - 1, u.OW - 1)); }`;
  }
  return `
fn coverH(i: i32) -> vec2<i32> { let lo = i + u.ph - u.kh + 1; return vec2<i32>(select((lo + u.sh - 1) / u.sh, 0, lo <= 0), min((i + u.ph) / u.sh, u.OH - 1)); }
fn coverW(i: i32) -> vec2<i32> { let lo = i + u.pw - u.kw + 1; return vec2<i32>(select((lo + u.sw - 1) / u.sw, 0, lo <= 0), min((i + u.pw) / u.sw, u.OW - 1)); }`;
}

function label(kind: PoolKind, g: PoolGeometry): string {
  return `${g.adaptive ? 'adaptive_' : ''}${kind}_pool2d${kind === 'avg' && !g.adaptive && !g.countIncludePad ? '_exclude_pad' : ''}`;
}

function forwardCode(kind: PoolKind, g: PoolGeometry): string {
  const body =
    kind === 'max'
      ? `  var best = -3.402823e38;
  var arg = -1;
  for (var ih = wh.x; ih < wh.y; ih++) {
    for (var iw = ww.x; iw < ww.y; iw++) {
      let v = x[base + u32(ih * u.W + iw) * u.C];
      // NaN propagates (v != v), and the first maximum in scan order wins, like PyTorch.
      if (v > best || v != v || arg < 0) { best = v; arg = ih * u.W + iw; }
    }
  }
  y[i] = best;
  idx[i] = arg;`
      : `  var acc = 0.0;
  for (var ih = wh.x; ih < wh.y; ih++) {
    for (var iw = ww.x; iw < ww.y; iw++) {
      acc = acc + x[base + u32(ih * u.W + iw) * u.C];
    }
  }
  y[i] = acc / f32(wh.z * ww.z);`;
  return `// ${label(kind, g)} forward
${UNIFORMS}
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
${kind === 'max' ? '@group(0) @binding(3) var<storage, read_write> idx: array<i32>;' : ''}
${windowFns(g)}
const WG = ${WG}u;
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = ${FLAT_INDEX};
  if (i >= u.total) { return; }
  let c = i % u.C;
  let p = i / u.C;
  let ow = i32(p % u32(u.OW));
  let q = p / u32(u.OW);
  let oh = i32(q % u32(u.OH));
  let n = q / u32(u.OH);
  let wh = winH(oh);
  let ww = winW(ow);
  let base = u.xOff + n * u32(u.H * u.W) * u.C + c;
${body}
}
`;
}

function backwardCode(kind: PoolKind, g: PoolGeometry): string {
  const inner =
    kind === 'max'
      ? `      let o = obase + u32(oh * u.OW + ow) * u.C;
      if (idx[o] == me) { acc = acc + g[u.gOff + o]; }`
      : `      let wh = winH(oh);
      let ww = winW(ow);
      if (ih >= wh.x && ih < wh.y && iw >= ww.x && iw < ww.y) {
        acc = acc + g[u.gOff + obase + u32(oh * u.OW + ow) * u.C] / f32(wh.z * ww.z);
      }`;
  return `// ${label(kind, g)} backward
${UNIFORMS}
@group(0) @binding(1) var<storage, read> g: array<f32>;
${kind === 'max' ? '@group(0) @binding(2) var<storage, read> idx: array<i32>;\n@group(0) @binding(3) var<storage, read_write> dx: array<f32>;' : '@group(0) @binding(2) var<storage, read_write> dx: array<f32>;'}
${windowFns(g)}
${coverFns(g)}
const WG = ${WG}u;
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = ${FLAT_INDEX};
  if (i >= u.total) { return; }
  let c = i % u.C;
  let p = i / u.C;
  let iw = i32(p % u32(u.W));
  let q = p / u32(u.W);
  let ih = i32(q % u32(u.H));
  let n = q / u32(u.H);
  let me = ih * u.W + iw;
  let obase = n * u32(u.OH * u.OW) * u.C + c;
  let ch = coverH(ih);
  let cw = coverW(iw);
  var acc = 0.0;
  for (var oh = ch.x; oh <= ch.y; oh++) {
    for (var ow = cw.x; ow <= cw.y; ow++) {
${inner}
    }
  }
  dx[i] = acc;
}
`;
}

function words(g: PoolGeometry, total: number, xOff: number, gOff: number): Uint32Array {
  const w = uniformWords(16);
  const vals = [g.N, g.H, g.W, g.C, g.OH, g.OW, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, total, xOff, gOff, 0];
  vals.forEach((v, k) => (w.u32[k] = v));
  return w.u32;
}

/** Pools dense NHWC x (at element offset xOff) into dense y [N, OH, OW, C]; max also fills idx (i32). */
export function runPoolForward(kind: PoolKind, g: PoolGeometry, x: GPUBuffer, xOff: number, y: GPUBuffer, idx: GPUBuffer | null): void {
  const total = g.N * g.OH * g.OW * g.C;
  const kernel = getKernel(`${label(kind, g)}_fwd`, forwardCode(kind, g));
  dispatch(kernel, kind === 'max' ? [x, y, idx!] : [x, y], words(g, total, xOff, 0), grid1d(total, WG));
}

/** Gradient of the input (dense [N, H, W, C]) from dense-at-offset g [N, OH, OW, C]. */
export function runPoolBackward(kind: PoolKind, g: PoolGeometry, grad: GPUBuffer, gOff: number, idx: GPUBuffer | null, dx: GPUBuffer): void {
  const total = g.N * g.H * g.W * g.C;
  const kernel = getKernel(`${label(kind, g)}_bwd`, backwardCode(kind, g));
  dispatch(kernel, kind === 'max' ? [grad, idx!, dx] : [grad, dx], words(g, total, 0, gOff), grid1d(total, WG));
}
