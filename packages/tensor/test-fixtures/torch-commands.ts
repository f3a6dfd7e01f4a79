/**
 * The PyTorch bridge as vitest browser commands (registered in the root vitest.config.ts):
 * they run in the test server's Node process, so the nn-vs-PyTorch test runs unchanged
 * in the browser project, its GPU side on the browser's adapter.
 */
import type { BrowserCommand } from 'vitest/node';
import { runTorch, torchAvailable, type TensorData, type TorchCase } from './torch-bridge.js';
import { fromWire, toWire, type WireArray } from './wire.js';

export interface WireCase extends Omit<TorchCase, 'inputs' | 'grad'> {
  inputs: Record<string, { data: WireArray; shape: number[] }>;
  grad?: { data: WireArray; shape: number[] };
}
export type WireResult = Record<string, Record<string, { data: WireArray; shape: number[] }>>;

const unwire = (t: { data: WireArray; shape: number[] }): TensorData => ({ data: fromWire(t.data) as Float32Array | Int32Array, shape: t.shape });

const torchAvailableCommand: BrowserCommand<[]> = () => torchAvailable();

const runTorchCommand: BrowserCommand<[WireCase[]]> = async (_ctx, cases) => {
  const results = await runTorch(
    cases.map((c) => ({
      ...c,
      inputs: Object.fromEntries(Object.entries(c.inputs).map(([k, v]) => [k, unwire(v)])),
      grad: c.grad ? unwire(c.grad) : undefined,
    })),
  );
  const out: WireResult = {};
  for (const [id, named] of results) {
    out[id] = Object.fromEntries(Object.entries(named).map(([k, v]) => [k, { data: toWire(v.data), shape: v.shape }]));
  }
  return out;
};

export const torchCommands = { torchAvailable: torchAvailableCommand, runTorch: runTorchCommand };
