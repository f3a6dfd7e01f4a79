/**
 * The bridge to PyTorch (scripts/torch_fixtures.py), Node only: inputs go to a temp dir
 * as raw little-endian f32/i32 plus a JSON manifest, PyTorch's float64 outputs and
 * gradients come back as raw f64.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Debian's torch is importable only by /usr/bin/python3; TESSERA_PYTHON overrides (e.g. to test the skip path). */
export const PYTHON = process.env.TESSERA_PYTHON ?? '/usr/bin/python3';
const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), '..', 'scripts', 'torch_fixtures.py');

let torchState: { ok: boolean; reason: string } | undefined;

/** Whether /usr/bin/python3 can import torch; the reason when not (printed once by callers). */
export function torchAvailable(): { ok: boolean; reason: string } {
  if (torchState) return torchState;
  const r = spawnSync(PYTHON, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8', timeout: 60_000 });
  torchState =
    r.status === 0
      ? { ok: true, reason: `torch ${r.stdout.trim()}` }
      : {
          ok: false,
          reason: `PyTorch comparison skipped: ${PYTHON} cannot import torch (${(r.error?.message ?? r.stderr ?? '').trim().split('\n').pop()}); install it with scripts/install-test-deps.sh`,
        };
  return torchState;
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
export function runTorch(cases: TorchCase[]): Map<string, TorchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-torch-'));
  try {
    let k = 0;
    const write = (t: TensorData) => {
      const file = `in${k++}.bin`;
      writeFileSync(join(dir, file), new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
      return { file, shape: t.shape, dtype: t.data instanceof Int32Array ? 'i32' : 'f32' };
    };
    const manifest = {
      cases: cases.map((c) => ({
        id: c.id,
        op: c.op,
        params: c.params ?? {},
        inputs: Object.fromEntries(Object.entries(c.inputs).map(([n, t]) => [n, write(t)])),
        grad: c.grad ? write(c.grad) : null,
      })),
    };
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
    const r = spawnSync(PYTHON, [SCRIPT, dir], { encoding: 'utf8', timeout: 300_000 });
    if (r.status !== 0) throw new Error(`torch_fixtures.py failed (${r.status}): ${r.stderr || r.error?.message}`);
    const out = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as Record<string, Record<string, { file: string; shape: number[] }>>;
    const results = new Map<string, TorchResult>();
    for (const [id, named] of Object.entries(out)) {
      const res: TorchResult = {};
      for (const [name, { file, shape }] of Object.entries(named)) {
        const bytes = readFileSync(join(dir, file));
        res[name] = { data: new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)), shape };
      }
      results.set(id, res);
    }
    return results;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
