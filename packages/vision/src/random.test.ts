import { describe, expect, it } from 'vitest';
import { mixSeed, mulberry32, permutation, shuffleInPlace } from './random.js';

describe('seeded randomness', () => {
  it('mulberry32 is deterministic, in [0, 1), and seed-sensitive', () => {
    const a = mulberry32(1);
    const b = mulberry32(1);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(Array.from({ length: 1000 }, () => b())).toEqual(xs);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    expect(Math.abs(xs.reduce((s, x) => s + x, 0) / 1000 - 0.5)).toBeLessThan(0.05);
    expect(mulberry32(2)()).not.toBe(xs[0]);
  });

  it('mixSeed separates neighbouring inputs and keeps high bits', () => {
    const seeds = new Set<number>();
    for (let s = 0; s < 20; s++) for (let e = 0; e < 20; e++) seeds.add(mixSeed(s, e));
    expect(seeds.size).toBe(400);
    expect(mixSeed(1, 2)).not.toBe(mixSeed(2, 1));
    expect(mixSeed(2 ** 32 + 5)).not.toBe(mixSeed(5));
  });

  it('permutation and shuffle give permutations, reproducibly', () => {
    const p = permutation(100, 7);
    expect([...p].sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(permutation(100, 7)).toEqual(p);
    expect(permutation(100, 8)).not.toEqual(p);
    expect(shuffleInPlace(['a'], mulberry32(0))).toEqual(['a']);
  });
});
