/**
 * Reverse-mode differentiation over the recorded graph: topological order from the
 * root, gradients accumulated per tensor, intermediate gradients disposed the
 * moment they have been propagated, leaf gradients accumulated into `.grad`.
 */
import { Tensor } from '../tensor.js';
import { TesseraError, fmtShape } from '../runtime/errors.js';
import { sameShape } from '../shape.js';
import type { Node } from './node.js';
import { noGrad } from './grad-mode.js';
import { ops } from './ops-hook.js';

export interface BackwardOptions {
  /** Gradient of the root; defaults to 1 for a scalar root. */
  grad?: Tensor;
  /** Keep the graph's saved tensors for a second backward. */
  retainGraph?: boolean;
}

function topoOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Node>();
  // Iterative DFS: ResNet graphs are deep enough to make recursion risky.
  const stack: [Tensor, number][] = [[root, 0]];
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    const [t, i] = top;
    const node = t.node;
    if (!node) {
      stack.pop();
      continue;
    }
    if (i === 0) {
      if (seen.has(node)) {
        stack.pop();
        continue;
      }
      seen.add(node);
    }
    if (i < node.inputs.length) {
      top[1]++;
      const inp = node.inputs[i]!;
      if (inp.node && !seen.has(inp.node)) stack.push([inp, 0]);
    } else {
      stack.pop();
      order.push(t);
    }
  }
  return order.reverse();
}

export function backward(root: Tensor, opts: BackwardOptions = {}): void {
  if (!root.requiresGrad) throw new TesseraError('backward: the tensor does not require grad (no input of its graph requires it)');
  if (!opts.grad && root.size !== 1) {
    throw new TesseraError(`backward: the root must be a scalar, got shape ${fmtShape(root.shape)}; pass { grad } for non-scalar roots`);
  }
  noGrad(() => {
    const grads = new Map<Tensor, Tensor>();
    // The seed is always our own copy, so every gradient in flight is owned by the engine.
    const seed = opts.grad ? ops().copy(opts.grad) : ops().onesLike(root);
    if (!sameShape(seed.shape, root.shape)) {
      throw new TesseraError(`backward: grad shape ${fmtShape(seed.shape)} does not match the root's ${fmtShape(root.shape)}`);
    }
    grads.set(root, seed);
    const order = root.node ? topoOrder(root) : [root];
    // Hold every tensor on the path so none is freed (with its node) before its turn.
    for (const t of order) t.hold();
    for (const t of order) {
      processTensor(t);
      t.unhold();
    }
    for (const g of grads.values()) g.dispose();

    function processTensor(t: Tensor): void {
      const g = grads.get(t);
      grads.delete(t);
      const node = t.node;
      if (!g) return;
      if (!node) {
        accumulateLeaf(t, g);
        return;
      }
      const inGrads = node.backward(g);
      // The same tensor returned for two inputs (x + x) must become two owned gradients.
      inGrads.forEach((gi, i) => {
        if (gi && inGrads.indexOf(gi) !== i) inGrads[i] = ops().copy(gi);
      });
      // A backward may pass its incoming gradient straight through (add, reshape views share storage).
      if (!inGrads.includes(g)) g.dispose();
      node.inputs.forEach((inp, i) => {
        const gi = inGrads[i];
        if (!gi) return;
        if (!inp.requiresGrad) {
          gi.dispose();
          return;
        }
        if (!sameShape(gi.shape, inp.shape)) {
          throw new Error(`internal: ${node.op} backward gave grad ${fmtShape(gi.shape)} for input ${fmtShape(inp.shape)}`);
        }
        if (inp.node) {
          const prev = grads.get(inp);
          if (prev) {
            grads.set(inp, ops().add(prev, gi));
            prev.dispose();
            gi.dispose();
          } else grads.set(inp, gi);
        } else {
          accumulateLeaf(inp, gi);
        }
      });
      if (!opts.retainGraph) {
        node.release();
        t.node = null;
      }
    }
  });
}

function accumulateLeaf(t: Tensor, g: Tensor): void {
  if (!t.requiresGrad) return;
  // .grad must be dense and must not share storage with anything else in flight.
  const gc = g.isContiguous && g.storage.refs === 1 ? g : ops().copy(g);
  if (gc !== g) g.dispose();
  if (t.grad) {
    const sum = ops().add(t.grad, gc);
    t.grad.dispose();
    gc.dispose();
    t.grad = sum.keep();
  } else {
    t.grad = gc.keep();
  }
}
