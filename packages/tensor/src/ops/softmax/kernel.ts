/**
 * Fused row kernels for softmax and log-softmax along one axis, and their
 * backwards. A "row" is the set of elements along the axis (any strides: the axis
 * need not be last or contiguous); every other coordinate picks a row.
 * Forward, numerically stable: m = max(x), s = Σ exp(x − m), then
 *   softmax = exp(x − m) / s,  logSoftmax = x − m − log(s).
 * Backward from the output y and its gradient g:
 *   softmax:    gx = y · (g − Σ g·y)
 *   logSoftmax: gx = g − exp(y) · Σ g
 * NaN and ±Inf as PyTorch: a NaN, or +Inf (Inf − Inf), makes the row NaN; expf/logf keep
 * NaN on adapters whose exp/log do not (wgsl-float.ts). The max pass may drop a NaN: the
 * exp pass brings it back.
 * Variants: thread (one thread loops over a short row) and group (a 64-thread
 * workgroup per row, tree reductions in workgroup memory) for long rows or few rows.
 */
import { type BufferView, type UniformValue, defineKernel, run } from '../../kernels/define.js';
import { FLAT_INDEX, MAX_RANK, dimRef, grid1d } from '../../kernels/grid.js';
import { EXPF_WGSL, LOGF_WGSL } from '../../kernels/wgsl-float.js';

export type SoftmaxKind = 'softmax' | 'logSoftmax';

const GROUP = 64;
const THREAD_WG = 64;

export interface RowOperand extends BufferView {
  /** Strides over the full shape (the output's are its dense strides). */
  strides: readonly number[];
}

/** Decomposes the row index over the kept dimensions into one base offset per operand. */
function rowBases(rank: number, operands: number): string {
  let s = `  var rem = row;\n`;
  for (let k = 0; k < operands; k++) s += `  var b${k} = u.off[${k}];\n`;
  for (let d = rank - 1; d >= 0; d--) {
    s += `  { let c = rem % ${dimRef('u.kept', d)}; rem = rem / ${dimRef('u.kept', d)};`;
    for (let k = 0; k < operands; k++) s += ` b${k} += c * ${dimRef(`u.st${k}`, d)};`;
    s += ' }\n';
  }
  return s;
}

/**
 * Row-kernel skeleton: operands 0..n-2 are inputs, the last is the output. `passes`
 * are reductions, each a (init, per-element accumulate, combine) triple whose result
 * is bound as r0, r1, …; `write` computes the output element from the loads and results.
 */
interface RowSpec {
  name: string;
  inputs: number;
  passes: { init: string; step: string; combine: 'max' | 'sum' }[];
  write: string;
}

function define(spec: RowSpec, rank: number, group: boolean) {
  const ops = spec.inputs + 1;
  const loads = Array.from({ length: spec.inputs }, (_, k) => `let v${k} = in${k}[b${k} + j * u.ax[${k}]];`).join(' ');
  const strides = Object.fromEntries(Array.from({ length: ops }, (_, k) => [`st${k}`, 'dims' as const]));
  const inputs = Object.fromEntries(Array.from({ length: spec.inputs }, (_, k) => [`in${k}`, 'array<f32>']));
  const outIdx = `b${spec.inputs} + j * u.ax[${spec.inputs}]`;
  let body = '';
  spec.passes.forEach((p, i) => {
    const merge = p.combine === 'max' ? 'max(a, b)' : 'a + b';
    body += `  var acc${i} = ${p.init};\n`;
    if (group) {
      body += `  for (var j = lid.x; j < u.n; j += WG) { ${loads} let a = acc${i}; let b = ${p.step}; acc${i} = ${merge}; }\n`;
      body += `  sh[lid.x] = acc${i};\n  workgroupBarrier();\n`;
      body += `  for (var s = WG / 2u; s > 0u; s = s / 2u) {\n    if (lid.x < s) { let a = sh[lid.x]; let b = sh[lid.x + s]; sh[lid.x] = ${merge}; }\n    workgroupBarrier();\n  }\n`;
      body += `  let r${i} = sh[0];\n  workgroupBarrier();\n`;
    } else {
      body += `  for (var j = 0u; j < u.n; j++) { ${loads} let a = acc${i}; let b = ${p.step}; acc${i} = ${merge}; }\n`;
      body += `  let r${i} = acc${i};\n`;
    }
  });
  const loop = group ? 'for (var j = lid.x; j < u.n; j += WG)' : 'for (var j = 0u; j < u.n; j++)';
  body += `  ${loop} { ${loads} out[${outIdx}] = ${spec.write}; }\n`;
  const rowExpr = group ? 'wid.y * nwg.x + wid.x' : FLAT_INDEX;
  return defineKernel({
    name: spec.name,
    uniforms: { rows: 'u32', n: 'u32', off: 'vec4<u32>', ax: 'vec4<u32>', kept: 'dims', ...strides },
    inputs,
    outputs: { out: 'array<f32>' },
    workgroupSize: group ? GROUP : THREAD_WG,
    body: `// ${spec.name} (${group ? 'group' : 'thread'}, kept rank ${rank})
${group ? 'var<workgroup> sh: array<f32, WG>;' : ''}
${EXPF_WGSL}${LOGF_WGSL}
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let row = ${rowExpr};
  if (row >= u.rows) { return; }
${rowBases(rank, ops)}${body}}
`,
  });
}

const LOWEST = '-3.402823466e38';

const SPECS: Record<string, RowSpec> = {
  softmax: {
    name: 'softmax',
    inputs: 1,
    passes: [
      { init: LOWEST, step: 'v0', combine: 'max' },
      { init: '0.0', step: 'expf(v0 - r0)', combine: 'sum' },
    ],
    write: 'expf(v0 - r0) / r1',
  },
  logSoftmax: {
    name: 'log_softmax',
    inputs: 1,
    passes: [
      { init: LOWEST, step: 'v0', combine: 'max' },
      { init: '0.0', step: 'expf(v0 - r0)', combine: 'sum' },
    ],
    write: 'v0 - r0 - logf(r1)',
  },
  // Backwards: in0 = g, in1 = y.
  softmaxBackward: {
    name: 'softmax_backward',
    inputs: 2,
    passes: [{ init: '0.0', step: 'v0 * v1', combine: 'sum' }],
    write: 'v1 * (v0 - r0)',
  },
  logSoftmaxBackward: {
    name: 'log_softmax_backward',
    inputs: 2,
    passes: [{ init: '0.0', step: 'v0', combine: 'sum' }],
    write: 'v0 - expf(v1) * r0',
  },
};

/**
 * Runs one row kernel over `shape` along `axis`. `inputs` are read with their own
 * strides; `out` is written with `outStrides` (dense for a fresh output).
 */
function runRows(spec: RowSpec, shape: readonly number[], axis: number, inputs: RowOperand[], out: RowOperand): void {
  const ops = [...inputs, out];
  const keptDims = shape.map((_, d) => d).filter((d) => d !== axis && shape[d] !== 1);
  const kept = keptDims.length ? keptDims.map((d) => shape[d]!) : [1];
  if (kept.length > MAX_RANK) throw new Error(`internal: ${spec.name} of rank > ${MAX_RANK}`);
  const rows = kept.reduce((a, b) => a * b, 1);
  const n = shape[axis]!;
  const group = n >= 256 || (n >= 32 && rows < 1024);
  const uniforms: Record<string, UniformValue> = {
    rows,
    n,
    off: ops.map((o) => o.offset),
    ax: ops.map((o) => o.strides[axis]!),
    kept,
  };
  ops.forEach((o, k) => (uniforms[`st${k}`] = keptDims.length ? keptDims.map((d) => o.strides[d]!) : [0]));
  const buffers: Record<string, GPUBuffer> = { out: out.buffer };
  inputs.forEach((o, k) => (buffers[`in${k}`] = o.buffer));
  run(
    define(spec, kept.length, group),
    buffers,
    uniforms,
    group ? grid1d(rows, 1) : grid1d(rows, THREAD_WG),
  );
}

export function runSoftmax(kind: SoftmaxKind, shape: readonly number[], axis: number, x: RowOperand, out: RowOperand): void {
  runRows(SPECS[kind]!, shape, axis, [x], out);
}

/** gx from g (the output's gradient) and y (the forward output). */
export function runSoftmaxBackward(kind: SoftmaxKind, shape: readonly number[], axis: number, g: RowOperand, y: RowOperand, out: RowOperand): void {
  runRows(SPECS[`${kind}Backward`]!, shape, axis, [g, y], out);
}
