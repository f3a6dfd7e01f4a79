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
import type { DType } from '../../dtype.js';
import { defineKernel, run } from '../../kernels/define.js';
import { FLAT_INDEX, MAX_RANK, dimRef, grid1d } from '../../kernels/grid.js';

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

function gatherKernel(xType: DType, iType: DType, rank: number) {
  let index = '';
  for (let d = rank - 1; d >= 0; d--) {
    index += `  { let c = rem % ${dimRef('u.shape', d)}; rem = rem / ${dimRef('u.shape', d)}; ox += c * ${dimRef('u.xSt', d)}; oi += c * ${dimRef('u.iSt', d)}; }\n`;
  }
  return defineKernel({
    name: 'gather',
    uniforms: { n: 'u32', axisSize: 'u32', xAxisStride: 'u32', xOff: 'u32', iOff: 'u32', slot: 'u32', shape: 'dims', xSt: 'dims', iSt: 'dims' },
    inputs: { x: `array<${xType}>`, idx: `array<${iType}>` },
    outputs: { out: `array<${xType}>`, flags: 'array<u32>' },
    workgroupSize: WG,
    body: `// gather (rank ${rank})
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
`,
  });
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
  run(
    gatherKernel(x.dtype, index.dtype, Math.max(rank, 1)),
    { x: x.buffer, idx: index.buffer, out, flags: check.buffer },
    {
      n,
      axisSize: x.shape[axis]!,
      xAxisStride: x.strides[axis]!,
      xOff: x.offset,
      iOff: index.offset,
      slot: check.slot,
      shape: index.shape,
      xSt: x.strides.map((s, d) => (d === axis ? 0 : s)),
      iSt: index.strides,
    },
    grid1d(n, WG),
  );
}

function gatherBackwardKernel(iType: DType, rank: number, axis: number) {
  let index = '';
  for (let d = rank - 1; d >= 0; d--) {
    index += `  { let c = rem % ${dimRef('u.xShape', d)}; rem = rem / ${dimRef('u.xShape', d)};\n`;
    if (d === axis) index += '    ca = c;\n';
    else index += `    if (c >= ${dimRef('u.iShape', d)}) { inside = false; }\n    og += c * ${dimRef('u.gSt', d)}; oi += c * ${dimRef('u.iSt', d)};\n`;
    index += '  }\n';
  }
  return defineKernel({
    name: 'gather_backward',
    uniforms: {
      n: 'u32', m: 'u32', axisSize: 'u32', gAxisStride: 'u32', iAxisStride: 'u32', gOff: 'u32', iOff: 'u32', slot: 'u32',
      xShape: 'dims', iShape: 'dims', gSt: 'dims', iSt: 'dims',
    },
    inputs: { g: 'array<f32>', idx: `array<${iType}>` },
    outputs: { out: 'array<f32>', flags: 'array<u32>' },
    workgroupSize: WG,
    body: `// gather_backward (rank ${rank}, axis ${axis})
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
`,
  });
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
  run(
    gatherBackwardKernel(index.dtype, Math.max(rank, 1), axis),
    { g: g.buffer, idx: index.buffer, out, flags: check.buffer },
    {
      n,
      m: index.shape[axis]!,
      axisSize: xShape[axis]!,
      gAxisStride: g.strides[axis]!,
      iAxisStride: index.strides[axis]!,
      gOff: g.offset,
      iOff: index.offset,
      slot: check.slot,
      xShape,
      iShape: index.shape,
      gSt: g.strides,
      iSt: index.strides,
    },
    grid1d(n, WG),
  );
}

function oneHotKernel(lType: DType) {
  return defineKernel({
    name: 'one_hot',
    uniforms: { n: 'u32', classes: 'u32', off: 'u32', slot: 'u32' },
    inputs: { labels: `array<${lType}>` },
    outputs: { out: 'array<f32>', flags: 'array<u32>' },
    workgroupSize: WG,
    body: `// one_hot
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = ${FLAT_INDEX};
  if (i >= u.n) { return; }
  let c = i % u.classes;
  let l = labels[u.off + i / u.classes];
  let bad = ${lType === 'i32' ? 'l < 0 || l >= i32(u.classes)' : 'l >= u.classes'};
  if (bad && c == 0u) { flags[2u * u.slot] = 1u; flags[2u * u.slot + 1u] = bitcast<u32>(l); }
  out[i] = select(0.0, 1.0, ${lType === 'i32' ? 'l == i32(c)' : 'l == c'});
}
`,
  });
}

/** out[r, c] = 1 where labels[r] == c (labels dense from `offset`); bad labels give a zero row and a flag. */
export function runOneHot(labels: { buffer: GPUBuffer; dtype: DType; offset: number }, rows: number, classes: number, out: GPUBuffer, check: CheckRef): void {
  run(
    oneHotKernel(labels.dtype),
    { labels: labels.buffer, out, flags: check.buffer },
    { n: rows * classes, classes, off: labels.offset, slot: check.slot },
    grid1d(rows * classes, WG),
  );
}
