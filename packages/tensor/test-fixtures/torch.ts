/**
 * The PyTorch reference for tests that run on both adapters: in Node it calls
 * torch-bridge.ts directly; in the browser project it asks the test server through the
 * browser commands of torch-commands.ts (the page cannot start Python itself).
 */
import type { TorchCase, TorchResult } from './torch-bridge.js';
import type { WireResult } from './torch-commands.js';
import { fromWire, toWire } from './wire.js';

export type { TensorData, TorchCase, TorchResult } from './torch-bridge.js';

const inBrowser = typeof window !== 'undefined' && typeof document !== 'undefined';

interface Commands {
  torchAvailable(): Promise<{ ok: boolean; reason: string }>;
  runTorch(cases: unknown[]): Promise<WireResult>;
}

async function commands(): Promise<Commands> {
  const mod = (await import('vitest/browser')) as unknown as { commands: Commands };
  return mod.commands;
}

/** Whether the bridge's Python can import torch; the reason when not (printed once by callers). */
export async function torchAvailable(): Promise<{ ok: boolean; reason: string }> {
  if (inBrowser) return (await commands()).torchAvailable();
  return (await import('./torch-bridge.js')).torchAvailable();
}

/** Runs every case through PyTorch (float64) in one Python process; results by case id, then by name. */
export async function runTorch(cases: TorchCase[]): Promise<Map<string, TorchResult>> {
  if (!inBrowser) return (await import('./torch-bridge.js')).runTorch(cases);
  const wire = (t: { data: Float32Array | Int32Array; shape: number[] }) => ({ data: toWire(t.data), shape: t.shape });
  const out = await (await commands()).runTorch(
    cases.map((c) => ({
      id: c.id,
      op: c.op,
      params: c.params,
      inputs: Object.fromEntries(Object.entries(c.inputs).map(([k, v]) => [k, wire(v)])),
      grad: c.grad ? wire(c.grad) : undefined,
    })),
  );
  const results = new Map<string, TorchResult>();
  for (const [id, named] of Object.entries(out)) {
    results.set(id, Object.fromEntries(Object.entries(named).map(([k, v]) => [k, { data: fromWire(v.data) as Float64Array, shape: v.shape }])));
  }
  return results;
}
