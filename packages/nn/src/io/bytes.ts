/** The typed arrays one after another, in one new array made by `make(totalLength)`. */
export function concatArrays<T extends Uint8Array | Int32Array | Float32Array>(parts: Iterable<T>, make: (length: number) => T): T {
  const list = [...parts];
  const out = make(list.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of list) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The byte arrays (or a sequence of chunks) one after another, in one new array. */
export function concatBytes(parts: Iterable<Uint8Array>): Uint8Array {
  return concatArrays(parts, (n) => new Uint8Array(n));
}
