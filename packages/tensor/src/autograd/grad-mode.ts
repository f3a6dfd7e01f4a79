/**
 * Whether ops record the autograd graph, and whether the backward pass is running.
 * The latter lets the engine use tensors the user already disposed while the graph
 * still holds them (their storage is kept alive for exactly this), while user code
 * touching a disposed tensor gets an error.
 */
let enabled = true;
let backwardDepth = 0;

export function isGradEnabled(): boolean {
  return enabled;
}

/** Runs fn without recording gradients (evaluation, optimizer updates). */
export function noGrad<T>(fn: () => T): T {
  const prev = enabled;
  enabled = false;
  try {
    return fn();
  } finally {
    enabled = prev;
  }
}

/** True while the engine runs backward functions (see Tensor.storage). */
export function inBackward(): boolean {
  return backwardDepth > 0;
}

/** Runs fn as part of the backward pass. */
export function asBackward<T>(fn: () => T): T {
  backwardDepth++;
  try {
    return fn();
  } finally {
    backwardDepth--;
  }
}
