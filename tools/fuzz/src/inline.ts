/**
 * Cases run in the calling thread: what the CI test uses. The time bound is
 * checked after each case (a synchronous parser cannot be interrupted from its own thread;
 * vitest's test timeout catches a real hang). Install the allocation guard before the
 * targets' modules load (see alloc-guard.ts).
 */

import { caseSource } from './cases.js';
import { executeCase, labelFor } from './execute.js';
import type { Target } from './target.js';

export interface InlineFailure {
  index: number;
  note: string;
  reason: string;
  detail: string;
  parts: Uint8Array[];
}

export async function runInline(target: Target, opts: { cases: number; runSeed: number; timeLimitMs: number }): Promise<{ failures: InlineFailure[]; results: number; rejected: number }> {
  await target.setup?.();
  const source = await caseSource(target, opts.runSeed);
  const failures: InlineFailure[] = [];
  let results = 0;
  let rejected = 0;
  for (let i = 0; i < opts.cases; i++) {
    const sample = source.sample(i);
    const { outcome } = executeCase(target, sample.parts, labelFor(target, i), opts.timeLimitMs);
    if (outcome.kind === 'result') results++;
    else if (outcome.kind === 'rejected') rejected++;
    else failures.push({ index: i, note: sample.note, reason: outcome.reason, detail: outcome.detail, parts: sample.parts });
  }
  return { failures, results, rejected };
}
