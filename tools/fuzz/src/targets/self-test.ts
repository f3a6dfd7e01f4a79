/**
 * A target that misbehaves on purpose, to test the fuzzer itself (runner.test.ts): the
 * first byte of the input picks what the "parser" does. Not in TARGETS, so `pnpm fuzz`
 * never runs it; `--target self-test` can.
 */

import type { Target } from '../target.js';

export class SelfTestError extends Error {}

export const BEHAVIOURS = ['result', 'hang', 'foreign exception', 'allocation over budget', 'crash', 'unnamed error', 'own error'] as const;

export const selfTestTarget: Target = {
  name: 'self-test',
  description: 'misbehaves on purpose (hang, crash, foreign exception, big allocation) to test the fuzzer',
  partNames: ['input.bin'],
  // One seed per behaviour; the truncation phase (cuts at 1..3 keep the first byte) runs each.
  seeds: async () => BEHAVIOURS.map((name, i) => ({ name, parts: [Uint8Array.from([i, 0, 0, 0])] })),
  run: (parts, label) => {
    switch (BEHAVIOURS[parts[0]![0] ?? 0]) {
      case 'hang': for (;;) { /* an endless loop: only terminating the worker stops it */ }
      case 'foreign exception': return (null as unknown as { x: number }).x;
      case 'allocation over budget': return new Float64Array(2 ** 28).length;
      case 'crash': { const hog: number[][] = []; for (;;) hog.push(new Array<number>(1e6).fill(1)); }
      case 'unnamed error': throw new SelfTestError('something is wrong');
      case 'own error': throw new SelfTestError(`${label}: something is wrong`);
      default: return 1;
    }
  },
  isOwnError: (err) => err instanceof SelfTestError,
  budget: () => 2 ** 20,
};
