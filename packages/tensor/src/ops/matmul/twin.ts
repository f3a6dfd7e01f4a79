/**
 * CPU twin of matmul (plain TypeScript over CpuTensor views, float64 accumulation,
 * rounded to f32 at the end unless an operand is f64), with the same rules as
 * op.ts (torch.matmul): 1-D operands are promoted and the added dimension
 * dropped, batch dims broadcast, views (transposes, slices) read through strides.
 * Also the analytical gradients, dA = G·Bᵀ and dB = Aᵀ·G summed over broadcast dims.
 */
import { broadcastShapes, contiguousStrides, numel } from '../../shape.js';
import { type CpuTensor, allocData } from '../../reference/cpu-tensor.js';

/** The result shape of matmul (torch rules), or a message saying why there is none. */
export function matmulShape(a: readonly number[], b: readonly number[]): number[] | string {
  if (a.length === 0 || b.length === 0) return 'both operands need at least one dimension';
  const a2 = a.length === 1 ? [1, a[0]!] : [...a];
  const b2 = b.length === 1 ? [b[0]!, 1] : [...b];
  const K = a2[a2.length - 1]!;
  if (b2[b2.length - 2] !== K) return `inner dimensions differ (${K} vs ${b2[b2.length - 2]})`;
  let batch: number[];
  try {
    batch = broadcastShapes('matmul', a2.slice(0, -2), b2.slice(0, -2));
  } catch {
    return 'batch dimensions cannot be broadcast';
  }
  const out = [...batch];
  if (a.length > 1) out.push(a2[a2.length - 2]!);
  if (b.length > 1) out.push(b2[b2.length - 1]!);
  return out;
}

interface Mat {
  /** Storage offset of element [i, j] of batch t. */
  at(t: number, i: number, j: number): number;
}

/** Reads a [..batch, rows, cols] view (1-D promoted) against the broadcast batch shape. */
function matView(x: CpuTensor, vectorAs: 'row' | 'col', batch: readonly number[]): { mat: Mat; rows: number; cols: number } {
  let shape = [...x.shape];
  let strides = [...x.strides];
  if (shape.length === 1) {
    shape = vectorAs === 'row' ? [1, shape[0]!] : [shape[0]!, 1];
    strides = vectorAs === 'row' ? [0, strides[0]!] : [strides[0]!, 0];
  }
  const r = shape.length;
  const rows = shape[r - 2]!;
  const cols = shape[r - 1]!;
  const [sr, sc] = [strides[r - 2]!, strides[r - 1]!];
  const lead = batch.length - (r - 2);
  const bStrides = batch.map((_d, i) => (i < lead || shape[i - lead] === 1 ? 0 : strides[i - lead]!));
  const bDense = contiguousStrides(batch);
  return {
    rows,
    cols,
    mat: {
      at(t, i, j) {
        let o = x.offset;
        for (let d = 0; d < batch.length; d++) o += (Math.floor(t / bDense[d]!) % batch[d]!) * bStrides[d]!;
        return o + i * sr + j * sc;
      },
    },
  };
}

function batchOf(a: CpuTensor, b: CpuTensor): number[] {
  const ab = a.shape.length >= 2 ? a.shape.slice(0, -2) : [];
  const bb = b.shape.length >= 2 ? b.shape.slice(0, -2) : [];
  return broadcastShapes('matmul', ab, bb);
}

/** matmul on the CPU: float64 accumulation, the result in f64 if an operand is f64, else f32. */
export function matmul(a: CpuTensor, b: CpuTensor): CpuTensor {
  const shape = matmulShape(a.shape, b.shape);
  if (typeof shape === 'string') throw new Error(`matmul: ${shape}: [${a.shape.join(', ')}] @ [${b.shape.join(', ')}]`);
  const batch = batchOf(a, b);
  const A = matView(a, 'row', batch);
  const B = matView(b, 'col', batch);
  const [M, K, N] = [A.rows, A.cols, B.cols];
  const nb = numel(batch);
  const dtype = a.dtype === 'f64' || b.dtype === 'f64' ? 'f64' : 'f32';
  const out = allocData(dtype, nb * M * N);
  const row = new Float64Array(N);
  for (let t = 0; t < nb; t++) {
    for (let i = 0; i < M; i++) {
      row.fill(0);
      for (let p = 0; p < K; p++) {
        const av = a.data[A.mat.at(t, i, p)]!;
        for (let j = 0; j < N; j++) row[j] += av * b.data[B.mat.at(t, p, j)]!;
      }
      out.set(row, (t * M + i) * N);
    }
  }
  return { data: out, shape, strides: contiguousStrides(shape), offset: 0, dtype };
}

/**
 * Analytical gradients of L = Σ G ⊙ matmul(a, b) (G shaped like the result), each
 * summed over the batch dims its operand was broadcast along; f64, dense, in the
 * operands' shapes.
 */
export function matmulGrad(a: CpuTensor, b: CpuTensor, g: CpuTensor): { da: CpuTensor; db: CpuTensor } {
  const batch = batchOf(a, b);
  const A = matView(a, 'row', batch);
  const B = matView(b, 'col', batch);
  const [M, K, N] = [A.rows, A.cols, B.cols];
  const nb = numel(batch);
  // Dense gradients in the operands' own (promoted) layouts, indexed like their data.
  const denseOf = (x: CpuTensor, vectorAs: 'row' | 'col') => {
    const shape = [...x.shape];
    const d: CpuTensor = { data: new Float64Array(numel(shape)), shape, strides: contiguousStrides(shape), offset: 0, dtype: 'f64' };
    return { t: d, view: matView(d, vectorAs, batch).mat };
  };
  const da = denseOf(a, 'row');
  const db = denseOf(b, 'col');
  const gAt = (t: number, i: number, j: number) => {
    // g has the result shape: [..batch, M?, N?] with the vector dims dropped.
    let flat = t * M * N + i * N + j;
    let o = g.offset;
    for (let d = g.shape.length - 1; d >= 0; d--) {
      o += (flat % g.shape[d]!) * g.strides[d]!;
      flat = Math.floor(flat / g.shape[d]!);
    }
    return g.data[o]!;
  };
  for (let t = 0; t < nb; t++) {
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        const gv = gAt(t, i, j);
        if (gv === 0) continue;
        for (let p = 0; p < K; p++) {
          da.t.data[da.view.at(t, i, p)] += gv * b.data[B.mat.at(t, p, j)]!;
          db.t.data[db.view.at(t, p, j)] += gv * a.data[A.mat.at(t, i, p)]!;
        }
      }
    }
  }
  return { da: da.t, db: db.t };
}
