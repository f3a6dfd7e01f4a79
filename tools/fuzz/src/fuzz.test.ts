// The short form of `pnpm fuzz` for CI: a few hundred seeded cases per target, in this
// thread, so the run is the same everywhere. A failure prints the case and its input as
// base64; `pnpm fuzz --target T --seed 7 --cases N` rebuilds it (see docs/fuzzing.md).

import { afterAll, describe, expect, it } from 'vitest';
import { endCase, beginCase, installAllocationGuard } from './alloc-guard.js';
import type { Target } from './target.js';

// Before the parsers load (fflate keeps the Uint8Array it sees at load time).
installAllocationGuard();
const { TARGETS } = await import('./targets/index.js');
const { runInline } = await import('./inline.js');
const { skipped } = await import('./seeds/real-files.js');

const SEED = 7;
const CASES: Record<string, number> = { 'model-file': 150, jpeg: 300, tfjs: 300 };
const TIME_LIMIT_MS = 5000;

describe('fuzz short form', () => {
  // The real files are read as each target makes its seeds; say which were missing.
  afterAll(() => {
    for (const s of new Set(skipped)) console.log(`[fuzz] seed skipped: ${s}`);
  });

  it('the allocation guard sees what the decoders allocate, fflate included', async () => {
    const { decodeImage } = await import('@tessera/vision');
    const { pngSeeds } = await import('./seeds/images.js');
    const png = pngSeeds()[0]!.parts[0]!; // 7x5 RGB
    beginCase(Infinity);
    decodeImage(png);
    const { total } = endCase();
    // At least the inflated rows (through fflate), RGBA and RGB.
    expect(total).toBeGreaterThanOrEqual(5 * (7 * 3 + 1) + 7 * 5 * 4 + 7 * 5 * 3);
  });

  it.each(TARGETS.map((t): [string, Target] => [t.name, t]))('%s: every case gives a result or the parser\'s own error naming the input', async (_, target) => {
    const cases = CASES[target.name] ?? 400;
    const run = await runInline(target, { cases, runSeed: SEED, timeLimitMs: TIME_LIMIT_MS });
    const shown = run.failures.slice(0, 3).map((f) =>
      `case ${f.index} (${f.note}): ${f.reason}: ${f.detail}\n  input: ${f.parts.map((p) => Buffer.from(p).toString('base64').slice(0, 400)).join(' | ')}`);
    expect(shown).toEqual([]);
    expect(run.results + run.rejected).toBe(cases);
  });
});
