/**
 * Reductions over any set of axes: sum, max, min, argmax, argmin (and mean via
 * a scale in the epilogue). The input view is split into kept and reduced
 * dimensions (each merged where contiguous; ranks baked, sizes in uniforms).
 * Variants:
 *  - thread: one thread per output, looping over the reduced elements (many outputs, short rows)
 *  - group:  a 64-thread workgroup per output (or per chunk of one) with a tree in
 *            workgroup memory (long rows)
 * Few outputs with very long rows (a full sum of a big tensor) would leave all
 * but a few workgroups idle and give each thread a long sequential — slow and less
 * accurate — sum; such rows are split into chunks reduced in parallel into a small
 * partial buffer, then reduced again. Arg-reductions carry the winning index along
 * in a second partial buffer.
 * The starting value (e.g. −∞ for max) travels as bits in the uniforms: WGSL has no
 * literal for infinity, and a finite "lowest" would turn max of −∞ into −3.4e38.
 * NaN propagates as in PyTorch: an f32 max/min over a NaN is NaN, and argmax/argmin give
 * the first NaN's index (NaN is tested on the bits, see wgsl-float.ts; WGSL's max/min may
 * drop it). A step is a compare and a select either way.
 */
import type { DType } from '../dtype.js';
import { acquireBuffer, releaseBuffer } from '../runtime/pool.js';
import { defineKernel, run } from './define.js';
import { FLAT_INDEX, MAX_RANK, dimRef, grid1d } from './grid.js';
import { isNanWgsl } from './wgsl-float.js';

export type ReduceKind = 'sum' | 'max' | 'min' | 'argmax' | 'argmin';

const GROUP = 64;
const THREAD_WG = 256;
/** Chunking: each chunk at least this long, and aim for this many workgroups in total. */
const CHUNK_MIN = 4096;
const TARGET_GROUPS = 256;

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

/** Bits of the starting value (the identity of the reduction) for dtype t. */
function initBits(kind: ReduceKind, t: DType): number {
  const low = kind === 'max' || kind === 'argmax';
  if (kind === 'sum') return 0;
  if (t === 'f32') return low ? 0xff800000 : 0x7f800000; // ∓∞
  if (t === 'i32') return low ? 0x80000000 : 0x7fffffff;
  return low ? 0 : 0xffffffff;
}

function steps(kind: ReduceKind, t: DType): { step: string; merge: string; isArg: boolean } {
  const f = t === 'f32';
  switch (kind) {
    case 'sum':
      return { step: 'acc = acc + v;', merge: 'acc = acc + o;', isArg: false };
    case 'max':
    case 'min': {
      const fn = kind;
      const cmp = kind === 'max' ? '>' : '<';
      // Once acc is NaN no comparison is true, so it stays NaN.
      const take = (e: string) => (f ? `select(acc, ${e}, ${e} ${cmp} acc || ${isNanWgsl(e)})` : `${fn}(acc, ${e})`);
      return { step: `acc = ${take('v')};`, merge: `acc = ${take('o')};`, isArg: false };
    }
    case 'argmax':
    case 'argmin': {
      const better = kind === 'argmax' ? '>' : '<';
      // First occurrence wins on ties, like PyTorch; a NaN beats any number, and the first NaN wins.
      const take = (e: string, ei: string) =>
        f
          ? `let en = ${isNanWgsl(e)}; let an = ${isNanWgsl('acc')};
    if ((!an && (en || ${e} ${better} acc || (${e} == acc && ${ei} < best))) || (an && en && ${ei} < best)) { acc = ${e}; best = ${ei}; }`
          : `if (${e} ${better} acc || (${e} == acc && ${ei} < best)) { acc = ${e}; best = ${ei}; }`;
      return { step: take('v', 'ri'), merge: take('o', 'ob'), isArg: true };
    }
  }
}

interface Variant {
  kind: ReduceKind;
  t: DType;
  keptRank: number;
  redRank: number;
  group: boolean;
  /** Writes raw partials (value, and index for arg kinds) per workgroup instead of results. */
  partial: boolean;
  /** Arg kinds, second pass: each element's index comes from a u32 buffer (the partial indices). */
  indexed: boolean;
}

function define(v: Variant) {
  const o = steps(v.kind, v.t);
  const t = v.t;
  const outType = o.isArg && !v.partial ? 'i32' : t;
  return defineKernel({
    name: `reduce_${v.kind}`,
    uniforms: {
      nOut: 'u32', nRed: 'u32', offset: 'u32', scale: 'f32', init: 'u32', nChunks: 'u32', chunkLen: 'u32',
      keptShape: 'dims', keptStrides: 'dims', redShape: 'dims', redStrides: 'dims',
    },
    inputs: v.indexed ? { x: `array<${t}>`, xi: 'array<u32>' } : { x: `array<${t}>` },
    outputs: v.partial && o.isArg ? { out: `array<${outType}>`, outIdx: 'array<u32>' } : { out: `array<${outType}>` },
    workgroupSize: v.group ? GROUP : THREAD_WG,
    body: body(v, o),
  });
}

function body(v: Variant, o: ReturnType<typeof steps>): string {
  const t = v.t;
  const header = `// reduce_${v.kind} (${v.group ? 'group' : 'thread'}${v.partial ? ', partial' : ''}${v.indexed ? ', indexed' : ''}, kept rank ${v.keptRank}, reduced rank ${v.redRank})`;
  const result = o.isArg ? 'i32(best)' : t === 'f32' ? 'acc * u.scale' : 'acc';
  const loop = (start: string, end: string, stride: string) => `  for (var r = ${start}; r < ${end}; r += ${stride}) {
    var off = base;
${offsetCode('red', 'r', 'off', v.redRank)}    let v = x[off];
    let ri = ${v.indexed ? 'xi[off]' : 'r'};
    ${o.step}
  }
`;
  if (!v.group) {
    return `${header}
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let oi = ${FLAT_INDEX};
  if (oi >= u.nOut) { return; }
  var base = u.offset;
${offsetCode('kept', 'oi', 'base', v.keptRank)}  var acc = bitcast<${t}>(u.init);
  var best = 0u;
${loop('0u', 'u.nRed', '1u')}  out[oi] = ${result};
}
`;
  }
  const finish = v.partial
    ? `out[w] = acc;${o.isArg ? ' outIdx[w] = best;' : ''}`
    : `out[oi] = ${result};`;
  return `${header}
var<workgroup> sAcc: array<${t}, WG>;
var<workgroup> sIdx: array<u32, WG>;
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let w = wid.y * nwg.x + wid.x;
  if (w >= u.nOut * u.nChunks) { return; }
  let oi = w / u.nChunks;
  let chunkStart = (w % u.nChunks) * u.chunkLen;
  let chunkEnd = min(chunkStart + u.chunkLen, u.nRed);
  var base = u.offset;
${offsetCode('kept', 'oi', 'base', v.keptRank)}  var acc = bitcast<${t}>(u.init);
  var best = 0u;
${loop('chunkStart + lid.x', 'chunkEnd', 'WG')}  sAcc[lid.x] = acc;
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

interface Pass {
  kind: ReduceKind;
  t: DType;
  x: GPUBuffer;
  xIdx: GPUBuffer | null;
  offset: number;
  kept: Dims;
  red: Dims;
  out: GPUBuffer;
  outIdx: GPUBuffer | null;
  scale: number;
  group: boolean;
  nChunks: number;
}

function encodePass(p: Pass): void {
  const nOut = p.kept.shape.reduce((a, b) => a * b, 1);
  const nRed = p.red.shape.reduce((a, b) => a * b, 1);
  const partial = p.nChunks > 1;
  const variant: Variant = {
    kind: p.kind,
    t: p.t,
    keptRank: p.kept.shape.length,
    redRank: p.red.shape.length,
    group: p.group,
    partial,
    indexed: p.xIdx !== null,
  };
  const uniforms = {
    nOut,
    nRed,
    offset: p.offset,
    scale: p.scale,
    init: initBits(p.kind, p.t),
    nChunks: p.nChunks,
    chunkLen: Math.ceil(nRed / p.nChunks),
    keptShape: p.kept.shape,
    keptStrides: p.kept.strides,
    redShape: p.red.shape,
    redStrides: p.red.strides,
  };
  // Buffers the variant does not declare are not bound.
  const buffers = { x: p.x, xi: p.xIdx ?? p.x, out: p.out, outIdx: p.outIdx ?? p.out };
  run(define(variant), buffers, uniforms, p.group ? grid1d(nOut * p.nChunks, 1) : grid1d(nOut, THREAD_WG));
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
  const isArg = kind.startsWith('arg');
  const kept = mergeDims(keptShape, keptStrides);
  // Arg indices count along the original reduced dims, so those are not merged.
  const red = isArg
    ? { shape: redShape.length ? redShape : [1], strides: redStrides.length ? redStrides : [0] }
    : mergeDims(redShape, redStrides);
  if (kept.shape.length > MAX_RANK || red.shape.length > MAX_RANK) throw new Error(`internal: reduce of rank > ${MAX_RANK}`);
  const nOut = kept.shape.reduce((a, b) => a * b, 1);
  const nRed = red.shape.reduce((a, b) => a * b, 1);
  const group = nRed >= 512 || (nRed >= 64 && nOut < 2048);
  const nChunks = group && nRed >= 2 * CHUNK_MIN && nOut < TARGET_GROUPS
    ? Math.min(Math.ceil(nRed / CHUNK_MIN), Math.ceil(TARGET_GROUPS / nOut))
    : 1;
  const base = { kind, t: x.dtype, x: x.buffer, xIdx: null, offset: x.offset, kept, red, group };
  if (nChunks === 1) {
    encodePass({ ...base, out, outIdx: null, scale, nChunks: 1 });
    return;
  }
  // Pass 1: one partial per (output, chunk); pass 2 reduces the [nOut, nChunks] partials.
  const partial = acquireBuffer(nOut * nChunks * 4, `reduce_${kind}_partial`);
  const partialIdx = isArg ? acquireBuffer(nOut * nChunks * 4, `reduce_${kind}_partial_idx`) : null;
  encodePass({ ...base, out: partial, outIdx: partialIdx, scale: 1, nChunks });
  encodePass({
    kind,
    t: x.dtype,
    x: partial,
    xIdx: partialIdx,
    offset: 0,
    kept: nOut === 1 ? { shape: [1], strides: [0] } : { shape: [nOut], strides: [nChunks] },
    red: { shape: [nChunks], strides: [1] },
    out,
    outIdx: null,
    scale,
    group: nChunks >= 64,
    nChunks: 1,
  });
  // Safe to recycle now: later users of these buffers are encoded after these passes.
  releaseBuffer(partial);
  if (partialIdx) releaseBuffer(partialIdx);
}
