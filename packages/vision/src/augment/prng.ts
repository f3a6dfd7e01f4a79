/**
 * The augmentation sampler's own seeded randomness. Each image of a batch gets its own stream,
 * derived from (seed, image index), so an image's parameters do not depend on the batch size or
 * on how many numbers the images before it consumed.
 *
 * sfc32 (Chris Doty-Humphrey's "small fast counter") seeded through splitmix32: tiny, fast,
 * passes PractRand far beyond what a few dozen draws per image need.
 */

/** A source of floats in [0, 1). */
export interface Prng {
  /** Uniform in [0, 1). */
  next(): number;
}

function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) >>> 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** Mixes integers (any sign or size up to 2^53) into one 32-bit seed. */
export function mixSeeds(...values: number[]): number {
  const st = { s: 0x243f6a88 };
  let h = splitmix32(st);
  for (const v of values) {
    if (!Number.isFinite(v)) throw new RangeError(`seed values must be finite numbers, got ${v}`);
    const n = Math.trunc(v);
    const lo = n >>> 0;
    const hi = Math.floor(n / 4294967296) >>> 0;
    st.s = (h ^ lo) >>> 0;
    h = splitmix32(st);
    st.s = (h ^ hi) >>> 0;
    h = splitmix32(st);
  }
  return h;
}

/** sfc32 seeded from a 32-bit seed. */
export function createPrng(seed: number): Prng {
  const st = { s: seed >>> 0 };
  let a = splitmix32(st);
  let b = splitmix32(st);
  let c = splitmix32(st);
  let d = 1;
  const step = (): number => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t;
  };
  for (let i = 0; i < 12; i++) step();
  return { next: () => step() / 4294967296 };
}

/** Uniform in [lo, hi) (Python's random.uniform up to the closed end, which has probability ~0). */
export function uniform(rng: Prng, lo: number, hi: number): number {
  return lo + (hi - lo) * rng.next();
}

/** Integer in [lo, hi], both inclusive (Python's random.randint). */
export function randint(rng: Prng, lo: number, hi: number): number {
  return lo + Math.floor(rng.next() * (hi - lo + 1));
}

/** True with probability p. */
export function bernoulli(rng: Prng, p: number): boolean {
  return rng.next() < p;
}
