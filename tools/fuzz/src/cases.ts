/** A target's seeds and truncation schedule, loaded once per thread; case inputs by index. */

import { makeCase, truncationSchedule } from './mutate.js';
import type { Sample, Seed, Target } from './target.js';

export interface CaseSource {
  seeds: Seed[];
  /** How many cases the deterministic truncation phase has. */
  truncations: number;
  sample(index: number): Sample;
}

export async function caseSource(target: Target, runSeed: number): Promise<CaseSource> {
  // Plain Uint8Array copies: a seed may be a Node Buffer (test writers use Buffer.concat),
  // whose slice() is a view, and the mutator must never write into a seed.
  const seeds = (await target.seeds()).map((s) => ({ ...s, parts: s.parts.map((p) => new Uint8Array(p)) }));
  if (seeds.length === 0) throw new Error(`fuzz target ${target.name} has no seeds`);
  const schedule = truncationSchedule(seeds);
  return { seeds, truncations: schedule.length, sample: (index) => makeCase(seeds, runSeed, target.name, index, schedule, target.repair) };
}
