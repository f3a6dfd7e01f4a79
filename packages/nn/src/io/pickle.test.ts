import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { WeightFileError } from './errors.js';
import { StorageType, TensorRef, unpickle } from './pickle.js';
import { PickleWriter } from './testing/pickle-writer.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-pickle-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

describe('safe unpickler', () => {
  it('reads primitives and containers (protocol 4, as Python writes them)', () => {
    // pickle.dumps({'a': [1, -2, 3.5, None, True], 'b': (b'xy', 'é'), 'c': {7}, 'big': 2**70, 'neg': -300}, protocol=4)
    const bytes = hex(`80 04 95 55 00 00 00 00 00 00 00 7d 94 28 8c 01 61 94 5d 94 28 4b 01 4a fe ff ff ff 47 40 0c 00 00 00 00 00 00
      4e 88 65 8c 01 62 94 43 02 78 79 94 8c 02 c3 a9 94 86 94 8c 01 63 94 8f 94 28 4b 07 90 8c 03 62 69 67 94 8a 09 00 00 00 00 00 00
      00 00 40 8c 03 6e 65 67 94 4a d4 fe ff ff 75 2e`);
    const v = unpickle(bytes) as Map<string, unknown>;
    expect(v).toBeInstanceOf(Map);
    expect(v.get('a')).toEqual([1, -2, 3.5, null, true]);
    const b = v.get('b') as unknown[];
    expect(Object.isFrozen(b)).toBe(true); // tuples are frozen arrays
    expect(b[0]).toEqual(new Uint8Array([0x78, 0x79]));
    expect(b[1]).toBe('é');
    expect(v.get('c')).toEqual(new Set([7]));
    expect(v.get('big')).toBe(2n ** 70n);
    expect(v.get('neg')).toBe(-300);
  });

  it('handles memo, torch.Size and the bytes-via-_codecs idiom of protocol 2', () => {
    const w = new PickleWriter().proto(2).mark()
      .global('torch', 'Size').ints([2, 3]).op(0x85).reduce().put(0)
      .get(0)
      .global('_codecs', 'encode').str('\u00ff\u0001').str('latin1').op(0x86).reduce()
      .op(0x6c).stop();
    expect(unpickle(w.bytes())).toEqual([[2, 3], [2, 3], new Uint8Array([255, 1])]);
  });

  it('refuses os.system before anything could run', () => {
    const marker = join(dir, 'pwned');
    // GLOBAL os.system, then REDUCE with ('touch <marker>',): what a malicious checkpoint does.
    const evil = new PickleWriter().proto(2).global('os', 'system').str(`touch ${marker}`).op(0x85).reduce().stop().bytes();
    expect(() => unpickle(evil, { file: 'evil.pth' })).toThrow(WeightFileError);
    expect(() => unpickle(evil, { file: 'evil.pth' })).toThrow(
      'evil.pth: refusing to load: pickle asks for global os.system (only torch tensors and containers are allowed, like torch.load(weights_only=True))',
    );
    expect(existsSync(marker)).toBe(false);
  });

  it('refuses builtins.eval by STACK_GLOBAL, REDUCE on non-callables, EXT and stray BUILD', () => {
    const stackGlobal = new PickleWriter().proto(4).str('builtins').str('eval').op(0x93).str('1+1').op(0x85).reduce().stop();
    expect(() => unpickle(stackGlobal.bytes())).toThrow(/pickle asks for global builtins.eval/);
    const py2 = new PickleWriter().proto(2).global('__builtin__', 'getattr').stop();
    expect(() => unpickle(py2.bytes())).toThrow(/pickle asks for global builtins.getattr/);
    const reduceString = new PickleWriter().proto(2).str('os.system').emptyTuple().reduce().stop();
    expect(() => unpickle(reduceString.bytes())).toThrow(/refusing to load: REDUCE on string, which is not an allowed callable/);
    expect(() => unpickle(hex('80 02 82 01 2e'))).toThrow(/extension registry/);
    const build = new PickleWriter().proto(2).emptyList().emptyDict().build().stop();
    expect(() => unpickle(build.bytes())).toThrow(/refusing to load: BUILD on a list/);
  });

  it('turns _rebuild_tensor_v2 into a TensorRef and hands persistent ids to the loader', () => {
    const w = new PickleWriter().proto(2)
      .global('torch._utils', '_rebuild_tensor_v2')
      .mark().mark().str('storage').global('torch', 'HalfStorage').str('0').str('cpu').int(6).tuple().binpersid()
      .int(1).ints([2, 2]).ints([1, 2]).bool(false).global('collections', 'OrderedDict').emptyTuple().reduce().tuple()
      .reduce().stop();
    const seen: unknown[] = [];
    const t = unpickle(w.bytes(), { persistentLoad: (pid) => { seen.push(pid); return 'storage-0'; } });
    expect(t).toEqual(new TensorRef('storage-0', 1, [2, 2], [1, 2]));
    expect((seen[0] as unknown[])[1]).toEqual(new StorageType('torch.HalfStorage', 'f16'));
    expect(() => unpickle(w.bytes())).toThrow(/persistent id.*no loader/);
  });

  it('reports truncated and malformed pickles', () => {
    const good = new PickleWriter().proto(2).str('hello').stop().bytes();
    expect(() => unpickle(good.subarray(0, 6), { file: 't.pkl' })).toThrow(/^t\.pkl: truncated pickle/);
    expect(() => unpickle(good.subarray(0, good.length - 1))).toThrow(/truncated pickle/);
    expect(() => unpickle(hex('80 02 52 2e'))).toThrow(/stack underflow/);
    expect(() => unpickle(hex('80 02 68 05 2e'))).toThrow(/memo index 5 read before it was written/);
    expect(() => unpickle(hex('80 02 ff 2e'))).toThrow(/unsupported pickle opcode 0xff at offset 2/);
    expect(() => unpickle(hex('80 02 74 2e'))).toThrow(/no MARK/);
  });
});
