/**
 * The op cases' PyTorch reference (scripts/torch_fixtures.py), Node only, over the one Python
 * bridge (@tessera/tensor/testing/node): inputs go to a scratch folder as raw little-endian
 * f32/i32 plus a JSON manifest, PyTorch's float64 outputs and gradients come back as raw f64.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findPython, runPython, scratchDir } from '../src/testing/node/index.js';

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), '..', 'scripts', 'torch_fixtures.py');

/** Whether PyTorch can run the cases; the reason when not (printed once by callers). */
export function torchAvailable(): { ok: boolean; reason: string } {
  const c = findPython(['torch']);
  return { ok: c.ok, reason: c.ok ? c.reason : `PyTorch comparison skipped: ${c.reason}` };
}

export interface TensorData {
  data: Float32Array | Int32Array;
  shape: number[];
}

export interface TorchCase {
  id: string;
  op: string;
  params?: Record<string, unknown>;
  inputs: Record<string, TensorData>;
  /** Upstream gradient of the output (omit for no backward). */
  grad?: TensorData;
}

export type TorchResult = Record<string, { data: Float64Array; shape: number[] }>;

/** Runs every case through PyTorch (float64) in one Python process; results by case id, then by name. */
export async function runTorch(cases: TorchCase[]): Promise<Map<string, TorchResult>> {
  const scratch = scratchDir('torch');
  try {
    let k = 0;
    const write = (t: TensorData) => {
      const file = `in${k++}.bin`;
      scratch.write(file, t.data);
      return { file, shape: t.shape, dtype: t.data instanceof Int32Array ? 'i32' : 'f32' };
    };
    scratch.write('manifest.json', {
      cases: cases.map((c) => ({
        id: c.id,
        op: c.op,
        params: c.params ?? {},
        inputs: Object.fromEntries(Object.entries(c.inputs).map(([n, t]) => [n, write(t)])),
        grad: c.grad ? write(c.grad) : null,
      })),
    });
    await runPython(SCRIPT, { args: [scratch.dir], timeoutMs: 300_000 });
    const out = scratch.json<Record<string, Record<string, { file: string; shape: number[] }>>>('results.json');
    const results = new Map<string, TorchResult>();
    for (const [id, named] of Object.entries(out)) {
      const res: TorchResult = {};
      for (const [name, { file, shape }] of Object.entries(named)) res[name] = { data: scratch.f64(file), shape };
      results.set(id, res);
    }
    return results;
  } finally {
    scratch.remove();
  }
}
