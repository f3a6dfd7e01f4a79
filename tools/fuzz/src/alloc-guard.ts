/**
 * Allocation accounting for one fuzz case: every byte a parser asks for through an
 * ArrayBuffer, a typed array or Buffer.alloc is counted BEFORE it is allocated, and a
 * request that would take the case past its budget throws instead.
 *
 * Why not process.memoryUsage().arrayBuffers: it is a snapshot, not a peak; a parser that
 * allocates 2 GB and drops it again may have been collected by the time we look, and one
 * that really asks for 2 GB takes the fuzzer down with it. Intercepting the constructors
 * sees every request (even one freed at once), and refusing it keeps the fuzzer alive.
 *
 * How: the global constructors are replaced by Proxies whose `construct` trap counts the
 * bytes, and each prototype's `constructor` points at the Proxy too, so the arrays that
 * built-ins make from an existing one (`slice`, `map`, `from`, `new (x.constructor)(n)`)
 * are counted as well. This must run before the parsers' modules load, because some
 * (fflate) keep a reference to `Uint8Array` taken at load time.
 *
 * What it cannot see: plain JS arrays, strings and objects. Those live on the JS heap,
 * which the worker running the cases caps with `resourceLimits` (see runner.ts): a case
 * that blows it kills the worker and is reported as a failure.
 *
 * The count is cumulative (it never subtracts frees), so it over-estimates the peak:
 * budgets are generous multiples of the input size plus the parser's checked limit.
 */

export class AllocationBudgetError extends Error {
  constructor(readonly requested: number, readonly total: number, readonly budget: number) {
    super(`allocation of ${requested} bytes would bring this case to ${total} bytes, over its budget of ${budget}`);
    this.name = 'AllocationBudgetError';
  }

  /** Where the parser asked: the first frames outside this file. */
  get where(): string {
    return (this.stack ?? '').split('\n').filter((l) => l.trim().startsWith('at ') && !l.includes('alloc-guard')).slice(0, 4).join('\n');
  }
}

interface GuardState {
  /** Bytes requested since the case began. */
  total: number;
  /** Largest single request. */
  largest: number;
  budget: number;
  /** Set when a request was refused, whatever the parser then did with the error. */
  exceeded: AllocationBudgetError | null;
  active: boolean;
}

const state: GuardState = { total: 0, largest: 0, budget: Infinity, exceeded: null, active: false };
let installed = false;

function count(bytes: number): void {
  if (!state.active || !(bytes > 0)) return;
  state.largest = Math.max(state.largest, bytes);
  const total = state.total + bytes;
  if (total > state.budget) {
    const err = new AllocationBudgetError(bytes, total, state.budget);
    state.exceeded ??= err;
    throw err;
  }
  state.total = total;
}

/** Elements an argument list of a typed-array constructor will allocate (0 for a view on a buffer). */
function elementsOf(args: unknown[]): number {
  const [first] = args;
  if (first === undefined) return 0;
  if (typeof first === 'number' || typeof first === 'bigint') return Number(first);
  if (first instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && first instanceof SharedArrayBuffer)) return 0;
  if (typeof first === 'object' && first !== null) {
    const length = (first as { length?: unknown }).length;
    if (typeof length === 'number') return length;
  }
  return 0; // an iterable without length: counted as it is built into an array first (JS heap)
}

const TYPED = [
  'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array',
  'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array',
] as const;

function wrap<T extends abstract new (...args: never[]) => unknown>(ctor: T, bytesOf: (args: unknown[]) => number): T {
  const proxy: T = new Proxy(ctor, {
    construct(target, args, newTarget): object {
      count(bytesOf(args));
      return Reflect.construct(target as unknown as new (...a: unknown[]) => object, args, newTarget === proxy ? target : newTarget);
    },
  });
  Object.defineProperty(ctor.prototype, 'constructor', { value: proxy, writable: true, configurable: true });
  return proxy;
}

/** Replaces the global constructors (once per thread). Call before importing any parser. */
export function installAllocationGuard(): void {
  if (installed) return;
  installed = true;
  const g = globalThis as unknown as Record<string, unknown>;
  for (const name of TYPED) {
    const ctor = g[name] as (abstract new (...args: never[]) => unknown) & { BYTES_PER_ELEMENT: number };
    const size = ctor.BYTES_PER_ELEMENT;
    g[name] = wrap(ctor, (args) => elementsOf(args) * size);
  }
  g['ArrayBuffer'] = wrap(ArrayBuffer, (args) => Number(args[0] ?? 0));
  // Node's Buffer is built on an internal Uint8Array subclass the global swap does not reach.
  const B = (g['Buffer'] as typeof Buffer | undefined);
  if (B) {
    for (const name of ['alloc', 'allocUnsafe', 'allocUnsafeSlow'] as const) {
      const original = B[name].bind(B) as (size: number, ...rest: unknown[]) => Buffer;
      (B as unknown as Record<string, unknown>)[name] = (size: number, ...rest: unknown[]) => {
        count(size);
        return original(size, ...rest);
      };
    }
  }
}

export function allocationGuardInstalled(): boolean {
  return installed;
}

/** Starts counting for one case. */
export function beginCase(budget: number): void {
  state.total = 0;
  state.largest = 0;
  state.budget = budget;
  state.exceeded = null;
  state.active = true;
}

/** Stops counting; returns what the case asked for and whether it went over. */
export function endCase(): { total: number; largest: number; exceeded: AllocationBudgetError | null } {
  state.active = false;
  return { total: state.total, largest: state.largest, exceeded: state.exceeded };
}
