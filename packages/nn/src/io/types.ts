// The neutral in-memory form every weight reader produces and every writer consumes.
// Readers decode to JS-native arrays (f16/bf16 widen to Float32Array) so model code
// never deals with file encodings; `dtype` keeps the stored type so a writer can
// round-trip a half-precision file without silently doubling its size.

/** Element types a weight file may store. */
export type DType = 'f64' | 'f32' | 'f16' | 'bf16' | 'i64' | 'i32' | 'i16' | 'i8' | 'u8' | 'bool';

/** Decoded element storage. f16/bf16 decode to Float32Array, bool to Uint8Array (0/1). */
export type TensorData =
  | Float64Array
  | Float32Array
  | BigInt64Array
  | Int32Array
  | Int16Array
  | Int8Array
  | Uint8Array;

/** One tensor as read from (or to be written to) a weight file: dense, row-major, contiguous. */
export interface RawTensor {
  /** Element type in the file (the decoded `data` may be wider: f16 → Float32Array). */
  dtype: DType;
  shape: number[];
  data: TensorData;
}

/** Tensors by name, in file order. */
export type StateDict = Map<string, RawTensor>;

/** Bytes per element as stored in a file. */
export const DTYPE_BYTES: Readonly<Record<DType, number>> = {
  f64: 8, f32: 4, f16: 2, bf16: 2, i64: 8, i32: 4, i16: 2, i8: 1, u8: 1, bool: 1,
};

/** Number of elements of a shape; [] (a scalar) has one. */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * The values as float32, whatever the stored type: what GPU parameters are made of.
 * int64 goes through Number (exact up to 2^53, which covers counters and indices).
 */
export function toFloat32(t: RawTensor): Float32Array {
  if (t.data instanceof Float32Array) return t.data;
  const out = new Float32Array(t.data.length);
  if (t.data instanceof BigInt64Array) {
    for (let i = 0; i < out.length; i++) out[i] = Number(t.data[i]);
  } else {
    out.set(t.data);
  }
  return out;
}

/** The values as plain numbers (int64 via Number: exact up to 2^53). */
export function toNumbers(t: RawTensor): number[] {
  return Array.from(t.data as ArrayLike<number | bigint>, (v) => Number(v));
}
