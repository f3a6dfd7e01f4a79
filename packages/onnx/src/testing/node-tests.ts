/**
 * ONNX's backend node tests (onnx/backend/test/data/node: one directory per case, a
 * model.onnx with one operator and test_data_set_N with input_N.pb, output_N.pb) run through the
 * importer. A case belongs to an operator the importer supports when its graph is that one
 * operator (Constant aside); `_expanded` cases (the operator spelled out in others) are not
 * cases of it. Inputs after the first are given as initializers — where a classifier has its
 * weights — so that a convolution's W, a Clip's bounds or an Add's second operand are
 * constants, as the importer requires of weights. Outputs are compared as ONNX's backend test
 * runner does: |got − expected| ≤ atol + rtol·|expected| with rtol 1e-3, atol 1e-7.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tensor } from '@tessera/tensor';
import { parseOnnx, type ParsedGraph } from '../import/graph.js';
import { OnnxGraphModule, UnsupportedOnnxError } from '../import/graph-module.js';
import { SUPPORTED_OPS, toNCHW } from '../import/ops.js';
import { decodeTensor, DataType } from '../proto/onnx.js';
import { readTensor, type ConstTensor } from '../import/tensor-data.js';

export const RTOL = 1e-3;
export const ATOL = 1e-7;

export type CaseResult =
  | { name: string; op: string; status: 'passed' }
  | { name: string; op: string; status: 'failed'; reason: string }
  | { name: string; op: string; status: 'unsupported'; reason: string };

/** Where the suite is: $TESSERA_ONNX_NODE_TESTS, Debian's libonnx-testdata, or python3-onnx's copy. */
export function findNodeTests(): string | null {
  const candidates = [
    process.env['TESSERA_ONNX_NODE_TESTS'],
    '/usr/share/libonnx-testdata/data/node',
    '/usr/lib/python3/dist-packages/onnx/backend/test/data/node',
  ];
  return candidates.find((d): d is string => !!d && existsSync(d)) ?? null;
}

/** The cases of supported operators: [directory name, operator]. */
export function listCases(root: string): [string, string][] {
  const out: [string, string][] = [];
  for (const name of readdirSync(root).sort()) {
    const file = join(root, name, 'model.onnx');
    if (!existsSync(file)) continue;
    let g: ParsedGraph;
    try {
      g = parseOnnx(readFileSync(file), file);
    } catch {
      continue;
    }
    const ops = new Set(g.nodes.map((n) => n.op).filter((op) => op !== 'Constant'));
    const [op] = ops.size === 1 ? [...ops] : g.nodes.length === 1 ? [g.nodes[0]!.op] : [];
    if (op && SUPPORTED_OPS.includes(op)) out.push([name, op]);
  }
  return out;
}

function readPb(file: string): ConstTensor & { dataType: number } {
  const t = decodeTensor(readFileSync(file));
  return { ...readTensor(t, file), dataType: t.dataType ?? 0 };
}

function mismatch(got: Float32Array, want: Float32Array): string | null {
  if (got.length !== want.length) return `${got.length} values, expected ${want.length}`;
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    const g = got[i]!;
    if (Number.isNaN(w) ? !Number.isNaN(g) : !(Math.abs(g - w) <= ATOL + RTOL * Math.abs(w))) return `value ${i}: ${g}, expected ${w}`;
  }
  return null;
}

/** Runs one case (every data set in it). */
export async function runCase(root: string, name: string, op: string): Promise<CaseResult> {
  const dir = join(root, name);
  const g = parseOnnx(readFileSync(join(dir, 'model.onnx')), name);
  const sets = readdirSync(dir).filter((d) => d.startsWith('test_data_set_')).sort();
  for (const set of sets) {
    let inputs: { name: string; value: ReturnType<typeof readPb> }[];
    try {
      inputs = g.inputs.map((inp, i) => ({ name: inp.name, value: readPb(join(dir, set, `input_${i}.pb`)) }));
    } catch {
      return { name, op, status: 'unsupported', reason: 'inputs that are not tensors (sequences, optionals)' };
    }
    // Float data, except a Reshape's shape (int64, as ONNX defines it).
    const floatData = inputs.every((v, i) => v.value.dataType === DataType.FLOAT || (op === 'Reshape' && i === 1));
    if (!floatData) return { name, op, status: 'unsupported', reason: 'non-float data (Tessera computes in float32)' };
    if (g.outputs.length !== 1) return { name, op, status: 'unsupported', reason: `${g.outputs.length} outputs (mask / indices / statistics outputs)` };
    const constants = new Map(g.constants);
    for (const inp of inputs.slice(1)) constants.set(inp.name, inp.value);
    let module: OnnxGraphModule;
    try {
      module = new OnnxGraphModule({ ...g, constants, inputs: g.inputs.slice(0, 1) }, { source: name });
    } catch (e) {
      if (e instanceof UnsupportedOnnxError) return { name, op, status: 'unsupported', reason: e.problems.map((p) => p.replace(/^\S+ '[^']*': /, '')).join('; ') };
      throw e;
    }
    module.eval();
    const x = inputs[0]?.value;
    try {
      const t = x ? tensor(x.data, x.dims.length ? x.dims : [1]) : null;
      const [y] = module.run(new Map(t ? [[inputs[0]!.name, { t, nhwc: false }]] : []));
      const out = toNCHW(y!).t;
      const got = (await out.toArray()) as Float32Array;
      t?.dispose();
      const want = readPb(join(dir, set, 'output_0.pb'));
      if (out.shape.join(',') !== (want.dims.length ? want.dims : [1]).join(',')) {
        return { name, op, status: 'failed', reason: `shape [${out.shape}], expected [${want.dims}]` };
      }
      const bad = mismatch(got, want.data);
      if (bad) return { name, op, status: 'failed', reason: bad };
    } catch (e) {
      return { name, op, status: 'failed', reason: (e as Error).message.split('\n')[0]! };
    } finally {
      module.dispose();
    }
  }
  return { name, op, status: 'passed' };
}

/** The docs table: op, cases, passed, failed, and the unsupported cases with why. */
export function conformanceTable(results: CaseResult[]): string {
  const ops = [...new Set(results.map((r) => r.op))].sort();
  const lines = ['| Operator | Cases | Passed | Failed | Unsupported (case: why) |', '|---|---:|---:|---:|---|'];
  for (const op of ops) {
    const rs = results.filter((r) => r.op === op);
    const count = (s: CaseResult['status']) => rs.filter((r) => r.status === s).length;
    const notes = rs
      .filter((r) => r.status !== 'passed')
      .map((r) => `${r.status === 'failed' ? '**failed** ' : ''}${r.name.replace(/^test_/, '')}: ${'reason' in r ? r.reason.replace(/\|/g, '\\|') : ''}`)
      .join('<br>');
    lines.push(`| ${op} | ${rs.length} | ${count('passed')} | ${count('failed')} | ${notes || '—'} |`);
  }
  return lines.join('\n');
}
