/**
 * A TensorProto's values as JavaScript arrays: float tensors as Float32Array, integer tensors
 * (shapes, axes) as numbers. Values live in raw_data (little-endian), in the typed repeated
 * fields, or — for large models — in a file beside the graph (external data), which the caller
 * reads through `external`.
 */
import { TesseraError } from '@tessera/tensor';
import { DataType, toNumber, type TensorProto } from '../proto/onnx.js';

/** Marks an initializer whose values were left out (graph-file.ts). */
export const STRIPPED = 'tessera:weights-in-model-file';

export interface ConstTensor {
  dims: number[];
  /** 'float' for FLOAT / DOUBLE / FLOAT16, 'int' for the integer types. */
  kind: 'float' | 'int';
  data: Float32Array;
}

/** Reads `length` bytes at `offset` of an external data file named `location` (relative to the model). */
export type ExternalDataReader = (location: string, offset: number, length: number | null) => Uint8Array;

const BYTES: Record<number, number> = {
  [DataType.FLOAT]: 4, [DataType.DOUBLE]: 8, [DataType.INT64]: 8, [DataType.INT32]: 4, [DataType.INT8]: 1, [DataType.UINT8]: 1, [DataType.FLOAT16]: 2,
};

function half(bits: number): number {
  const s = bits & 0x8000 ? -1 : 1;
  const e = (bits >> 10) & 0x1f;
  const f = bits & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

function fromBytes(type: number, bytes: Uint8Array, n: number, what: string): Float32Array {
  const need = n * BYTES[type]!;
  if (bytes.length !== need) throw new TesseraError(`${what}: holds ${bytes.length} bytes, its shape needs ${need}`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    switch (type) {
      case DataType.FLOAT: out[i] = v.getFloat32(i * 4, true); break;
      case DataType.DOUBLE: out[i] = v.getFloat64(i * 8, true); break;
      case DataType.INT64: out[i] = Number(v.getBigInt64(i * 8, true)); break;
      case DataType.INT32: out[i] = v.getInt32(i * 4, true); break;
      case DataType.INT8: out[i] = v.getInt8(i); break;
      case DataType.UINT8: out[i] = v.getUint8(i); break;
      case DataType.FLOAT16: out[i] = half(v.getUint16(i * 2, true)); break;
    }
  }
  return out;
}

/** Decodes `t`; `what` names it in errors (e.g. "initializer conv1.weight"). */
export function readTensor(t: TensorProto, what: string, external?: ExternalDataReader): ConstTensor {
  const type = t.dataType ?? 0;
  if (!(type in BYTES)) throw new TesseraError(`${what}: data type ${type} is not supported (float, double, float16, int64, int32, int8, uint8 are)`);
  const dims = (t.dims ?? []).map(toNumber);
  const n = dims.reduce((a, b) => a * b, 1);
  const kind = type === DataType.FLOAT || type === DataType.DOUBLE || type === DataType.FLOAT16 ? 'float' : 'int';
  let data: Float32Array;
  if (t.docString === STRIPPED) {
    // A weight left out of a graph kept in a model file: the file's tensors fill it.
    data = new Float32Array(n);
  } else if (t.dataLocation === 1) {
    const entries = new Map((t.externalData ?? []).map((e) => [e.key ?? '', e.value ?? '']));
    const location = entries.get('location');
    if (!location) throw new TesseraError(`${what}: external data without a location`);
    if (!external) throw new TesseraError(`${what}: its values are in an external file '${location}'; load the model from a file so the file beside it can be read`);
    const offset = Number(entries.get('offset') ?? 0);
    const length = entries.has('length') ? Number(entries.get('length')) : null;
    data = fromBytes(type, external(location, offset, length ?? n * BYTES[type]!), n, what);
  } else if (t.rawData && t.rawData.length > 0) {
    data = fromBytes(type, t.rawData, n, what);
  } else {
    const src: number[] =
      type === DataType.FLOAT ? (t.floatData ?? [])
        : type === DataType.DOUBLE ? (t.doubleData ?? [])
          : type === DataType.INT64 ? (t.int64Data ?? []).map(toNumber)
            : type === DataType.FLOAT16 ? (t.int32Data ?? []).map(half)
              : (t.int32Data ?? []);
    if (src.length !== n) throw new TesseraError(`${what}: holds ${src.length} values, its shape [${dims.join(', ')}] needs ${n}`);
    data = Float32Array.from(src);
  }
  return { dims, kind, data };
}
