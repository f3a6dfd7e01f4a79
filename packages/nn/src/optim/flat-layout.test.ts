// The flat layout's arithmetic, without a device: aligned offsets, decayed parameters
// before the no-decay tail, chunks within the binding limit, and runs that one dispatch
// can cover.
import { describe, expect, it } from 'vitest';
import { planLayout, planRuns, runSpan } from './flat-layout.js';

const p = (index: number, size: number, noDecay = false) => ({ index, size, noDecay });

describe('planLayout', () => {
  it('puts decayed parameters first, each at a multiple of 4, and marks where the no-decay tail starts', () => {
    const [chunk, ...rest] = planLayout([p(0, 6), p(1, 5, true), p(2, 1), p(3, 1, true), p(4, 8)], 1000);
    expect(rest).toEqual([]);
    expect(chunk!.slots).toEqual([
      { index: 0, offset: 0, size: 6 },
      { index: 2, offset: 8, size: 1 },
      { index: 4, offset: 12, size: 8 },
      { index: 1, offset: 20, size: 5 },
      { index: 3, offset: 28, size: 1 },
    ]);
    expect([chunk!.length, chunk!.decayEnd]).toEqual([32, 20]);
  });

  it('a group of only no-decay parameters decays nothing; one of only decayed ones decays everything', () => {
    expect(planLayout([p(0, 3, true), p(1, 4, true)], 100)[0]).toMatchObject({ length: 8, decayEnd: 0 });
    expect(planLayout([p(0, 3), p(1, 4)], 100)[0]).toMatchObject({ length: 8, decayEnd: 8 });
    expect(planLayout([], 100)).toEqual([]);
  });

  it('starts a new chunk where the binding limit would be passed; each chunk has its own boundary', () => {
    const chunks = planLayout([p(0, 12), p(1, 14), p(2, 4, true), p(3, 2, true)], 24);
    expect(chunks.map((c) => c.slots.map((s) => [s.index, s.offset]))).toEqual([[[0, 0]], [[1, 0], [2, 16], [3, 20]]]);
    expect(chunks.map((c) => [c.length, c.decayEnd])).toEqual([[12, 12], [24, 16]]);
    expect(() => planLayout([p(0, 25)], 24)).toThrow(/exceeds one buffer binding/);
  });
});

describe('planRuns', () => {
  it('one run when every slot has a gradient and the same key', () => {
    expect(planRuns(4, () => 0)).toEqual([{ first: 0, end: 4 }]);
  });

  it('slots without a gradient (null) split runs; so do different keys', () => {
    const keys = [3, 3, null, 3, 4, 4, null, null, 5];
    expect(planRuns(keys.length, (s) => keys[s]!)).toEqual([
      { first: 0, end: 2 },
      { first: 3, end: 4 },
      { first: 4, end: 6 },
      { first: 8, end: 9 },
    ]);
    expect(planRuns(3, () => null)).toEqual([]);
  });

  it('a run spans from its first slot to the padded end of its last', () => {
    const [chunk] = planLayout([p(0, 6), p(1, 5), p(2, 3)], 100);
    expect(runSpan(chunk!, { first: 1, end: 3 })).toEqual({ start: 8, end: 20 });
  });
});
