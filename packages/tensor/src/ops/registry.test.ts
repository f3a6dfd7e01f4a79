/**
 * The declarations are the single source: every public function declared with a twin is
 * in both OpSets, every declared method is on Tensor, and each UNARY row with
 * `method: true` becomes all three. Device-free.
 */
import { describe, expect, it } from 'vitest';
import { Tensor, apiEntries, defineApi } from '../index.js';
import { cpuOps, gpuOps } from '../testing/index.js';
import { UNARY, UNARY_FUNCTIONS, type UnaryName } from './elementwise/op.js';

describe('defineApi', () => {
  it('derives the Tensor methods and both OpSets from the declarations', () => {
    const proto = Tensor.prototype as unknown as Record<string, unknown>;
    for (const [name, e] of apiEntries()) {
      if (e.method) expect(typeof proto[e.method === true ? name : e.method], `Tensor.${name}`).toBe('function');
      if (e.twin) {
        expect((gpuOps as unknown as Record<string, unknown>)[name], `gpuOps.${name}`).toBe(e.gpu);
        expect((cpuOps as unknown as Record<string, unknown>)[name], `cpuOps.${name}`).toBe(e.twin);
      }
    }
    expect(proto['var']).toBeTypeOf('function'); // variance, named differently
    expect(proto['clone']).toBeTypeOf('function'); // copy
  });

  it('makes each UNARY row with method: true a function, a Tensor method and an OpSet entry', () => {
    const rows = (Object.keys(UNARY) as UnaryName[]).filter((n) => (UNARY[n] as { method?: true }).method);
    expect(rows.length).toBeGreaterThan(5);
    for (const name of rows) {
      expect(UNARY_FUNCTIONS[name as keyof typeof UNARY_FUNCTIONS], name).toBeTypeOf('function');
      expect(apiEntries().get(name)?.method, name).toBe(true);
      expect(apiEntries().get(name)?.twin, name).toBeTypeOf('function');
    }
  });

  it('refuses a name declared twice and a method Tensor already has', () => {
    expect(() => defineApi({ softmax: { gpu: (x: Tensor) => x } })).toThrow(/softmax declared twice/);
    expect(() => defineApi({ zzNotAnOp: { gpu: (x: Tensor) => x, method: 'reshape' } })).toThrow(/Tensor\.reshape declared twice/);
  });
});
