/**
 * One recorded op application in the autograd graph: its inputs, the tensors its
 * backward needs, and the backward itself. Saved tensors are released as soon as
 * the backward pass has used them. A released node stays attached to its output
 * (with no inputs), so a second backward through it is an error rather than a
 * silent "this is a leaf".
 */
import type { Tensor } from '../tensor.js';
import { TesseraError } from '../runtime/errors.js';

export type BackwardFn = (grad: Tensor) => (Tensor | null | undefined)[];

export class Node {
  private _released = false;
  private _inputs: readonly Tensor[];
  constructor(
    readonly op: string,
    inputs: readonly Tensor[],
    private backwardFn: BackwardFn | null,
    /** Tensors created by the forward for the backward's use only (owned by the node). */
    private owned: Tensor[],
  ) {
    this._inputs = inputs;
    for (const t of inputs) t.hold();
  }

  /** The op's inputs; empty once released (so the graph behind can be collected). */
  get inputs(): readonly Tensor[] {
    return this._inputs;
  }

  get released(): boolean {
    return this._released;
  }

  backward(grad: Tensor): (Tensor | null | undefined)[] {
    if (this._released || !this.backwardFn) throw secondBackwardError(this.op);
    return this.backwardFn(grad);
  }

  release(): void {
    if (this._released) return;
    this._released = true;
    this.backwardFn = null;
    for (const t of this.owned) t.dispose();
    this.owned = [];
    const inputs = this._inputs;
    this._inputs = [];
    for (const t of inputs) t.unhold();
  }
}

export function secondBackwardError(op: string): TesseraError {
  return new TesseraError(
    `backward through ${op} a second time: its saved tensors were already freed ` +
      '(pass { retainGraph: true } to the first backward to keep them)',
  );
}
