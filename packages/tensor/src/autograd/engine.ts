/**
 * Reverse-mode differentiation over the recorded graph: topological order from the
 * root, gradients accumulated per tensor, intermediate gradients disposed the
 * moment they have been propagated, leaf gradients accumulated into `.grad`.
 * Nodes are released as soon as their backward ran (unless retainGraph), which
 * frees their saved tensors and lets held intermediates go.
 */
import { Tensor } from '../tensor.js';
import { TesseraError, fmtShape } from '../runtime/errors.js';
import { sameShape } from '../shape.js';
import { type Node, secondBackwardError } from './node.js';
import { asBackward, noGrad } from './grad-mode.js';
import { ops } from './ops-hook.js';

export interface BackwardOptions {
  /** Gradient of the root; defaults to 1 for a scalar root. */
  grad?: Tensor;
  /** Keep the graph's saved tensors for a second backward. */
  retainGraph?: boolean;
}

/** Non-leaf tensors reachable from the root, each before all of its inputs. */
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
  root.assertAlive('backward');
  if (!root.requiresGrad) throw new TesseraError('backward: the tensor does not require grad (no input of its graph requires it)');
  if (!opts.grad && root.size !== 1) {
    throw new TesseraError(`backward: the root must be a scalar, got shape ${fmtShape(root.shape)}; pass { grad } for non-scalar roots`);
  }
  if (opts.grad) {
    opts.grad.assertAlive('backward');
    if (!sameShape(opts.grad.shape, root.shape) || opts.grad.dtype !== 'f32') {
      throw new TesseraError(
        `backward: grad ${fmtShape(opts.grad.shape)} (${opts.grad.dtype}) does not match the root's ${fmtShape(root.shape)} (f32)`,
      );
    }
  }
  const order = root.node ? topoOrder(root) : [root];
  // Check before touching anything, so a refused backward leaves no state behind.
  for (const t of order) if (t.node?.released) throw secondBackwardError(t.node.op);

  noGrad(() =>
    asBackward(() => {
      const grads = new Map<Tensor, Tensor>();
      // The seed is always our own copy, so every gradient in flight is owned by the engine.
      grads.set(root, opts.grad ? ops().copy(opts.grad) : ops().onesLike(root));
      // Hold every tensor on the path so none is freed (with its node) before its turn.
      for (const t of order) t.hold();
      let i = 0;
      try {
        for (; i < order.length; i++) {
          processTensor(order[i]!);
          order[i]!.unhold();
        }
      } finally {
        for (let j = i; j < order.length; j++) order[j]!.unhold();
        for (const g of grads.values()) g.dispose();
      }

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
        const inputs = node.inputs;
        // The same tensor returned for two inputs (x + x) must become two owned gradients.
        inGrads.forEach((gi, k) => {
          if (gi && inGrads.indexOf(gi) !== k) inGrads[k] = ops().copy(gi);
        });
        // A backward may pass its incoming gradient straight through (add, reshape views share storage).
        if (!inGrads.includes(g)) g.dispose();
        inputs.forEach((inp, k) => {
          const gi = inGrads[k];
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
        // Backward functions only return gradients for the node's inputs.
        for (let k = inputs.length; k < inGrads.length; k++) inGrads[k]?.dispose();
        if (!opts.retainGraph) node.release();
      }
    }),
  );
}

function accumulateLeaf(t: Tensor, g: Tensor): void {
  if (!t.requiresGrad) {
    g.dispose();
    return;
  }
  // .grad must be dense and must not share storage with anything else in flight.
  const gc = g.isContiguous && g.offset === 0 && g.storage.refs === 1 ? g : ops().copy(g);
  if (gc !== g) g.dispose();
  if (t.grad && !t.grad.isDisposed) {
    const sum = ops().add(t.grad, gc);
    t.grad.dispose();
    gc.dispose();
    t.grad = sum.keep();
  } else {
    t.grad = gc.keep();
  }
}
