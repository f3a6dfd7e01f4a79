/**
 * The few ops the autograd engine itself needs, registered by the op modules at
 * import time. This breaks the import cycle engine → ops → tensor → engine.
 */
import type { Tensor } from '../tensor.js';

export interface EngineOps {
  add(a: Tensor, b: Tensor): Tensor;
  onesLike(t: Tensor): Tensor;
  copy(t: Tensor): Tensor;
}

let impl: EngineOps | undefined;

export function registerEngineOps(o: EngineOps): void {
  impl = o;
}

export function ops(): EngineOps {
  if (!impl) throw new Error('internal: tensor ops were not registered (import @tessera/tensor, not its files)');
  return impl;
}
