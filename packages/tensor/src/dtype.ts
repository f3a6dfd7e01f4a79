/** Element types. All are 4 bytes wide, so one buffer pool serves them all. */
export type DType = 'f32' | 'i32' | 'u32';

export const BYTES_PER_ELEMENT = 4;

export type TypedArrayFor<D extends DType> = D extends 'f32' ? Float32Array : D extends 'i32' ? Int32Array : Uint32Array;

export function arrayFor(d: DType, n: number | ArrayBuffer): Float32Array | Int32Array | Uint32Array {
  if (typeof n === 'number') return d === 'f32' ? new Float32Array(n) : d === 'i32' ? new Int32Array(n) : new Uint32Array(n);
  return d === 'f32' ? new Float32Array(n) : d === 'i32' ? new Int32Array(n) : new Uint32Array(n);
}
