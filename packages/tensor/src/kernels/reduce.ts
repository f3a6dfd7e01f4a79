/**
 * Reductions over any set of axes: sum, max, min, argmax, argmin (and mean via
 * a scale in the epilogue). The input view is split into kept and reduced
 * dimensions (each merged where contiguous; ranks baked, sizes in uniforms).
 * Variants:
 *  - thread: one thread per output, looping over the reduced elements (many outputs, short rows)
 *  - group:  one 64-thread workgroup per output with a tree in workgroup memory (long rows)
 */
import type { DType } from '../dtype.js';
import { getKernel } from '../runtime/kernel.js';
import { dispatch } from '../runtime/queue.js';
import { FLAT_INDEX, MAX_RANK, dimRef, grid1d, packDims, uniformWords } from './grid.js';

export type ReduceKind = 'sum' | 'max' | 'min' | 'argmax' | 'argmin';

const GROUP = 64;

interface Dims {
  shape: number[];
  strides: number[];
}

function mergeDims(shape: number[], strides: number[]): Dims {
  const out: Dims = { shape: [], strides: [] };
  for (let d = 0; d < shape.length; d++) {
    const size = shape[d]!;
    if (size === 1) continue;
    const last = out.shape.length - 1;
    if (last >= 0 && out.strides[last] === strides[d]! * size) {
      out.shape[last] *= size;
      out.strides[last] = strides[d]!;
    } else {
      out.shape.push(size);
      out.strides.push(strides[d]!);
    }
  }
  if (out.shape.length === 0) return { shape: [1], strides: [0] };
  return out;
}

function offsetCode(field: string, idx: string, acc: string, rank: number): string {
  let s = `  { var rem = ${idx};\n`;
  for (let d = rank - 1; d >= 0; d--) {
    s += `    { let c = rem % ${dimRef(`u.${field}Shape`, d)}; rem = rem / ${dimRef(`u.${field}Shape`, d)}; ${acc} += c * ${dimRef(`u.${field}Strides`, d)}; }\n`;
  }
  return s + '  }\n';
}

function ops(kind: ReduceKind, t: DType): { init: string; step: string; merge: string; isArg: boolean } {
  const lowest = t === 'f32' ? '-3.402823e38' : t === 'i32' ? '-2147483647 - 1' : '0u';
  const highest = t === 'f32' ? '3.402823e38' : t === 'i32' ? '2147483647' : '4294967295u';
  switch (kind) {
    case 'sum':
      return { init: `${t}(0)`, step: 'acc = acc + v;', merge: 'acc = acc + o;', isArg: false };
    case 'max':
      return { init: `${t}(${lowest})`, step: 'acc = max(acc, v);', merge: 'acc = max(acc, o);', isArg: false };
    case 'min':
      return { init: `${t}(${highest})`, step: 'acc = min(acc, v);', merge: 'acc = min(acc, o);', isArg: false };
    case 'argmax':
    case 'argmin': {
      const better = kind === 'argmax' ? '>' : '<';
      return {
        init: `${t}(${kind === 'argmax' ? lowest : highest})`,
        // First occurrence wins on ties, like PyTorch.
        step: `if (v ${better} acc || (v == acc && r < best)) { acc = v; best = r; }`,
        merge: `if (o ${better} acc || (o == acc && ob < best)) { acc = o; best = ob; }`,
        isArg: true,
      };
    }
  }
}

function generate(kind: ReduceKind, t: DType, keptRank: number, redRank: number, group: boolean): string {
  const o = ops(kind, t);
  const outType = o.isArg ? 'i32' : t;
  const header = `// reduce_${kind} (${group ? 'group' : 'thread'}, kept rank ${keptRank}, reduced rank ${redRank})
struct U {
  nOut: u32, nRed: u32, offset: u32, scale: f32,
  keptShape: array<vec4<u32>, 2>, keptStrides: array<vec4<u32>, 2>,
  redShape: array<vec4<u32>, 2>, redStrides: array<vec4<u32>, 2>,
}
const WG = ${group ? GROUP : 256}u;
@group(0) @binding(0) var<uniform> u: U;
@group(0) @binding(1) var<storage, read> x: array<${t}>;
@group(0) @binding(2) var<storage, read_write> out: array<${outType}>;
`;
  const finish = o.isArg ? 'out[oi] = i32(best);' : t === 'f32' ? 'out[oi] = acc * u.scale;' : 'out[oi] = acc;';
  const loop = `  for (var r = start; r < u.nRed; r += stride) {
    var off = base;
${offsetCode('red', 'r', 'off', redRank)}    let v = x[off];
    ${o.step}
  }
`;
  if (!group) {
    return `${header}
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let oi = ${FLAT_INDEX};
  if (oi >= u.nOut) { return; }
  var base = u.offset;
${offsetCode('kept', 'oi', 'base', keptRank)}  var acc = ${o.init};
  var best = 0u;
  let start = 0u; let stride = 1u;
${loop}  ${finish}
}
`;
  }
  return `${header}
var<workgroup> sAcc: array<${t}, WG>;
var<workgroup> sIdx: array<u32, WG>;
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let oi = wid.y * nwg.x + wid.x;
  if (oi >= u.nOut) { return; }
  var base = u.offset;
${offsetCode('kept', 'oi', 'base', keptRank)}  var acc = ${o.init};
  var best = 0u;
  let start = lid.x; let stride = WG;
${loop}  sAcc[lid.x] = acc;
  sIdx[lid.x] = best;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (lid.x < s) {
      let o = sAcc[lid.x + s]; let ob = sIdx[lid.x + s];
      acc = sAcc[lid.x]; best = sIdx[lid.x];
      ${o.merge}
      sAcc[lid.x] = acc; sIdx[lid.x] = best;
    }
    workgroupBarrier();
  }
  if (lid.x == 0u) {
    acc = sAcc[0]; best = sIdx[0];
    ${finish}
  }
}
`;
}

export interface ReduceInput {
  buffer: GPUBuffer;
  dtype: DType;
  shape: readonly number[];
  strides: readonly number[];
  offset: number;
}

/**
 * Reduces `x` over `axes` into the dense buffer `out` (kept dimensions in order).
 * `scale` multiplies float results (1/n for mean).
 */
export function runReduce(kind: ReduceKind, x: ReduceInput, axes: readonly number[], out: GPUBuffer, scale = 1): void {
  const keptShape: number[] = [];
  const keptStrides: number[] = [];
  const redShape: number[] = [];
  const redStrides: number[] = [];
  x.shape.forEach((d, i) => {
    if (axes.includes(i)) {
      redShape.push(d);
      redStrides.push(x.strides[i]!);
    } else {
      keptShape.push(d);
      keptStrides.push(x.strides[i]!);
    }
  });
  const kept = mergeDims(keptShape, keptStrides);
  // Argmax indices count along the original reduced dims, so those must not be merged
  // unless they are already laid out in order; a single reduced axis is the common case.
  const red = kind.startsWith('arg') ? { shape: redShape.length ? redShape : [1], strides: redStrides.length ? redStrides : [0] } : mergeDims(redShape, redStrides);
  if (kept.shape.length > MAX_RANK || red.shape.length > MAX_RANK) throw new Error(`reduce: rank > ${MAX_RANK} is not supported`);
  const nOut = kept.shape.reduce((a, b) => a * b, 1);
  const nRed = red.shape.reduce((a, b) => a * b, 1);
  const group = nRed >= 512 || (nRed >= 64 && nOut < 2048);
  const kernel = getKernel(`reduce_${kind}`, generate(kind, x.dtype, kept.shape.length, red.shape.length, group));
  const w = uniformWords(36);
  w.u32[0] = nOut;
  w.u32[1] = nRed;
  w.u32[2] = x.offset;
  w.f32[3] = scale;
  packDims(kept.shape, w.u32, 4);
  packDims(kept.strides, w.u32, 12);
  packDims(red.shape, w.u32, 20);
  packDims(red.strides, w.u32, 28);
  dispatch(kernel, [x.buffer, out], w.u32, group ? grid1d(nOut, 1) : grid1d(nOut, 256));
}
