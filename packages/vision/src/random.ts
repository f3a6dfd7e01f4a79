/**
 * Small seeded randomness: reproducible splits, shuffles and synthetic images.
 *
 * Math.random cannot be seeded, and reproducibility ("same seed, same split, same epoch order,
 * same pictures", in every worker thread) matters more here than statistical sophistication.
 * mulberry32 is tiny, fast and good enough for shuffling and placing circles.
 */

/** A generator of floats in [0, 1). */
export type Random = () => number;

export function mulberry32(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Mixes several integers into one 32-bit seed (murmur3's finaliser per step), so that derived
 * streams - (seed, epoch), (seed, class, item) - are unrelated to each other and to (seed).
 */
export function mixSeed(...values: number[]): number {
  const mix = (h: number, k: number): number => {
    h = Math.imul(h ^ k, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    return h ^ (h >>> 16);
  };
  let h = 0x9e3779b9;
  for (const v of values) {
    h = mix(h, v >>> 0);
    // Seeds beyond 2^32 (or negative) also mix their high word instead of being truncated.
    const high = Math.floor(v / 4294967296) >>> 0;
    if (high !== 0) h = mix(h, high);
  }
  return h >>> 0;
}

/** Integer in [lo, hi], inclusive. */
export function randomInt(random: Random, lo: number, hi: number): number {
  return lo + Math.floor(random() * (hi - lo + 1));
}

/** Fisher-Yates, in place. */
export function shuffleInPlace<T>(items: T[], random: Random): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = items[i]!;
    items[i] = items[j]!;
    items[j] = t;
  }
  return items;
}

/** A random permutation of 0..n-1 determined by the seed. */
export function permutation(n: number, seed: number): number[] {
  return shuffleInPlace(Array.from({ length: n }, (_, i) => i), mulberry32(seed));
}
