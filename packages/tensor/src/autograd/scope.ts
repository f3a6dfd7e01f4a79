/**
 * tidy(): the memory scope. Every tensor created inside is disposed when the scope
 * ends, except the ones it returns and the ones marked keep() (parameters,
 * gradients, optimizer state). Without explicit scopes, GPU memory would wait for
 * the garbage collector, which does not know how large GPU buffers are.
 */
import type { Tensor } from '../tensor.js';
import { TesseraError } from '../runtime/errors.js';

const scopes: Set<Tensor>[] = [];

export function track(t: Tensor): void {
  scopes[scopes.length - 1]?.add(t);
}

export function untrack(t: Tensor): void {
  for (let i = scopes.length - 1; i >= 0; i--) if (scopes[i]!.delete(t)) return;
}

type Tensors = Tensor | Tensor[] | Record<string, Tensor> | void | number | undefined | null;

/** Finds the tensors in a result (nested arrays/objects); skips typed arrays and cycles. */
function collect(result: unknown, out: Set<Tensor>, seen = new Set<object>()): void {
  if (!result || typeof result !== 'object' || ArrayBuffer.isView(result) || seen.has(result)) return;
  seen.add(result);
  if ((result as Tensor).shape && typeof (result as Tensor).dispose === 'function') {
    out.add(result as Tensor);
    return;
  }
  for (const v of Object.values(result as object)) collect(v, out, seen);
}

function isThenable(v: unknown): boolean {
  return !!v && typeof (v as { then?: unknown }).then === 'function';
}

/** Disposes what the scope created, except survivors and kept tensors; survivors move to the parent scope. */
function close(scope: Set<Tensor>, result: unknown): void {
  const survivors = new Set<Tensor>();
  collect(result, survivors);
  for (const t of scope) if (!survivors.has(t) && !t.kept) t.dispose();
  for (const t of survivors) if (scope.has(t)) track(t);
}

/**
 * Runs fn; disposes every tensor it created that is not returned or kept. If fn
 * throws, everything it created is disposed (nothing was returned).
 */
export function tidy<T extends Tensors | object>(fn: () => T): T {
  const scope = new Set<Tensor>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    scopes.pop();
    close(scope, undefined);
    throw e;
  }
  scopes.pop();
  if (isThenable(result)) {
    close(scope, undefined);
    throw new TesseraError('tidy: the function returned a promise; use tidyAsync for async work');
  }
  close(scope, result);
  return result;
}

/** Async variant: the scope spans the awaited function. Do not interleave two of them. */
export async function tidyAsync<T>(fn: () => Promise<T>): Promise<T> {
  const scope = new Set<Tensor>();
  scopes.push(scope);
  const leave = (): void => {
    const i = scopes.lastIndexOf(scope);
    if (i >= 0) scopes.splice(i, 1);
  };
  let result: T;
  try {
    result = await fn();
  } catch (e) {
    leave();
    close(scope, undefined);
    throw e;
  }
  leave();
  close(scope, result);
  return result;
}
