/**
 * CPU twin of matmul (plain TypeScript, float64 accumulation): the reference the
 * GPU kernels are tested against. Same shape rules as ops/matmul.ts (torch.matmul):
 * 1-D operands are promoted (and the added dimension dropped), batch dims broadcast.
 */
import { broadcastShapes, contiguousStrides, numel } from '../shape.js';

export interface HostTensor {
  data: Float32Array | Float64Array | number[];
  shape: readonly number[];
}

/** C = A·B for row-major dense 2-D data: A is m×k, B is k×n. */
export function matmul2dRef(a: ArrayLike<number>, b: ArrayLike<number>, m: number, k: number, n: number): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < k; p++) {
      const av = a[i * k + p]!;
      if (av === 0) continue;
      const row = p * n;
      const out = i * n;
      for (let j = 0; j < n; j++) c[out + j] += av * b[row + j]!;
    }
  }
  return c;
}

/** The result shape of matmul (torch rules), or an error message. */
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

/** Batched, broadcasting matmul on dense row-major host data. */
export function matmulRef(a: HostTensor, b: HostTensor): { data: Float64Array; shape: number[] } {
  const shape = matmulShape(a.shape, b.shape);
  if (typeof shape === 'string') throw new Error(`matmulRef: ${shape}`);
  const a2 = a.shape.length === 1 ? [1, a.shape[0]!] : [...a.shape];
  const b2 = b.shape.length === 1 ? [b.shape[0]!, 1] : [...b.shape];
  const M = a2[a2.length - 2]!;
  const K = a2[a2.length - 1]!;
  const N = b2[b2.length - 1]!;
  const aBatch = a2.slice(0, -2);
  const bBatch = b2.slice(0, -2);
  const batch = broadcastShapes('matmul', aBatch, bBatch);
  const nb = numel(batch);
  const out = new Float64Array(nb * M * N);
  const bs = contiguousStrides(batch);
  const offsetIn = (idx: number[], shape: number[], mat: number): number => {
    const st = contiguousStrides(shape);
    let o = 0;
    const lead = idx.length - shape.length;
    shape.forEach((d, i) => (o += (d === 1 ? 0 : idx[lead + i]!) * st[i]!));
    return o * mat;
  };
  for (let t = 0; t < nb; t++) {
    const idx = bs.map((s, i) => Math.floor(t / s) % batch[i]!);
    const ao = offsetIn(idx, aBatch, M * K);
    const bo = offsetIn(idx, bBatch, K * N);
    const c = matmul2dRef(
      Array.prototype.slice.call(a.data, ao, ao + M * K) as number[],
      Array.prototype.slice.call(b.data, bo, bo + K * N) as number[],
      M,
      K,
      N,
    );
    out.set(c, t * M * N);
  }
  return { data: out, shape };
}

/** Row-major transpose of an m×n matrix. */
export function transposeRef(a: ArrayLike<number>, m: number, n: number): Float64Array {
  const t = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) t[j * m + i] = a[i * n + j]!;
  return t;
}

/**
 * Gradients of sum(G ⊙ (A·B)) for batched broadcasting matmul: dA = G·Bᵀ, dB = Aᵀ·G,
 * each summed over the batch dims its operand was broadcast along.
 */
export function matmulGradRef(a: HostTensor, b: HostTensor, g: HostTensor): { da: Float64Array; db: Float64Array } {
  const a2 = a.shape.length === 1 ? [1, a.shape[0]!] : [...a.shape];
  const b2 = b.shape.length === 1 ? [b.shape[0]!, 1] : [...b.shape];
  const M = a2[a2.length - 2]!;
  const K = a2[a2.length - 1]!;
  const N = b2[b2.length - 1]!;
  const aBatch = a2.slice(0, -2);
  const bBatch = b2.slice(0, -2);
  const batch = broadcastShapes('matmul', aBatch, bBatch);
  const nb = numel(batch);
  const da = new Float64Array(numel(a2));
  const db = new Float64Array(numel(b2));
  const bs = contiguousStrides(batch);
  const offsetIn = (idx: number[], shape: number[], mat: number): number => {
    const st = contiguousStrides(shape);
    let o = 0;
    const lead = idx.length - shape.length;
    shape.forEach((d, i) => (o += (d === 1 ? 0 : idx[lead + i]!) * st[i]!));
    return o * mat;
  };
  for (let t = 0; t < nb; t++) {
    const idx = bs.map((s, i) => Math.floor(t / s) % batch[i]!);
    const ao = offsetIn(idx, aBatch, M * K);
    const bo = offsetIn(idx, bBatch, K * N);
    const go = t * M * N;
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        const gv = g.data[go + i * N + j]!;
        if (gv === 0) continue;
        for (let p = 0; p < K; p++) {
          da[ao + i * K + p] += gv * b.data[bo + p * N + j]!;
          db[bo + p * N + j] += gv * a.data[ao + i * K + p]!;
        }
      }
    }
  }
  return { da, db };
}
