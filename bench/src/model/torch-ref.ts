/**
 * The PyTorch CPU reference (bench/torch/step_bench.py, run through the one Python bridge,
 * @tessera/tensor/testing/node, with torch.set_num_threads(<cores>)): the same step on the
 * same shapes, in the same bench run. Absent torch is a printed skip, not a failure.
 */
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { findPython, runPython } from '@tessera/tensor/testing/node';

export interface TorchResult {
  mode: 'train' | 'eval';
  step_ms: number;
  imgs_per_s: number;
  threads: number;
  torch: string;
}

const SCRIPT = fileURLToPath(new URL('../../torch/step_bench.py', import.meta.url));

/** Runs the reference; returns its results or the reason it could not run. */
export async function torchStep(model: string, size: number, batch: number, steps: number, modes: string[]): Promise<TorchResult[] | string> {
  const torch = findPython(['torch', 'torchvision']);
  if (!torch.ok) return torch.reason;
  const threads = availableParallelism();
  let stdout: string;
  try {
    const args = ['--model', model, '--size', size, '--batch', batch, '--threads', threads, '--steps', steps, '--modes', modes.join(',')];
    stdout = await runPython(SCRIPT, { args, threads, timeoutMs: 30 * 60_000 });
  } catch (e) {
    // "step_bench.py failed (exit 1):" and the error's last line, on one line.
    const lines = (e as Error).message.split('\n');
    return lines.length > 1 ? `${lines[0]} ${lines.at(-1)}` : lines[0]!;
  }
  return stdout
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as TorchResult);
}
