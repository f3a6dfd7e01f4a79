import { describe, expect, it } from 'vitest';
import { batchCount, epochBatches, epochOrder } from './sampler.js';

describe('sampler', () => {
  it('shuffles reproducibly per (seed, epoch), a different permutation each epoch', () => {
    const options = { shuffle: true, seed: 3 };
    const e0 = epochOrder(50, 0, options);
    expect(epochOrder(50, 0, options)).toEqual(e0);
    expect([...e0].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(epochOrder(50, 1, options)).not.toEqual(e0);
    expect(epochOrder(50, 0, { shuffle: true, seed: 4 })).not.toEqual(e0);
    expect(epochOrder(5, 7, { shuffle: false, seed: 3 })).toEqual([0, 1, 2, 3, 4]);
  });

  it('keeps or drops the last partial batch', () => {
    const keep = epochBatches(10, 0, { batchSize: 4, shuffle: false, seed: 0, dropLast: false });
    expect(keep).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
    const drop = epochBatches(10, 0, { batchSize: 4, shuffle: false, seed: 0, dropLast: true });
    expect(drop).toEqual([[0, 1, 2, 3], [4, 5, 6, 7]]);
    expect([batchCount(8, { batchSize: 4, dropLast: false }), batchCount(8, { batchSize: 4, dropLast: true })]).toEqual([2, 2]);
    expect(batchCount(3, { batchSize: 4, dropLast: true })).toBe(0);
  });
});
