/**
 * A small seeded generator (mulberry32). Every case's input is a pure function of
 * (run seed, target, case index), so a failure can be regenerated from those three
 * numbers and a CI run is the same on every machine.
 */

export class Rng {
  private s: number;

  constructor(seed: number) {
    this.s = seed >>> 0;
  }

  /** The generator for case `index` of a run: independent streams per case. */
  static forCase(runSeed: number, target: string, index: number): Rng {
    let h = (runSeed ^ 0x9e3779b9) >>> 0;
    for (let i = 0; i < target.length; i++) h = Math.imul(h ^ target.charCodeAt(i), 0x85ebca6b) >>> 0;
    h = Math.imul(h ^ (index >>> 0), 0xc2b2ae35) >>> 0;
    h = Math.imul(h ^ Math.floor(index / 2 ** 32), 0x27d4eb2f) >>> 0;
    return new Rng(h ^ (h >>> 15));
  }

  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  chance(p: number): boolean {
    return this.next() < p;
  }
}
