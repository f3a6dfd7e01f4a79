/**
 * The PyTorch CPU reference (bench/torch/step_bench.py, run by Debian's
 * /usr/bin/python3 with torch.set_num_threads(<cores>)): the same step on the same
 * shapes, in the same bench run. Absent torch is a printed skip, not a failure.
 */
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';

export interface TorchResult {
  mode: 'train' | 'eval';
  step_ms: number;
  imgs_per_s: number;
  threads: number;
  torch: string;
}

const PYTHON = process.env.TESSERA_PYTHON ?? '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('../../torch/step_bench.py', import.meta.url));

/** Runs the reference; returns its results or the reason it could not run. */
export function torchStep(model: string, size: number, batch: number, steps: number, modes: string[]): TorchResult[] | string {
  const threads = availableParallelism();
  const r = spawnSync(
    PYTHON,
    [SCRIPT, '--model', model, '--size', String(size), '--batch', String(batch), '--threads', String(threads), '--steps', String(steps), '--modes', modes.join(',')],
    { encoding: 'utf8', timeout: 30 * 60_000 },
  );
  if (r.error) return `${PYTHON} could not run (${r.error.message}); install Debian's python3-torch (scripts/setup.sh --with-torch)`;
  if (r.status !== 0) {
    const last = (r.stderr || '').trim().split('\n').pop() ?? '';
    return /No module named 'torch/.test(r.stderr) ? `PyTorch is not installed for ${PYTHON} (scripts/setup.sh --with-torch installs it)` : `step_bench.py failed: ${last}`;
  }
  return r.stdout
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as TorchResult);
}
