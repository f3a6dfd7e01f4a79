/**
 * Moving weights between modules and files. Files (and StateDicts) always hold
 * PyTorch names and layouts (OIHW convolutions); the module side keeps Tessera's
 * kernel layout (OHWI). This file is the one place the two meet.
 * Loading checks every key and shape and reports all mismatches at once.
 */
import { type Tensor, TesseraError } from '@tessera/tensor';
import type { Module } from './module.js';
import { permute, toFloat32, type RawTensor, type StateDict } from './io/index.js';

export interface LoadReport {
  loaded: string[];
  missing: string[];
  unexpected: string[];
  wrongShape: { key: string; expected: number[]; got: number[] }[];
}

export class WeightMismatchError extends TesseraError {
  constructor(
    readonly report: LoadReport,
    source: string,
  ) {
    const parts: string[] = [];
    const list = (xs: string[]) => xs.slice(0, 8).join(', ') + (xs.length > 8 ? `, … (${xs.length} in all)` : '');
    if (report.missing.length) parts.push(`missing: ${list(report.missing)}`);
    if (report.unexpected.length) parts.push(`unexpected: ${list(report.unexpected)}`);
    if (report.wrongShape.length) {
      parts.push(
        `wrong shape: ${report.wrongShape
          .slice(0, 8)
          .map((w) => `${w.key} expects [${w.expected.join(', ')}] but the file has [${w.got.join(', ')}]`)
          .join('; ')}`,
      );
    }
    super(`weights from ${source} do not fit the model — ${parts.join(' | ')}. Use strict: false to load only what matches.`);
    this.name = 'WeightMismatchError';
  }
}

/** Module layout → PyTorch layout shape (OHWI conv weights become OIHW). */
export function torchShape(t: Tensor): number[] {
  const s = [...t.shape];
  return s.length === 4 ? [s[0]!, s[3]!, s[1]!, s[2]!] : s;
}

/** PyTorch tensor → data in the module's layout. */
function toModuleLayout(raw: RawTensor): Float32Array {
  if (raw.shape.length === 4) return toFloat32(permute(raw, [0, 2, 3, 1]));
  return toFloat32(raw);
}

function sameDims(a: readonly number[], b: readonly number[]): boolean {
  // PyTorch stores num_batches_tracked as a 0-d tensor; Tessera as [1].
  const norm = (x: readonly number[]) => (x.length === 0 ? [1] : x);
  const x = norm(a);
  const y = norm(b);
  return x.length === y.length && x.every((d, i) => d === y[i]);
}

/** Loads a PyTorch-layout state dict into a module. strict: every key must match. */
export function loadStateDict(module: Module, sd: StateDict, opts: { strict?: boolean; source?: string } = {}): LoadReport {
  const strict = opts.strict ?? true;
  const targets = module.stateDict();
  const report: LoadReport = { loaded: [], missing: [], unexpected: [], wrongShape: [] };
  // PyTorch itself accepts BatchNorm checkpoints without num_batches_tracked (older files, Keras).
  for (const key of targets.keys()) if (!sd.has(key) && !key.endsWith('num_batches_tracked')) report.missing.push(key);
  for (const [key, raw] of sd) {
    const t = targets.get(key);
    if (!t) {
      report.unexpected.push(key);
      continue;
    }
    const expected = torchShape(t);
    if (!sameDims(expected, raw.shape)) report.wrongShape.push({ key, expected, got: [...raw.shape] });
  }
  const bad = report.missing.length + report.unexpected.length + report.wrongShape.length;
  if (strict && bad > 0) throw new WeightMismatchError(report, opts.source ?? 'the state dict');
  const skip = new Set(report.wrongShape.map((w) => w.key));
  for (const [key, raw] of sd) {
    const t = targets.get(key);
    if (!t || skip.has(key)) continue;
    const data = toModuleLayout(raw);
    t.load(t.dtype === 'f32' ? data : t.dtype === 'i32' ? Int32Array.from(data) : Uint32Array.from(data));
    report.loaded.push(key);
  }
  return report;
}

/** Reads a module's parameters and buffers back as a PyTorch-layout state dict. */
export async function exportStateDict(module: Module): Promise<StateDict> {
  const out: StateDict = new Map();
  // Every readback queued at once: one wait for the device instead of one per tensor.
  const entries = [...module.stateDict()];
  const arrays = await Promise.all(entries.map(([, t]) => t.toArray()));
  for (const [i, [key, t]] of entries.entries()) {
    const data = arrays[i]!;
    const shape = [...t.shape];
    if (shape.length === 4) {
      out.set(key, permute({ dtype: 'f32', shape, data: data as Float32Array }, [0, 3, 1, 2]));
    } else if (t.dtype === 'f32') {
      out.set(key, { dtype: 'f32', shape, data: data as Float32Array });
    } else {
      out.set(key, { dtype: 'i64', shape, data: BigInt64Array.from(Array.from(data, (v) => BigInt(v))) });
    }
  }
  return out;
}
