import { describe, expect, it } from 'vitest';
import { WeightFileError } from './errors.js';
import { PickleWriter, torchStateDictPickle, type FixtureTensor } from './testing/pickle-writer.js';
import { buildZip } from './testing/zip-writer.js';
import { parseTorch } from './torch.js';
import { toNumbers } from './types.js';

const f32 = (values: number[]) => new Uint8Array(Float32Array.from(values).buffer);
const i64 = (values: bigint[]) => new Uint8Array(BigInt64Array.from(values).buffer);

function archive(pkl: Uint8Array, storages: Record<string, Uint8Array>, prefix = 'model'): Uint8Array {
  return buildZip([
    { name: `${prefix}/data.pkl`, data: pkl },
    ...Object.entries(storages).map(([key, data]) => ({ name: `${prefix}/data/${key}`, data })),
    { name: `${prefix}/version`, data: new TextEncoder().encode('3\n') },
  ]);
}

const t = (name: string, storage: string, key: string, numel: number, offset: number, shape: number[], stride: number[]): FixtureTensor =>
  ({ name, storage, key, numel, offset, shape, stride });

const TWELVE = Array.from({ length: 12 }, (_, i) => i);
const VIEWS = [
  t('base', 'FloatStorage', '0', 12, 0, [3, 4], [4, 1]),
  t('transposed', 'FloatStorage', '0', 12, 0, [4, 3], [1, 4]),
  t('slice', 'FloatStorage', '0', 12, 5, [2, 2], [4, 1]),
  t('expanded', 'FloatStorage', '1', 2, 0, [3, 2], [0, 1]),
  t('steps', 'LongStorage', '2', 1, 0, [], []),
];
const VIEW_STORAGES = { '0': f32(TWELVE), '1': f32([7, 8]), '2': i64([123n]) };

describe('torch.save reader (hand-built archives)', () => {
  it('materialises views, shared storages, offsets and int64', () => {
    const sd = parseTorch(archive(torchStateDictPickle(VIEWS), VIEW_STORAGES));
    expect([...sd.keys()]).toEqual(['base', 'transposed', 'slice', 'expanded', 'steps']);
    expect(sd.get('base')).toEqual({ dtype: 'f32', shape: [3, 4], data: Float32Array.from(TWELVE) });
    expect(toNumbers(sd.get('transposed')!)).toEqual([0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]);
    expect(toNumbers(sd.get('slice')!)).toEqual([5, 6, 9, 10]);
    expect(toNumbers(sd.get('expanded')!)).toEqual([7, 8, 7, 8, 7, 8]);
    expect(sd.get('steps')).toEqual({ dtype: 'i64', shape: [], data: BigInt64Array.from([123n]) });
    // Tensors sharing a storage get their own copies: writing one must not change another.
    sd.get('base')!.data[5] = -1;
    expect(sd.get('slice')!.data[0]).toBe(5);
  });

  it('finds the state dict under a checkpoint key, or the one asked for', () => {
    const bytes = archive(torchStateDictPickle(VIEWS.slice(0, 1), 'state_dict'), { '0': f32(TWELVE) });
    expect([...parseTorch(bytes).keys()]).toEqual(['base']);
    expect([...parseTorch(bytes, 'x', { key: 'state_dict' }).keys()]).toEqual(['base']);
    expect(() => parseTorch(bytes, 'ckpt.pth', { key: 'optimizer' })).toThrow(/ckpt\.pth: checkpoint key 'optimizer' is not a dict of tensors/);
  });

  it('rejects a tensor whose storage is too short, naming file and tensor', () => {
    const tooBig = [t('fc.weight', 'FloatStorage', '0', 12, 0, [4, 4], [4, 1])];
    const bytes = archive(torchStateDictPickle(tooBig), { '0': f32(TWELVE) });
    expect(() => parseTorch(bytes, 'short.pth')).toThrow(WeightFileError);
    expect(() => parseTorch(bytes, 'short.pth')).toThrow(
      "short.pth: tensor 'fc.weight' (shape [4,4], stride [4,1], offset 0) reaches element 15 of its storage, which holds 12: the storage is too short",
    );
    // The storage entry itself shorter than the element count the pickle declares.
    const truncatedEntry = archive(torchStateDictPickle(VIEWS.slice(0, 1)), { '0': f32(TWELVE.slice(0, 10)) });
    expect(() => parseTorch(truncatedEntry, 'e.pth')).toThrow(/tensor 'base': storage '0' holds 40 bytes, but the pickle declares 12 f32 elements \(48 bytes\)/);
    const missing = archive(torchStateDictPickle(VIEWS.slice(0, 1)), {});
    expect(() => parseTorch(missing, 'm.pth')).toThrow(/storage '0' is missing from the archive \(model\/data\/0\)/);
  });

  it('refuses a data.pkl that asks for os.system', () => {
    const evil = new PickleWriter().proto(2).global('os', 'system').str('echo pwned').op(0x85).reduce().stop().bytes();
    expect(() => parseTorch(archive(evil, {}), 'evil.pth')).toThrow(
      'evil.pth: refusing to load: pickle asks for global os.system (only torch tensors and containers are allowed, like torch.load(weights_only=True))',
    );
  });

  it('explains the legacy format, non-torch zips and truncation', () => {
    const legacy = Uint8Array.from([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e]);
    expect(() => parseTorch(legacy, 'old.pth')).toThrow(
      'old.pth: unsupported legacy format: re-save with torch.save(..., _use_new_zipfile_serialization=True)',
    );
    expect(() => parseTorch(new TextEncoder().encode('hello'), 'x.pth')).toThrow(/not a PyTorch checkpoint/);
    expect(() => parseTorch(buildZip([{ name: 'readme.txt', data: new Uint8Array(1) }]), 'z.pth')).toThrow(/no <archive>\/data\.pkl/);
    const good = archive(torchStateDictPickle(VIEWS), VIEW_STORAGES);
    expect(() => parseTorch(good.subarray(0, good.length - 30), 'cut.pth')).toThrow(/^cut\.pth: corrupt or truncated zip/);
  });

  // Found by the fuzzer (tools/fuzz, target torch): stride 0 lets a 4-byte storage describe
  // a view of billions of elements, which was gathered into a dense array of that size.
  it('refuses expanded views past the expansion limit, before allocating them', () => {
    const bomb = archive(torchStateDictPickle([t('w', 'FloatStorage', '0', 1, 0, [50000, 50000], [0, 0])]), { '0': f32([1]) });
    expect(() => parseTorch(bomb, 'bomb.pth')).toThrow(WeightFileError);
    expect(() => parseTorch(bomb, 'bomb.pth')).toThrow(/^bomb\.pth: tensor 'w' is an expanded view of 2500000000 elements over a storage of 1/);
  });
});
