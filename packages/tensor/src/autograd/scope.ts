/**
 * tidy(): the memory scope. Every tensor created inside is disposed when the scope
 * ends, except the ones it returns and the ones marked keep() (parameters,
 * gradients, optimizer state). Without explicit scopes, GPU memory would wait for
 * the garbage collector, which does not know how large GPU buffers are.
 */
import type { Tensor } from '../tensor.js';

const scopes: Set<Tensor>[] = [];

export function track(t: Tensor): void {
  scopes[scopes.length - 1]?.add(t);
}

export function untrack(t: Tensor): void {
  for (let i = scopes.length - 1; i >= 0; i--) if (scopes[i]!.delete(t)) return;
}

type Tensors = Tensor | Tensor[] | Record<string, Tensor> | void | number | undefined | null;

function collect(result: unknown, out: Set<Tensor>): void {
  if (!result || typeof result !== 'object') return;
  if ((result as Tensor).shape && typeof (result as Tensor).dispose === 'function') {
    out.add(result as Tensor);
    return;
  }
  for (const v of Object.values(result as object)) collect(v, out);
}

/** Runs fn; disposes every tensor it created that is not returned or kept. */
export function tidy<T extends Tensors | object>(fn: () => T): T {
  const scope = new Set<Tensor>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } finally {
    scopes.pop();
  }
  const survivors = new Set<Tensor>();
  collect(result, survivors);
  for (const t of scope) {
    if (survivors.has(t) || t.kept) continue;
    t.dispose();
  }
  for (const t of survivors) if (scope.has(t)) track(t);
  return result;
}

/** Async variant: the scope spans the awaited function. Do not interleave two of them. */
export async function tidyAsync<T>(fn: () => Promise<T>): Promise<T> {
  const scope = new Set<Tensor>();
  scopes.push(scope);
  let result: T;
  try {
    result = await fn();
  } finally {
    const i = scopes.lastIndexOf(scope);
    if (i >= 0) scopes.splice(i, 1);
  }
  const survivors = new Set<Tensor>();
  collect(result, survivors);
  for (const t of scope) if (!survivors.has(t) && !t.kept) t.dispose();
  for (const t of survivors) if (scope.has(t)) track(t);
  return result;
}
