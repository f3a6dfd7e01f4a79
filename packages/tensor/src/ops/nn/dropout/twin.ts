/** CPU twin of kernel.ts: the mask is a pure function of (seed, index), bit-identical to the GPU's. */
import { pcgHash, unitFromHash } from '../../../kernels/random.js';

/** keep[i] = 1 where element i survives dropout with probability p under `seed`. */
export function dropoutMaskRef(n: number, p: number, seed: number): Uint8Array {
  const keep = new Uint8Array(n);
  const hs = pcgHash(seed >>> 0);
  const pf = Math.fround(p);
  for (let i = 0; i < n; i++) keep[i] = unitFromHash(pcgHash((i ^ hs) >>> 0)) >= pf ? 1 : 0;
  return keep;
}

/** Dropout forward (or backward, applied to the gradient): kept elements scaled by 1/(1 − p). */
export function dropoutRef(x: ArrayLike<number>, p: number, seed: number): Float64Array {
  const keep = dropoutMaskRef(x.length, p, seed);
  const scale = p === 1 ? 0 : 1 / (1 - p);
  return Float64Array.from(x, (v, i) => (keep[i] ? v * scale : 0));
}
