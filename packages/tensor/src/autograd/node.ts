/**
 * One recorded op application in the autograd graph: its inputs, the tensors its
 * backward needs, and the backward itself. Saved tensors are released as soon as
 * the backward pass has used them.
 */
import type { Tensor } from '../tensor.js';

export type BackwardFn = (grad: Tensor) => (Tensor | null | undefined)[];

export class Node {
  private released = false;
  constructor(
    readonly op: string,
    readonly inputs: readonly Tensor[],
    private backwardFn: BackwardFn | null,
    /** Tensors created by the forward for the backward's use only (owned by the node). */
    private owned: Tensor[],
  ) {
    for (const t of inputs) t.hold();
  }

  backward(grad: Tensor): (Tensor | null | undefined)[] {
    if (this.released || !this.backwardFn) {
      throw new Error(
        `backward through ${this.op} a second time: its saved tensors were already freed (call backward({ retainGraph: true }) the first time)`,
      );
    }
    return this.backwardFn(grad);
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.backwardFn = null;
    for (const t of this.owned) t.dispose();
    this.owned = [];
    for (const t of this.inputs) t.unhold();
  }
}
