// Bytes ↔ typed arrays for each stored dtype. Every format here stores elements
// little-endian; decoding copies into a fresh, aligned buffer (file slices are rarely
// aligned for Float32Array views) and byte-swaps when the host or file is big-endian.

import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from './half.js';
import { DTYPE_BYTES, type DType, type RawTensor, type TensorData } from './types.js';

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Decodes `bytes` (a whole number of elements) stored as `dtype`.
 * @param fileLittleEndian the byte order of the file; everything but old big-endian
 *   PyTorch archives is little-endian.
 */
export function decodeElements(dtype: DType, bytes: Uint8Array, fileLittleEndian = true): TensorData {
  const size = DTYPE_BYTES[dtype];
  if (bytes.byteLength % size !== 0) {
    throw new RangeError(`${bytes.byteLength} bytes is not a whole number of ${dtype} elements`);
  }
  // new Uint8Array(view) copies into a fresh buffer; Buffer#slice would not (it is a view).
  const copy = new Uint8Array(bytes);
  if (HOST_LITTLE_ENDIAN !== fileLittleEndian) swapBytes(copy, size);
  const buf = copy.buffer;
  const n = copy.byteLength / size;
  switch (dtype) {
    case 'f64': return new Float64Array(buf, 0, n);
    case 'f32': return new Float32Array(buf, 0, n);
    case 'f16': return f16ToF32(new Uint16Array(buf, 0, n));
    case 'bf16': return bf16ToF32(new Uint16Array(buf, 0, n));
    case 'i64': return new BigInt64Array(buf, 0, n);
    case 'i32': return new Int32Array(buf, 0, n);
    case 'i16': return new Int16Array(buf, 0, n);
    case 'i8': return new Int8Array(buf, 0, n);
    case 'u8':
    case 'bool': return copy;
  }
}

/**
 * Encodes a tensor's data as little-endian bytes of its dtype. `data` must be the
 * array type a reader would produce for that dtype (Float32Array for f16/bf16,
 * BigInt64Array for i64, ...): silent numeric conversion would hide caller bugs.
 * On little-endian hosts the result may be a view of `t.data`: treat it as read-only.
 */
export function encodeElements(t: RawTensor): Uint8Array {
  const expected = ARRAY_FOR[t.dtype];
  if (!(t.data instanceof expected)) {
    throw new TypeError(`dtype ${t.dtype} needs its data as ${expected.name}, got ${t.data.constructor.name}`);
  }
  let view: ArrayBufferView;
  if (t.dtype === 'f16') view = f32ToF16(t.data as Float32Array);
  else if (t.dtype === 'bf16') view = f32ToBf16(t.data as Float32Array);
  else view = t.data;
  const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  if (HOST_LITTLE_ENDIAN) return bytes; // a view: callers only write it out
  const swapped = new Uint8Array(bytes);
  swapBytes(swapped, DTYPE_BYTES[t.dtype]);
  return swapped;
}

const ARRAY_FOR: Record<DType, abstract new (...args: never[]) => TensorData> = {
  f64: Float64Array, f32: Float32Array, f16: Float32Array, bf16: Float32Array,
  i64: BigInt64Array, i32: Int32Array, i16: Int16Array, i8: Int8Array, u8: Uint8Array, bool: Uint8Array,
};

function swapBytes(bytes: Uint8Array, size: number): void {
  if (size === 1) return;
  for (let i = 0; i < bytes.length; i += size) bytes.subarray(i, i + size).reverse();
}
