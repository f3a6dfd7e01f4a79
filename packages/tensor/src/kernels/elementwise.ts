/**
 * Elementwise kernels: one generator for every unary, binary and ternary map.
 * Variants:
 *  - dense4:  every operand dense, the count and every offset a multiple of 4: each
 *             thread loads and stores vec4s and evaluates the expression once per
 *             component (memory-bound maps run ~3× faster on lavapipe than with
 *             scalar accesses, which it executes one lane at a time)
 *  - dense:   every input is dense with the output's shape (offsets allowed): out[i] = f(in0[o0+i], …)
 *  - strided: any views and NumPy broadcasting; rank (≤ 8, after merging contiguous
 *             dimensions) is baked into the code, shapes and strides travel in uniforms.
 * The map is a WGSL expression over x0…x3 (the inputs), p0, p1 (parameters, f32 unless
 * the spec says otherwise: integer parameters travel as exact integer words) and
 * i (the flat, row-major index of the output element). It may call the WGSL functions of
 * HELPERS (e.g. powf); each one the expression names is emitted into the shader.
 */
import type { DType } from '../dtype.js';
import { TesseraError, fmtShape } from '../runtime/errors.js';
import { type UniformType, type UniformValue, defineKernel, run } from './define.js';
import { FLAT_INDEX, MAX_RANK, dimRef, grid1d } from './grid.js';
import { EXPF_WGSL, LOGF_WGSL, POWF_SCALAR_WGSL, POWF_WGSL } from './wgsl-float.js';

/** WGSL functions a map expression may call, by name, with the ones each calls itself. */
const HELPERS: Record<string, { code: string; needs: string[] }> = {
  expf: { code: EXPF_WGSL, needs: [] },
  logf: { code: LOGF_WGSL, needs: [] },
  powf: { code: POWF_WGSL, needs: [] },
  powfScalar: { code: POWF_SCALAR_WGSL, needs: ['powf'] },
};

/** The helper functions `expr` calls (and theirs), each once. */
function helpersFor(expr: string): string {
  const names = new Set<string>();
  const add = (name: string) => {
    if (names.has(name)) return;
    HELPERS[name]!.needs.forEach(add);
    names.add(name);
  };
  for (const name of Object.keys(HELPERS)) if (new RegExp(`\\b${name}\\(`).test(expr)) add(name);
  return [...names].map((n) => HELPERS[n]!.code).join('');
}

export interface MapOperand {
  buffer: GPUBuffer;
  dtype: DType;
  offset: number;
  /** Strides against the output's shape (0 on broadcast dimensions). */
  strides: readonly number[];
}

export interface MapSpec {
  /** Kernel name, for labels and error messages. */
  name: string;
  /** WGSL expression of x0…x3, p0, p1 and i. */
  expr: string;
  outType: DType;
  /** Type of p0/p1 (default f32). */
  paramType?: DType;
}

/** Inputs one map kernel can take (the offsets travel in one vec4). */
export const MAX_MAP_INPUTS = 4;

const WG = 256;

/** Uniforms every variant starts with: count, parameters (of the spec's type), offsets. */
const headUniforms = (pt: DType): Record<string, UniformType> => ({ n: 'u32', p0: pt, p1: pt, outOff: 'u32', off: 'vec4<u32>' });

/** The inputs in0…in3 with element type `t(k)`. */
const inputDecls = (types: DType[], wrap: (t: DType) => string): Record<string, string> =>
  Object.fromEntries(types.map((t, k) => [`in${k}`, `array<${wrap(t)}>`]));

/** The dense4 variant: 4 consecutive elements per thread through vec4 loads and one vec4 store. */
function dense4Kernel(spec: MapSpec, types: DType[]) {
  const pt = spec.paramType ?? 'f32';
  const loads = types.map((_, k) => `  let v${k} = in${k}[(u.off[${k}] >> 2u) + q];`).join('\n');
  const lanes = [0, 1, 2, 3]
    .map((j) => `  { let i = 4u * q + ${j}u;${types.map((_, k) => ` let x${k} = v${k}[${j}];`).join('')} r[${j}] = ${spec.outType}(${spec.expr}); }`)
    .join('\n');
  return defineKernel({
    name: spec.name,
    uniforms: headUniforms(pt),
    inputs: inputDecls(types, (t) => `vec4<${t}>`),
    outputs: { out: `array<vec4<${spec.outType}>>` },
    workgroupSize: WG,
    body: `// ${spec.name} (dense4)
${helpersFor(spec.expr)}
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let q = ${FLAT_INDEX};
  if (q >= u.n / 4u) { return; }
  let p0 = u.p0; let p1 = u.p1;
${loads}
  var r: vec4<${spec.outType}>;
${lanes}
  out[q] = r;
}
`,
  });
}

function mapKernel(spec: MapSpec, types: DType[], rank: number, stridedOut: boolean) {
  const n = types.length;
  const strided = rank > 0;
  const uniforms = { ...headUniforms(spec.paramType ?? 'f32'), shape: 'dims' } as Record<string, UniformType>;
  if (strided) for (const f of [...types.map((_, k) => `st${k}`), ...(stridedOut ? ['stOut'] : [])]) uniforms[f] = 'dims';
  let index = '';
  if (strided) {
    index += `  var rem = i;\n`;
    index += stridedOut ? `  var oo = u.outOff;\n` : `  let oo = i;\n`;
    for (let k = 0; k < n; k++) index += `  var o${k} = u.off[${k}];\n`;
    for (let d = rank - 1; d >= 0; d--) {
      index += `  { let c = rem % ${dimRef('u.shape', d)}; rem = rem / ${dimRef('u.shape', d)};\n`;
      for (let k = 0; k < n; k++) index += `    o${k} += c * ${dimRef(`u.st${k}`, d)};\n`;
      if (stridedOut) index += `    oo += c * ${dimRef('u.stOut', d)};\n`;
      index += `  }\n`;
    }
  } else {
    index += `  let oo = i;\n`;
    for (let k = 0; k < n; k++) index += `  let o${k} = u.off[${k}] + i;\n`;
  }
  const loads = types.map((_, k) => `  let x${k} = in${k}[o${k}];`).join('\n');
  return defineKernel({
    name: spec.name,
    uniforms,
    inputs: inputDecls(types, (t) => t),
    outputs: { out: `array<${spec.outType}>` },
    workgroupSize: WG,
    body: `// ${spec.name} (${strided ? `strided rank ${rank}` : 'dense'})
${helpersFor(spec.expr)}
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = ${FLAT_INDEX};
  if (i >= u.n) { return; }
  let p0 = u.p0; let p1 = u.p1;
${index}${loads}
  out[oo] = ${spec.outType}(${spec.expr});
}
`,
  });
}

function isDense(op: MapOperand, shape: readonly number[]): boolean {
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] !== 1 && op.strides[d] !== acc) return false;
    acc *= shape[d]!;
  }
  return true;
}

/** Merges dimensions that are contiguous in every operand, to lower the baked rank. */
function merge(shape: readonly number[], operands: MapOperand[]): { shape: number[]; strides: number[][] } {
  const outShape: number[] = [];
  const strides: number[][] = operands.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    const size = shape[d]!;
    if (size === 1) continue;
    const last = outShape.length - 1;
    if (last >= 0 && operands.every((o, k) => strides[k]![last] === o.strides[d]! * size)) {
      outShape[last] *= size;
      operands.forEach((o, k) => (strides[k]![last] = o.strides[d]!));
    } else {
      outShape.push(size);
      operands.forEach((o, k) => strides[k]!.push(o.strides[d]!));
    }
  }
  return { shape: outShape, strides };
}

/**
 * Dispatches out = expr(inputs) elementwise over `shape`. `out` is a dense buffer,
 * or a strided view of one (for writes into slices: concat, slice backward).
 */
export function runMap(
  spec: MapSpec,
  inputs: MapOperand[],
  shape: readonly number[],
  out: GPUBuffer | { buffer: GPUBuffer; offset: number; strides: readonly number[] },
  params: [number, number] = [0, 0],
): void {
  let n = 1;
  for (const d of shape) n *= d;
  if (inputs.length > MAX_MAP_INPUTS) throw new Error(`internal: ${spec.name} has more than ${MAX_MAP_INPUTS} inputs`);
  const outView = 'strides' in out ? { ...out, dtype: spec.outType } : null;
  const stridedOut = outView !== null && !(outView.offset === 0 && isDense(outView, shape));
  const dense = !stridedOut && inputs.every((o) => isDense(o, shape));
  let rank = 0;
  let merged: { shape: number[]; strides: number[][] } | null = null;
  if (!dense) {
    merged = merge(shape, stridedOut ? [...inputs, outView!] : inputs);
    rank = Math.max(1, merged.shape.length);
    if (rank > MAX_RANK) {
      throw new TesseraError(`${spec.name}: views of shape ${fmtShape(shape)} need ${rank} strided dimensions; at most ${MAX_RANK} are supported`);
    }
  }
  const dense4 = dense && n % 4 === 0 && (outView?.offset ?? 0) === 0 && inputs.every((o) => o.offset % 4 === 0);
  const types = inputs.map((o) => o.dtype);
  const kernel = dense4 ? dense4Kernel(spec, types) : mapKernel(spec, types, rank, stridedOut);
  const uniforms: Record<string, UniformValue> = {
    n,
    p0: params[0],
    p1: params[1],
    outOff: outView?.offset ?? 0,
    off: inputs.map((o) => o.offset),
  };
  const buffers: Record<string, GPUBuffer> = { out: outView ? outView.buffer : (out as GPUBuffer) };
  inputs.forEach((o, k) => (buffers[`in${k}`] = o.buffer));
  if (merged) {
    uniforms.shape = merged.shape.length ? merged.shape : [1];
    // Strides of the inputs, then the output's (when strided): st0…, stOut.
    merged.strides.forEach((s, k) => (uniforms[k < inputs.length ? `st${k}` : 'stOut'] = s.length ? s : [0]));
  }
  run(kernel, buffers, uniforms, grid1d(dense4 ? n / 4 : n, WG));
}
