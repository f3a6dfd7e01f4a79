/**
 * Typed arrays as base64 text, for the PyTorch cases that cross from the browser to the
 * test server (vitest browser commands pass JSON). Plain TypeScript: used on both sides.
 */
export interface WireArray {
  dtype: 'f32' | 'i32' | 'f64';
  b64: string;
}

function bytesOf(a: Float32Array | Int32Array | Float64Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

export function toWire(a: Float32Array | Int32Array | Float64Array): WireArray {
  const bytes = bytesOf(a);
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return { dtype: a instanceof Float64Array ? 'f64' : a instanceof Int32Array ? 'i32' : 'f32', b64: btoa(bin) };
}

export function fromWire(w: WireArray): Float32Array | Int32Array | Float64Array {
  const bin = atob(w.b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  if (w.dtype === 'f64') return new Float64Array(bytes.buffer);
  return w.dtype === 'i32' ? new Int32Array(bytes.buffer) : new Float32Array(bytes.buffer);
}
