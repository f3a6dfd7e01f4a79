/**
 * Runs one case in the current thread and judges it: the target's property (target.ts),
 * then the allocation budget (alloc-guard.ts) and the time bound. The time bound here is
 * measured after the fact (a synchronous parser cannot be interrupted from its own thread);
 * the worker runner (runner.ts) also enforces it from outside, terminating a case that hangs.
 */

import { beginCase, endCase } from './alloc-guard.js';
import { judge, type Outcome, type Target } from './target.js';

export interface CaseReport {
  outcome: Outcome;
  ms: number;
  /** Bytes requested through ArrayBuffers and typed arrays (cumulative). */
  allocated: number;
}

/** The name a case's input goes by; an own error must contain it. */
export function labelFor(target: Target, index: number): string {
  return `fuzz-case-${index}.${target.partNames[0]!.split('.').pop()}`;
}

export function executeCase(target: Target, parts: Uint8Array[], label: string, timeLimitMs: number): CaseReport {
  beginCase(target.budget(parts));
  const start = performance.now();
  let result: unknown;
  let error: unknown;
  let threw = false;
  try {
    result = target.run(parts, label);
  } catch (err) {
    error = err;
    threw = true;
  }
  const ms = performance.now() - start;
  const alloc = endCase();
  const leftover = target.afterCase?.() ?? null;
  if (alloc.exceeded) {
    return { ms, allocated: alloc.total, outcome: { kind: 'failure', reason: 'allocation over budget', detail: `${alloc.exceeded.message}\n${alloc.exceeded.where}` } };
  }
  if (leftover) return { ms, allocated: alloc.total, outcome: { kind: 'failure', reason: 'leak', detail: leftover } };
  if (ms > timeLimitMs) {
    return { ms, allocated: alloc.total, outcome: { kind: 'failure', reason: 'too slow', detail: `took ${ms.toFixed(0)} ms (bound ${timeLimitMs} ms)` } };
  }
  return { ms, allocated: alloc.total, outcome: judge(target, label, parts, { result, error, threw }) };
}
