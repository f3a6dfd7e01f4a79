/**
 * Which kernels a piece of code dispatched, by pipeline label: for tests that check a
 * variant was chosen (a vec4 width, Winograd over the implicit GEMM), not just that the
 * results agree. Uses the profiler, so it answers only where the adapter can time
 * dispatches (timestamp queries); elsewhere it runs fn and returns null, and the caller
 * skips the check.
 */
import { sync } from '../runtime/queue.js';
import { canProfile, startProfile, stopProfile } from '../runtime/profiler.js';

/** The names of the kernels fn dispatched, in order, kept by `keep`; null where the adapter cannot profile. */
export async function kernelsDispatched(fn: () => unknown, keep: (name: string) => boolean = () => true): Promise<string[] | null> {
  if (!canProfile()) {
    await fn();
    return null;
  }
  await sync();
  startProfile();
  try {
    await fn();
    await sync();
  } catch (e) {
    await stopProfile();
    throw e;
  }
  return (await stopProfile()).map((d) => d.name).filter(keep);
}
