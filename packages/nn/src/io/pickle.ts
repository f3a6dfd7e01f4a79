// A safe subset of Python's unpickler, for what torch.save writes (protocols 2–5).
// Pickle is a program: GLOBAL names any Python callable and REDUCE calls it, which is
// how a malicious checkpoint runs os.system. This reader never calls anything it was
// not written to understand: globals resolve only from a fixed allowlist of containers,
// tensor rebuilders and storage types (the spirit of torch.load(weights_only=True)),
// and each of those is re-implemented here as plain data construction.

import { WeightFileError } from './errors.js';
import type { DType } from './types.js';

/** What unpickling produces. Dicts (and OrderedDicts) become Maps; tuples become frozen arrays. */
export type PickleValue =
  | null | boolean | number | bigint | string | Uint8Array
  | PickleValue[] | readonly PickleValue[] | Map<PickleValue, PickleValue> | Set<PickleValue>
  | TensorRef | StorageType | PickleCallable;

/** A torch storage class (torch.FloatStorage, ...): appears inside persistent ids. */
export class StorageType {
  constructor(
    /** Qualified Python name, e.g. "torch.HalfStorage". */
    readonly name: string,
    /** Element type, undefined for types Tessera cannot decode (complex, quantised). */
    readonly dtype: DType | undefined,
  ) {}
}

/** A tensor as torch._utils._rebuild_tensor_v2 describes it: a view into a storage. */
export class TensorRef {
  constructor(
    /** Whatever `persistentLoad` returned for the storage's persistent id. */
    readonly storage: PickleValue,
    readonly offset: number,
    readonly shape: number[],
    readonly stride: number[],
  ) {}
}

/** An allowlisted Python callable, re-implemented as a pure data constructor. */
export class PickleCallable {
  constructor(readonly name: string, readonly call: (args: PickleValue[]) => PickleValue) {}
}

export interface UnpickleOptions {
  /** Source name for errors. */
  file?: string;
  /** Resolves a persistent id (torch: ['storage', StorageType, key, location, numel]). */
  persistentLoad?: (pid: PickleValue) => PickleValue;
}

const STORAGE_DTYPES: Record<string, DType | undefined> = {
  DoubleStorage: 'f64', FloatStorage: 'f32', HalfStorage: 'f16', BFloat16Storage: 'bf16',
  LongStorage: 'i64', IntStorage: 'i32', ShortStorage: 'i16', CharStorage: 'i8',
  ByteStorage: 'u8', BoolStorage: 'bool', UntypedStorage: 'u8',
  ComplexFloatStorage: undefined, ComplexDoubleStorage: undefined,
};

/** Unpickles `bytes`, refusing any global outside the allowlist. Executes nothing. */
export function unpickle(bytes: Uint8Array, options: UnpickleOptions = {}): PickleValue {
  return new Unpickler(bytes, options).run();
}

class Unpickler {
  private pos = 0;
  private readonly stack: PickleValue[] = [];
  private readonly marks: number[] = [];
  private readonly memo = new Map<number, PickleValue>();
  private readonly view: DataView;
  private readonly file: string;
  private readonly globals: Map<string, PickleValue>;

  constructor(private readonly bytes: Uint8Array, private readonly options: UnpickleOptions) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.file = options.file ?? '<pickle>';
    this.globals = allowedGlobals((msg) => this.fail(msg));
  }

  run(): PickleValue {
    for (;;) {
      const at = this.pos;
      const op = this.u8();
      switch (op) {
        case 0x80: { const proto = this.u8(); if (proto > 5) this.fail(`unsupported pickle protocol ${proto}`); break; } // PROTO
        case 0x95: this.take(8); break; // FRAME: framing is only a read-ahead hint
        case 0x2e: return this.pop(); // STOP '.'
        case 0x28: this.marks.push(this.stack.length); break; // MARK '('
        case 0x30: this.pop(); break; // POP '0'
        case 0x31: this.popMark(); break; // POP_MARK '1'
        case 0x32: this.push(this.top()); break; // DUP '2'

        // Scalars.
        case 0x4e: this.push(null); break; // NONE 'N'
        case 0x88: this.push(true); break; // NEWTRUE
        case 0x89: this.push(false); break; // NEWFALSE
        case 0x4a: this.push(this.view.getInt32(this.take(4), true)); break; // BININT 'J'
        case 0x4b: this.push(this.u8()); break; // BININT1 'K'
        case 0x4d: this.push(this.view.getUint16(this.take(2), true)); break; // BININT2 'M'
        case 0x8a: this.push(this.long(this.u8())); break; // LONG1
        case 0x8b: this.push(this.long(this.u32())); break; // LONG4
        case 0x47: this.push(this.view.getFloat64(this.take(8), false)); break; // BINFLOAT 'G' (big-endian)
        case 0x49: this.push(this.textInt(this.line())); break; // INT 'I'
        case 0x4c: this.push(this.textInt(this.line().replace(/L$/, ''))); break; // LONG 'L'
        case 0x46: this.push(this.textFloat(this.line())); break; // FLOAT 'F'

        // Strings and bytes.
        case 0x58: this.push(this.utf8(this.u32())); break; // BINUNICODE 'X'
        case 0x8c: this.push(this.utf8(this.u8())); break; // SHORT_BINUNICODE
        case 0x8d: this.push(this.utf8(this.u64())); break; // BINUNICODE8
        case 0x54: this.push(this.utf8(this.u32())); break; // BINSTRING 'T' (Python 2 str)
        case 0x55: this.push(this.utf8(this.u8())); break; // SHORT_BINSTRING 'U'
        case 0x42: this.push(this.raw(this.u32())); break; // BINBYTES 'B'
        case 0x43: this.push(this.raw(this.u8())); break; // SHORT_BINBYTES 'C'
        case 0x8e: this.push(this.raw(this.u64())); break; // BINBYTES8
        case 0x96: this.push(this.raw(this.u64())); break; // BYTEARRAY8

        // Containers.
        case 0x7d: this.push(new Map()); break; // EMPTY_DICT '}'
        case 0x5d: this.push([]); break; // EMPTY_LIST ']'
        case 0x29: this.push(Object.freeze([])); break; // EMPTY_TUPLE ')'
        case 0x8f: this.push(new Set()); break; // EMPTY_SET
        case 0x74: this.push(Object.freeze(this.popMark())); break; // TUPLE 't'
        case 0x85: this.push(Object.freeze(this.popN(1))); break; // TUPLE1
        case 0x86: this.push(Object.freeze(this.popN(2))); break; // TUPLE2
        case 0x87: this.push(Object.freeze(this.popN(3))); break; // TUPLE3
        case 0x6c: this.push(this.popMark()); break; // LIST 'l'
        case 0x64: { const m = new Map(); this.setItems(m, this.popMark()); this.push(m); break; } // DICT 'd'
        case 0x91: this.push(new Set(this.popMark())); break; // FROZENSET
        case 0x61: { const v = this.pop(); this.list(this.top()).push(v); break; } // APPEND 'a'
        case 0x65: { const vs = this.popMark(); this.list(this.top()).push(...vs); break; } // APPENDS 'e'
        case 0x73: { const v = this.pop(); const k = this.pop(); this.setItems(this.top(), [k, v]); break; } // SETITEM 's'
        case 0x75: { const kvs = this.popMark(); this.setItems(this.top(), kvs); break; } // SETITEMS 'u'
        case 0x90: { // ADDITEMS
          const vs = this.popMark();
          const s = this.top();
          if (!(s instanceof Set)) this.fail(`ADDITEMS on a ${describe(s)} at offset ${at}`);
          for (const v of vs) (s as Set<PickleValue>).add(v);
          break;
        }

        // Memo.
        case 0x71: this.memo.set(this.u8(), this.top()); break; // BINPUT 'q'
        case 0x72: this.memo.set(this.u32(), this.top()); break; // LONG_BINPUT 'r'
        case 0x70: this.memo.set(this.textIndex(this.line()), this.top()); break; // PUT 'p'
        case 0x94: this.memo.set(this.memo.size, this.top()); break; // MEMOIZE
        case 0x68: this.push(this.get(this.u8())); break; // BINGET 'h'
        case 0x6a: this.push(this.get(this.u32())); break; // LONG_BINGET 'j'
        case 0x67: this.push(this.get(this.textIndex(this.line()))); break; // GET 'g'

        // Globals and calls: the only place code could run, so everything goes through the allowlist.
        case 0x63: { const mod = this.line(); const name = this.line(); this.push(this.global(mod, name)); break; } // GLOBAL 'c'
        case 0x93: { // STACK_GLOBAL
          const name = this.pop();
          const mod = this.pop();
          if (typeof mod !== 'string' || typeof name !== 'string') this.fail(`STACK_GLOBAL with non-string names at offset ${at}`);
          this.push(this.global(mod as string, name as string));
          break;
        }
        case 0x52: { const args = this.pop(); const fn = this.pop(); this.push(this.call(fn, args, 'REDUCE')); break; } // REDUCE 'R'
        case 0x81: { const args = this.pop(); const cls = this.pop(); this.push(this.call(cls, args, 'NEWOBJ')); break; } // NEWOBJ
        case 0x92: { // NEWOBJ_EX
          const kwargs = this.pop();
          const args = this.pop();
          const cls = this.pop();
          if (!(kwargs instanceof Map) || kwargs.size > 0) this.fail(`NEWOBJ_EX with keyword arguments at offset ${at}`);
          this.push(this.call(cls, args, 'NEWOBJ_EX'));
          break;
        }
        case 0x69: { const mod = this.line(); const name = this.line(); const fn = this.global(mod, name); this.push(this.call(fn, this.popMark(), 'INST')); break; } // INST 'i'
        case 0x6f: { const [cls, ...args] = this.popMark(); this.push(this.call(cls ?? null, args, 'OBJ')); break; } // OBJ 'o'
        case 0x62: this.build(this.pop(), at); break; // BUILD 'b'
        case 0x51: this.push(this.persistent(this.pop())); break; // BINPERSID 'Q'
        case 0x50: this.push(this.persistent(this.line())); break; // PERSID 'P'
        case 0x82: case 0x83: case 0x84: // EXT1/2/4
          this.fail('refusing to load: pickle uses the extension registry (EXT opcodes), which can name any global');
          break;
        case 0x97: case 0x98: // NEXT_BUFFER / READONLY_BUFFER
          this.fail('pickle uses out-of-band buffers, which torch.save never writes');
          break;
        default:
          this.fail(`unsupported pickle opcode 0x${op.toString(16).padStart(2, '0')} at offset ${at}`);
      }
    }
  }

  private fail(msg: string): never {
    throw new WeightFileError(this.file, msg);
  }

  private global(mod: string, name: string): PickleValue {
    // Python 2 module names that protocol-2 pickles may carry.
    const module = mod === '__builtin__' ? 'builtins' : mod === 'copy_reg' ? 'copyreg' : mod;
    const qualname = `${module}.${name}`;
    const value = this.globals.get(qualname);
    if (value === undefined) {
      this.fail(`refusing to load: pickle asks for global ${qualname} (only torch tensors and containers are allowed, like torch.load(weights_only=True))`);
    }
    return value!;
  }

  private call(fn: PickleValue, args: PickleValue, opcode: string): PickleValue {
    if (!(fn instanceof PickleCallable)) {
      this.fail(`refusing to load: ${opcode} on ${describe(fn)}, which is not an allowed callable`);
    }
    if (!Array.isArray(args)) this.fail(`${opcode} arguments are a ${describe(args)}, not a tuple`);
    return (fn as PickleCallable).call(args as PickleValue[]);
  }

  // BUILD sets Python attributes (`__setstate__`). Tensors and OrderedDicts carry only
  // bookkeeping there (state_dict's `_metadata` versions), so it is dropped; on anything
  // else it would be a request to mutate an arbitrary object, so it is refused.
  private build(_state: PickleValue, at: number): void {
    const inst = this.top();
    if (inst instanceof Map || inst instanceof TensorRef) return;
    this.fail(`refusing to load: BUILD on a ${describe(inst)} at offset ${at}`);
  }

  private persistent(pid: PickleValue): PickleValue {
    if (!this.options.persistentLoad) this.fail('pickle references external data (a persistent id) but no loader was given');
    return this.options.persistentLoad!(pid);
  }

  private setItems(target: PickleValue, kvs: PickleValue[]): void {
    if (!(target instanceof Map)) this.fail(`SETITEM on a ${describe(target)}`);
    if (kvs.length % 2) this.fail('SETITEMS with an odd number of items');
    for (let i = 0; i < kvs.length; i += 2) (target as Map<PickleValue, PickleValue>).set(kvs[i]!, kvs[i + 1]!);
  }

  private list(target: PickleValue): PickleValue[] {
    if (!Array.isArray(target) || Object.isFrozen(target)) this.fail(`APPEND on a ${describe(target)}`);
    return target as PickleValue[];
  }

  private get(index: number): PickleValue {
    if (!this.memo.has(index)) this.fail(`memo index ${index} read before it was written`);
    return this.memo.get(index)!;
  }

  private push(v: PickleValue): void { this.stack.push(v); }

  private pop(): PickleValue {
    const floor = this.marks.length ? this.marks[this.marks.length - 1]! : 0;
    if (this.stack.length <= floor) this.fail(`malformed pickle: stack underflow at offset ${this.pos - 1}`);
    return this.stack.pop()!;
  }

  private top(): PickleValue {
    const floor = this.marks.length ? this.marks[this.marks.length - 1]! : 0;
    if (this.stack.length <= floor) this.fail(`malformed pickle: empty stack at offset ${this.pos - 1}`);
    return this.stack[this.stack.length - 1]!;
  }

  private popN(n: number): PickleValue[] {
    const out: PickleValue[] = new Array(n);
    for (let i = n - 1; i >= 0; i--) out[i] = this.pop();
    return out;
  }

  private popMark(): PickleValue[] {
    const mark = this.marks.pop();
    if (mark === undefined) this.fail(`malformed pickle: no MARK at offset ${this.pos - 1}`);
    return this.stack.splice(mark!);
  }

  // --- byte reading, every read bounds-checked ---

  private take(n: number): number {
    if (this.pos + n > this.bytes.byteLength) this.fail(`truncated pickle: needs ${n} bytes at offset ${this.pos}`);
    const at = this.pos;
    this.pos += n;
    return at;
  }
  private u8(): number { return this.bytes[this.take(1)]!; }
  private u32(): number { return this.view.getUint32(this.take(4), true); }
  private u64(): number {
    const v = this.view.getBigUint64(this.take(8), true);
    if (v > BigInt(this.bytes.byteLength)) this.fail(`truncated pickle: length ${v} at offset ${this.pos - 8}`);
    return Number(v);
  }
  private raw(n: number): Uint8Array { const at = this.take(n); return new Uint8Array(this.bytes.subarray(at, at + n)); }
  private utf8(n: number): string {
    const at = this.take(n);
    return new TextDecoder().decode(this.bytes.subarray(at, at + n));
  }
  private line(): string {
    const end = this.bytes.indexOf(0x0a, this.pos);
    if (end < 0) this.fail(`truncated pickle: unterminated line at offset ${this.pos}`);
    const s = new TextDecoder().decode(this.bytes.subarray(this.pos, end));
    this.pos = end + 1;
    return s;
  }
  // Little-endian two's-complement integer of n bytes (LONG1/LONG4).
  private long(n: number): number | bigint {
    const at = this.take(n);
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(this.bytes[at + i]!);
    if (n > 0 && this.bytes[at + n - 1]! & 0x80) v -= 1n << BigInt(8 * n);
    return narrow(v);
  }
  private textInt(s: string): number | boolean | bigint {
    if (s === '01') return true; // protocol 0 spells booleans as INT 01 / 00
    if (s === '00') return false;
    if (!/^[-+]?\d+$/.test(s)) this.fail(`bad INT literal '${s}'`);
    return narrow(BigInt(s));
  }
  private textFloat(s: string): number {
    const v = Number(s);
    if (Number.isNaN(v) && !/nan/i.test(s)) this.fail(`bad FLOAT literal '${s}'`);
    return v;
  }
  private textIndex(s: string): number {
    if (!/^\d+$/.test(s)) this.fail(`bad memo index '${s}'`);
    return Number(s);
  }
}

function narrow(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

function describe(v: PickleValue | undefined): string {
  if (v === null || v === undefined) return 'None';
  if (v instanceof PickleCallable) return v.name;
  if (v instanceof Map) return 'dict';
  if (v instanceof Set) return 'set';
  if (Array.isArray(v)) return Object.isFrozen(v) ? 'tuple' : 'list';
  if (v instanceof Uint8Array) return 'bytes';
  if (v instanceof TensorRef) return 'tensor';
  if (v instanceof StorageType) return v.name;
  return typeof v;
}

// The allowlist. Each entry is data construction only; argument shapes are checked so
// a hostile pickle gets an error, not a half-built object.
function allowedGlobals(fail: (msg: string) => never): Map<string, PickleValue> {
  const ints = (v: PickleValue, what: string): number[] => {
    if (!Array.isArray(v) || !v.every((x) => Number.isSafeInteger(x))) fail(`${what} is not a tuple of integers`);
    return [...(v as number[])];
  };
  const rebuildTensor = (name: string) => new PickleCallable(name, (args) => {
    const [storage, offset, size, stride] = args;
    if (args.length < 4 || !Number.isSafeInteger(offset) || (offset as number) < 0) fail(`${name}: bad arguments`);
    const shape = ints(size ?? null, `${name} size`);
    const strides = ints(stride ?? null, `${name} stride`);
    if (shape.length !== strides.length || shape.some((d) => d < 0) || strides.some((s) => s < 0)) {
      fail(`${name}: size ${JSON.stringify(shape)} and stride ${JSON.stringify(strides)} do not describe a tensor`);
    }
    return new TensorRef(storage ?? null, offset as number, shape, strides);
  });
  const firstArg = (name: string) => new PickleCallable(name, (args) => {
    if (args.length < 1) fail(`${name}: missing argument`);
    return args[0]!;
  });
  const pairsToMap = (name: string) => new PickleCallable(name, (args) => {
    const m = new Map<PickleValue, PickleValue>();
    const src = args[0];
    if (src instanceof Map) for (const [k, v] of src) m.set(k, v);
    else if (Array.isArray(src)) for (const kv of src) { if (!Array.isArray(kv) || kv.length !== 2) fail(`${name}: item is not a pair`); m.set(kv[0]!, kv[1]!); }
    else if (src !== undefined) fail(`${name}: cannot build from ${describe(src)}`);
    return m;
  });
  const toSet = (name: string) => new PickleCallable(name, (args) => {
    const src = args[0];
    if (src !== undefined && !Array.isArray(src) && !(src instanceof Set)) fail(`${name}: cannot build from ${describe(src)}`);
    return new Set((src ?? []) as Iterable<PickleValue>);
  });
  // Protocol 2 has no bytes opcode, so Python 3 pickles bytes as _codecs.encode(text, 'latin1').
  const encode = (name: string) => new PickleCallable(name, (args) => {
    const [text, encoding = 'utf-8'] = args;
    if (typeof text === 'string' && (encoding === 'latin1' || encoding === 'latin-1')) return Uint8Array.from(text, (c) => c.charCodeAt(0) & 0xff);
    if (typeof text === 'string' && (encoding === 'utf-8' || encoding === 'utf8')) return new TextEncoder().encode(text);
    if (text instanceof Uint8Array) return new Uint8Array(text);
    if (text === undefined || Array.isArray(text) && text.every((x) => Number.isInteger(x))) return Uint8Array.from((text ?? []) as number[]);
    return fail(`${name}: unsupported arguments`);
  });

  const g = new Map<string, PickleValue>();
  const add = (v: PickleCallable) => g.set(v.name, v);
  add(pairsToMap('collections.OrderedDict'));
  add(pairsToMap('builtins.dict'));
  add(toSet('builtins.set'));
  add(toSet('builtins.frozenset'));
  add(encode('_codecs.encode'));
  add(encode('builtins.bytearray'));
  add(new PickleCallable('torch.Size', (args) => Object.freeze(ints(args[0] ?? [], 'torch.Size'))));
  add(new PickleCallable('torch.device', (args) => args.map(String).join(':')));
  add(rebuildTensor('torch._utils._rebuild_tensor'));
  add(rebuildTensor('torch._utils._rebuild_tensor_v2'));
  add(firstArg('torch._utils._rebuild_parameter'));
  add(firstArg('torch._utils._rebuild_parameter_with_state'));
  add(firstArg('torch.nn.parameter.Parameter'));
  add(new PickleCallable('torch.Tensor', () => fail('torch.Tensor() called directly; only rebuilt tensors are supported')));
  // _rebuild_from_type_v2(func, type, args, state): a tensor subclass wrapper; rebuild with the
  // inner (allowlisted) function and drop the Python-side type and state.
  add(new PickleCallable('torch._tensor._rebuild_from_type_v2', (args) => {
    const [fn, , inner] = args;
    if (!(fn instanceof PickleCallable) || !Array.isArray(inner)) fail('torch._tensor._rebuild_from_type_v2: bad arguments');
    return (fn as PickleCallable).call(inner as PickleValue[]);
  }));
  for (const [cls, dtype] of Object.entries(STORAGE_DTYPES)) g.set(`torch.${cls}`, new StorageType(`torch.${cls}`, dtype));
  return g;
}
