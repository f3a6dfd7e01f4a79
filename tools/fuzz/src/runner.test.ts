// The fuzzer itself: a target that misbehaves on purpose (targets/self-test.ts) must have
// each misbehaviour caught, saved and replayable: a hang stopped by the time bound, a worker
// killed by its heap cap, a foreign exception, an over-budget allocation, an error that does
// not name the input; while well-behaved cases and own errors pass.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeInput } from './bundle.js';
import { replayInWorker, runTarget } from './runner.js';
import { selfTestTarget } from './targets/self-test.js';

const out = mkdtempSync(join(tmpdir(), 'tessera-fuzz-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('fuzz runner', () => {
  it('catches hangs, crashes, foreign exceptions, big allocations and unnamed errors, saves them, and replays them', async () => {
    // Truncation cases 2, 6, 10, ... cut the seeds [i, 0, 0, 0] at 1..3: behaviour i. The
    // time bound leaves the 'crash' case (filling a 64 MiB heap) the second it needs to die.
    const run = await runTarget(selfTestTarget, { cases: 36, runSeed: 1, timeLimitMs: 1500, heapMb: 64, out });
    const reasons = new Set(run.failures.map((f) => f.reason));
    expect([...reasons].sort()).toEqual(['allocation over budget', 'crash', 'error does not name the input', 'foreign exception', 'hang']);
    expect(run.cases).toBe(36);
    expect(run.results + run.rejected).toBeGreaterThan(0);
    for (const reason of ['hang', 'foreign exception', 'allocation over budget']) {
      const f = run.failures.find((x) => x.reason === reason)!;
      const report = await replayInWorker(selfTestTarget, decodeInput(new Uint8Array(readFileSync(f.file))), 1500, 64);
      expect(report.outcome).toMatchObject({ kind: 'failure', reason });
    }
  });
});
