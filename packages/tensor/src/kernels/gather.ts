/**
 * Index kernels: gather along one axis, its backward, and one-hot encoding.
 * Index values live on the device, so their bounds are checked here: a bad index
 * is clamped into range (never an out-of-bounds read) and recorded in its
 * dispatch's slot of the check buffer (runtime/checks.ts), which the next readback
 * turns into an error.
 *
 * The gather backward is a deterministic "pull": each element of the input gradient
 * loops over the index entries along the axis that could point at it and sums the
 * matching output gradients. No float atomics (WebGPU has none), and the same sum
 * order every run. Its cost is O(x.size · index.shape[axis]), right for
 * label-picking gathers (a handful of entries per row); a very long index along
 * the axis (large embedding lookups) would want a sort-based scatter instead.
 */
import type { DType } from '../dtype.js';
import { getKernel } from '../runtime/kernel.js';
import { dispatch } from '../runtime/queue.js';
import { FLAT_INDEX, MAX_RANK, dimRef, grid1d, packDims, uniformWords } from './grid.js';

export interface StridedRef {
  buffer: GPUBuffer;
  dtype: DType;
  offset: number;
  shape: readonly number[];
  strides: readonly number[];
}

export interface CheckRef {
  buffer: GPUBuffer;
  slot: number;
}

const WG = 256;

/** WGSL that reads index `raw`, clamps it into [0, size) as `j: u32`, and flags bad values. */
function clampIndex(indexType: DType, raw: string, size: string): string {
  const bad = indexType === 'i32' ? `${raw} < 0 || ${raw} >= i32(${size})` : `${raw} >= ${size}`;
  const clamped = indexType === 'i32' ? `u32(clamp(${raw}, 0, i32(${size}) - 1))` : `min(${raw}, ${size} - 1u)`;
  return `let bad = ${bad};
    if (bad) { flags[2u * u.slot] = 1u; flags[2u * u.slot + 1u] = bitcast<u32>(${raw}); }
    let j = ${clamped};`;
}

function gatherCode(xType: DType, iType: DType, rank: number): string {
  let index = '';
  for (let d = rank - 1; d >= 0; d--) {
    index += `  { let c = rem % ${dimRef('u.shape', d)}; rem = rem / ${dimRef('u.shape', d)}; ox += c * ${dimRef('u.xSt', d)}; oi += c * ${dimRef('u.iSt', d)}; }\n`;
  }
  return `// gather (rank ${rank})
struct U {
  n: u32, axisSize: u32, xAxisStride: u32, xOff: u32,
  iOff: u32, slot: u32, pad0: u32, pad1: u32,
  shape: array<vec4<u32>, 2>, xSt: array<vec4<u32>, 2>, iSt: array<vec4<u32>, 2>,
}
const WG = ${WG}u;
@group(0) @binding(0) var<uniform> u: U;
@group(0) @binding(1) var<storage, read> x: array<${xType}>;
@group(0) @binding(2) var<storage, read> idx: array<${iType}>;
@group(0) @binding(3) var<storage, read_write> out: array<${xType}>;
@group(0) @binding(4) var<storage, read_write> flags: array<u32>;
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = ${FLAT_INDEX};
  if (i >= u.n) { return; }
  var rem = i;
  var ox = u.xOff;
  var oi = u.iOff;
${index}  let raw = idx[oi];
  {
    ${clampIndex(iType, 'raw', 'u.axisSize')}
    out[i] = x[ox + j * u.xAxisStride];
  }
}
`;
}

/**
 * out[i] = x[i with coordinate `axis` replaced by index[i]], for i over index's
 * shape (out is dense with that shape). x's other dimensions must be at least as
 * large as index's (checked by the op).
 */
export function runGather(x: StridedRef, index: StridedRef, axis: number, out: GPUBuffer, check: CheckRef): void {
  const rank = index.shape.length;
  if (rank > MAX_RANK) throw new Error(`internal: gather of rank > ${MAX_RANK}`);
  const n = index.shape.reduce((a, b) => a * b, 1);
  const w = uniformWords(32);
  w.u32[0] = n;
  w.u32[1] = x.shape[axis]!;
  w.u32[2] = x.strides[axis]!;
  w.u32[3] = x.offset;
  w.u32[4] = index.offset;
  w.u32[5] = check.slot;
  packDims(index.shape, w.u32, 8);
  packDims(x.strides.map((s, d) => (d === axis ? 0 : s)), w.u32, 16);
  packDims(index.strides, w.u32, 24);
  const kernel = getKernel('gather', gatherCode(x.dtype, index.dtype, Math.max(rank, 1)));
  dispatch(kernel, [x.buffer, index.buffer, out, check.buffer], w.u32, grid1d(n, WG));
}

function gatherBackwardCode(iType: DType, rank: number, axis: number): string {
  let index = '';
  for (let d = rank - 1; d >= 0; d--) {
    index += `  { let c = rem % ${dimRef('u.xShape', d)}; rem = rem / ${dimRef('u.xShape', d)};\n`;
    if (d === axis) index += '    ca = c;\n';
    else index += `    if (c >= ${dimRef('u.iShape', d)}) { inside = false; }\n    og += c * ${dimRef('u.gSt', d)}; oi += c * ${dimRef('u.iSt', d)};\n`;
    index += '  }\n';
  }
  return `// gather_backward (rank ${rank}, axis ${axis})
struct U {
  n: u32, m: u32, axisSize: u32, gAxisStride: u32,
  iAxisStride: u32, gOff: u32, iOff: u32, slot: u32,
  xShape: array<vec4<u32>, 2>, iShape: array<vec4<u32>, 2>,
  gSt: array<vec4<u32>, 2>, iSt: array<vec4<u32>, 2>,
}
const WG = ${WG}u;
@group(0) @binding(0) var<uniform> u: U;
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read> idx: array<${iType}>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<storage, read_write> flags: array<u32>;
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let e = ${FLAT_INDEX};
  if (e >= u.n) { return; }
  var rem = e;
  var og = u.gOff;
  var oi = u.iOff;
  var ca = 0u;
  var inside = true;
${index}  var acc = 0.0;
  if (inside) {
    for (var k = 0u; k < u.m; k++) {
      let raw = idx[oi + k * u.iAxisStride];
      ${clampIndex(iType, 'raw', 'u.axisSize')}
      if (j == ca) { acc += g[og + k * u.gAxisStride]; }
    }
  }
  out[e] = acc;
}
`;
}

/** The gradient of gather: out (dense, x's shape) sums g over the index entries that picked each element. */
export function runGatherBackward(
  xShape: readonly number[],
  g: StridedRef,
  index: StridedRef,
  axis: number,
  out: GPUBuffer,
  check: CheckRef,
): void {
  const rank = xShape.length;
  if (rank > MAX_RANK) throw new Error(`internal: gather of rank > ${MAX_RANK}`);
  const n = xShape.reduce((a, b) => a * b, 1);
  const w = uniformWords(40);
  w.u32[0] = n;
  w.u32[1] = index.shape[axis]!;
  w.u32[2] = xShape[axis]!;
  w.u32[3] = g.strides[axis]!;
  w.u32[4] = index.strides[axis]!;
  w.u32[5] = g.offset;
  w.u32[6] = index.offset;
  w.u32[7] = check.slot;
  packDims(xShape, w.u32, 8);
  packDims(index.shape, w.u32, 16);
  packDims(g.strides, w.u32, 24);
  packDims(index.strides, w.u32, 32);
  const kernel = getKernel('gather_backward', gatherBackwardCode(index.dtype, Math.max(rank, 1), axis));
  dispatch(kernel, [g.buffer, index.buffer, out, check.buffer], w.u32, grid1d(n, WG));
}

function oneHotCode(lType: DType): string {
  return `// one_hot
struct U { n: u32, classes: u32, off: u32, slot: u32 }
const WG = ${WG}u;
@group(0) @binding(0) var<uniform> u: U;
@group(0) @binding(1) var<storage, read> labels: array<${lType}>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<storage, read_write> flags: array<u32>;
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = ${FLAT_INDEX};
  if (i >= u.n) { return; }
  let c = i % u.classes;
  let l = labels[u.off + i / u.classes];
  let bad = ${lType === 'i32' ? 'l < 0 || l >= i32(u.classes)' : 'l >= u.classes'};
  if (bad && c == 0u) { flags[2u * u.slot] = 1u; flags[2u * u.slot + 1u] = bitcast<u32>(l); }
  out[i] = select(0.0, 1.0, ${lType === 'i32' ? 'l == i32(c)' : 'l == c'});
}
`;
}

/** out[r, c] = 1 where labels[r] == c (labels dense from `offset`); bad labels give a zero row and a flag. */
export function runOneHot(labels: { buffer: GPUBuffer; dtype: DType; offset: number }, rows: number, classes: number, out: GPUBuffer, check: CheckRef): void {
  const w = uniformWords(4);
  w.u32[0] = rows * classes;
  w.u32[1] = classes;
  w.u32[2] = labels.offset;
  w.u32[3] = check.slot;
  dispatch(getKernel('one_hot', oneHotCode(labels.dtype)), [labels.buffer, out, check.buffer], w.u32, grid1d(rows * classes, WG));
}
