/**
 * Test-only pickle emitter: writes opcodes by hand, the way torch.save's protocol-2
 * pickles look, so tests can build hostile or malformed pickles without Python.
 */

export class PickleWriter {
  private readonly parts: number[] = [];

  op(...bytes: number[]): this { this.parts.push(...bytes); return this; }
  proto(n = 2): this { return this.op(0x80, n); }
  mark(): this { return this.op(0x28); }
  stop(): this { return this.op(0x2e); }
  none(): this { return this.op(0x4e); }
  bool(v: boolean): this { return this.op(v ? 0x88 : 0x89); }
  emptyDict(): this { return this.op(0x7d); }
  emptyList(): this { return this.op(0x5d); }
  emptyTuple(): this { return this.op(0x29); }
  tuple(): this { return this.op(0x74); }
  reduce(): this { return this.op(0x52); }
  setitems(): this { return this.op(0x75); }
  appends(): this { return this.op(0x65); }
  binpersid(): this { return this.op(0x51); }
  build(): this { return this.op(0x62); }
  put(i: number): this { return this.op(0x71, i); }
  get(i: number): this { return this.op(0x68, i); }

  int(v: number): this {
    if (v >= 0 && v < 256) return this.op(0x4b, v);
    const b = Buffer.alloc(4);
    b.writeInt32LE(v);
    return this.op(0x4a, ...b);
  }

  float(v: number): this {
    const b = Buffer.alloc(8);
    b.writeDoubleBE(v);
    return this.op(0x47, ...b);
  }

  str(s: string): this {
    const b = Buffer.from(s, 'utf8');
    const len = Buffer.alloc(4);
    len.writeUInt32LE(b.length);
    return this.op(0x58, ...len, ...b);
  }

  /** GLOBAL 'module\nname\n' (protocol 2 style). */
  global(module: string, name: string): this {
    return this.op(0x63, ...Buffer.from(`${module}\n${name}\n`, 'latin1'));
  }

  /** (ints...) as a MARK ... TUPLE. */
  ints(values: number[]): this {
    this.mark();
    for (const v of values) this.int(v);
    return this.tuple();
  }

  bytes(): Uint8Array { return Uint8Array.from(this.parts); }
}

export interface FixtureTensor {
  name: string;
  storage: string;
  key: string;
  numel: number;
  offset: number;
  shape: number[];
  stride: number[];
}

/** A torch.save-style data.pkl: OrderedDict of _rebuild_tensor_v2(persistent storage, ...). */
export function torchStateDictPickle(tensors: FixtureTensor[], wrapKey?: string): Uint8Array {
  const w = new PickleWriter().proto(2);
  if (wrapKey) w.emptyDict().mark().str('epoch').int(3).str(wrapKey);
  w.global('collections', 'OrderedDict').emptyTuple().reduce().mark();
  for (const t of tensors) {
    w.str(t.name).global('torch._utils', '_rebuild_tensor_v2').mark();
    w.mark().str('storage').global('torch', t.storage).str(t.key).str('cpu').int(t.numel).tuple().binpersid();
    w.int(t.offset).ints(t.shape).ints(t.stride).bool(false);
    w.global('collections', 'OrderedDict').emptyTuple().reduce();
    w.tuple().reduce();
  }
  w.setitems();
  if (wrapKey) w.setitems();
  return w.stop().bytes();
}
