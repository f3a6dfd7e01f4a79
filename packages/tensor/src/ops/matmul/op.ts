/**
 * matmul, declared once: torch.matmul semantics (1-D operands promoted and the added
 * dimension dropped, batch dimensions broadcast), f32. Operands that are transposed
 * views (one of the two inner strides is 1) are read in place — the layout is baked
 * into the GEMM kernel — so `a.transpose()` costs no copy; other layouts are made
 * contiguous first. The backward uses the same generator on transposed views:
 * dA = dC·Bᵀ, dB = Aᵀ·dC, summed over the batch dims each operand was broadcast along.
 */
import {
  MAX_BATCH_RANK,
  runGemm,
  stridedEpilogue,
  stridedOperand,
  stridedParamValues,
  type GemmVariant,
  type OperandHook,
} from '../../kernels/gemm.js';
import { TesseraError, fmtShape } from '../../runtime/errors.js';
import { recordGemms, tuneGemms } from '../../kernels/gemm-tuner.js';
import { broadcastShapes, broadcastStrides, coalesce, numel } from '../../shape.js';
import type { Tensor } from '../../tensor.js';
import { defineOp } from '../registry.js';
import { tidy } from '../../autograd/scope.js';
import { newTensor, requireDtype } from '../util.js';
import { tensor } from '../create.js';
import { sumToShape } from '../reduce/op.js';
import { reshape, transpose, contiguous } from '../views/op.js';

export { setGemmVariant, chooseGemmVariant, probeGemmSubgroupSize, gemmVariantUnsupported, type GemmVariant } from '../../kernels/gemm.js';

interface Operand {
  hook: OperandHook;
  buffers: GPUBuffer[];
  params: Record<string, number>;
}

const aligned = (...xs: number[]): boolean => xs.every((x) => x % 4 === 0);

/**
 * The GEMM hook for a [..batch, rows, cols] view: row-major when the last stride is 1,
 * column-major (a transposed view) when the second-to-last is, else null (copy needed).
 */
function operandFor(role: 'A' | 'B', t: Tensor, batchStrides: readonly number[], batchShape: readonly number[]): Operand | null {
  const r = t.rank;
  const rows = t.shape[r - 2]!;
  const cols = t.shape[r - 1]!;
  const sr = t.strides[r - 2]!;
  const sc = t.strides[r - 1]!;
  let contiguous: 'rows' | 'cols';
  let ld: number;
  if (sc === 1 || cols === 1) {
    contiguous = 'rows';
    ld = rows === 1 ? 0 : sr;
  } else if (sr === 1 || rows === 1) {
    contiguous = 'cols';
    ld = cols === 1 ? 0 : sc;
  } else {
    return null;
  }
  const vec4 = aligned(t.offset, ld, ...batchStrides);
  // The extent along which 'mn' runs go: m (A, column-major) or n (B, row-major).
  const mnExtent = role === 'A' ? rows : cols;
  const hook = stridedOperand(role, { contiguous, batchRank: MAX_BATCH_RANK, vec4, mnMultipleOf4: mnExtent % 4 === 0 });
  const p = role === 'A' ? 'a' : 'b';
  return {
    hook,
    buffers: vec4 ? [t.buffer, t.buffer] : [t.buffer],
    params: stridedParamValues(p, { offset: t.offset, ld, batchShape, batchStrides }),
  };
}

/** Pads coalesced batch dims to MAX_BATCH_RANK (size 1, stride 0), outermost first. */
function padBatch(shape: number[], strides: number[][]): { shape: number[]; strides: number[][] } {
  const pad = MAX_BATCH_RANK - shape.length;
  return {
    shape: [...Array<number>(pad).fill(1), ...shape],
    strides: strides.map((s) => [...Array<number>(pad).fill(0), ...s]),
  };
}

export interface MatmulAttrs {
  /** Force a GEMM variant for this call (tests); undefined lets the generator choose. */
  variant?: GemmVariant;
}

/** Whether the GEMM hooks can read a [..., rows, cols] view in place (one inner stride is 1). */
function readableInPlace(t: Tensor): boolean {
  const r = t.rank;
  return t.strides[r - 1] === 1 || t.shape[r - 1] === 1 || t.strides[r - 2] === 1 || t.shape[r - 2] === 1;
}

/** Encodes out[batch] = a[batch] · b[batch] for rank ≥ 2 f32 operands with broadcast batch dims. */
function encodeMatmul(a: Tensor, b: Tensor, variant?: GemmVariant): Tensor {
  // Its own scope, so the dense copies are freed when it returns rather than with the
  // op's: in a backward, gradB runs after gradA and can reuse their memory.
  return tidy(() => encodeMatmulScoped(a, b, variant));
}

function encodeMatmulScoped(a: Tensor, b: Tensor, variant?: GemmVariant): Tensor {
  const M = a.shape[a.rank - 2]!;
  const K = a.shape[a.rank - 1]!;
  const N = b.shape[b.rank - 1]!;
  const batch = broadcastShapes('matmul', a.shape.slice(0, -2), b.shape.slice(0, -2));
  const out = newTensor([...batch, M, N], 'f32', 'matmul');
  let ta = readableInPlace(a) ? a : contiguous(a);
  let tb = readableInPlace(b) ? b : contiguous(b);
  const sc = out.strides.slice(0, -2);
  const batchStrides = (t: Tensor) => broadcastStrides(t.shape.slice(0, -2), t.strides.slice(0, -2), batch);
  let co = coalesce(batch, [batchStrides(ta), batchStrides(tb), sc]);
  if (co.shape.length > MAX_BATCH_RANK) {
    // Many interleaved broadcast dims: materialise both operands at the full batch shape.
    const dense = (t: Tensor, shape: number[]): Tensor => contiguous(t.expand(shape));
    ta = dense(ta, [...batch, M, K]);
    tb = dense(tb, [...batch, K, N]);
    co = coalesce(batch, [batchStrides(ta), batchStrides(tb), sc]);
  }
  const pb = padBatch(co.shape, co.strides);
  const oa = operandFor('A', ta, pb.strides[0]!, pb.shape)!;
  const ob = operandFor('B', tb, pb.strides[1]!, pb.shape)!;
  runGemm({
    name: 'matmul',
    M,
    N,
    K,
    batch: numel(batch),
    a: oa.hook,
    b: { ...ob.hook, batched: pb.strides[1]!.some((s) => s !== 0) },
    c: stridedEpilogue({ batchRank: MAX_BATCH_RANK, vec4: N % 4 === 0 }),
    buffers: [...oa.buffers, ...ob.buffers, out.buffer],
    params: {
      ...oa.params,
      ...ob.params,
      ...stridedParamValues('c', { offset: 0, ld: N, batchShape: pb.shape, batchStrides: pb.strides[2]! }),
    },
    variant,
  });
  return out;
}

const matmulOp = defineOp<MatmulAttrs>({
  name: 'matmul',
  forward(_ctx, [a, b], attrs) {
    return encodeMatmul(a!, b!, attrs.variant);
  },
  backward(g, { inputs: [a, b], attrs }) {
    return [gradA(g, a!, b!, attrs), gradB(g, a!, b!, attrs)];
  },
});

/** dA = dC · Bᵀ, summed to A's shape. */
function gradA(g: Tensor, a: Tensor, b: Tensor, attrs: MatmulAttrs): Tensor | null {
  if (!a.requiresGrad) return null;
  const bt = transpose(b, -1, -2);
  return reduceTo(() => encodeMatmul(g, bt, attrs.variant), a.shape);
}

/** dB = Aᵀ · dC, summed to B's shape; a 2-D B with batched A folds the batch into K. */
function gradB(g: Tensor, a: Tensor, b: Tensor, attrs: MatmulAttrs): Tensor | null {
  if (!b.requiresGrad) return null;
  if (b.rank === 2 && a.rank > 2 && a.isContiguous && g.isContiguous) {
    const a2 = reshape(a, [-1, a.shape[a.rank - 1]!]);
    const g2 = reshape(g, [-1, g.shape[g.rank - 1]!]);
    const at = transpose(a2, 0, 1);
    return encodeMatmul(at, g2, attrs.variant);
  }
  const at = transpose(a, -1, -2);
  return reduceTo(() => encodeMatmul(at, g, attrs.variant), b.shape);
}

/** Sums the product `full()` makes to `shape`, in a scope that frees the unreduced one now (gradB runs next and may reuse its memory). */
function reduceTo(full: () => Tensor, shape: readonly number[]): Tensor {
  return tidy(() => sumToShape(full(), shape));
}

/**
 * Matrix product with torch.matmul semantics: [..., M, K] @ [..., K, N] → [..., M, N]
 * with broadcast batch dims; a 1-D left operand is a row vector and a 1-D right operand
 * a column vector (the added dimension is removed from the result). f32 only.
 */
export function matmul(a: Tensor, b: Tensor, attrs: MatmulAttrs = {}): Tensor {
  requireDtype('matmul', a, 'f32');
  requireDtype('matmul', b, 'f32');
  if (a.rank === 0 || b.rank === 0) {
    throw new TesseraError(`matmul: both operands need at least one dimension, got ${fmtShape(a.shape)} @ ${fmtShape(b.shape)}`);
  }
  return tidy(() => {
    const a2 = a.rank === 1 ? reshape(a, [1, a.shape[0]!]) : a;
    const b2 = b.rank === 1 ? reshape(b, [b.shape[0]!, 1]) : b;
    const K = a2.shape[a2.rank - 1]!;
    const Kb = b2.shape[b2.rank - 2]!;
    if (K !== Kb) {
      throw new TesseraError(
        `matmul: shapes ${fmtShape(a.shape)} @ ${fmtShape(b.shape)} do not match: the left operand has ${K} columns, the right one ${Kb} rows`,
      );
    }
    try {
      broadcastShapes('matmul', a2.shape.slice(0, -2), b2.shape.slice(0, -2));
    } catch {
      throw new TesseraError(
        `matmul: the batch dimensions of ${fmtShape(a.shape)} @ ${fmtShape(b.shape)} cannot be broadcast together (${fmtShape(a2.shape.slice(0, -2))} vs ${fmtShape(b2.shape.slice(0, -2))})`,
      );
    }
    const out = matmulOp([a2, b2], attrs);
    if (a.rank !== 1 && b.rank !== 1) return out;
    // A 1-D operand's added dimension comes off the result.
    const shape = [...out.shape];
    if (b.rank === 1) shape.pop();
    if (a.rank === 1) shape.splice(shape.length - (b.rank === 1 ? 1 : 2), 1);
    return reshape(out, shape);
  });
}

export interface TuneResult {
  variant: GemmVariant;
  /** Median milliseconds per product, by variant (the ones this adapter runs). */
  ms: Partial<Record<GemmVariant, number>>;
}

/**
 * Tunes the GEMM of an M×K @ K×N matmul (see kernels/gemm-tuner.ts): measures every
 * variant this adapter runs and records the fastest correct one for that call, so later
 * matmuls of this shape use it.
 */
export async function tuneGemm(M: number, N: number, K: number, reps = 3): Promise<TuneResult> {
  // Only the call's shape is recorded (the operands are freed at once); the tuner
  // measures on buffers of its own.
  const { calls } = tidy(() => {
    const a = tensor(new Float32Array(M * K).map((_, i) => ((i * 7919) % 13) / 13 - 0.5), [M, K]);
    const b = tensor(new Float32Array(K * N).map((_, i) => ((i * 104729) % 17) / 17 - 0.5), [K, N]);
    return recordGemms(() => void matmul(a, b));
  });
  const tuned = await tuneGemms(calls, { reps, retune: true });
  return tuned[calls[0]!.key]!;
}
