/**
 * Test-only torch.save writer: a state dict as the zip archive torch.save makes (data.pkl
 * plus one stored entry per storage), so tests can serve or read realistic .pth files
 * without Python. f32 tensors become FloatStorage, i64 ones LongStorage; each is contiguous.
 */
import type { StateDict } from '../types.js';
import { torchStateDictPickle, type FixtureTensor } from './pickle-writer.js';
import { buildZip, type ZipFixtureEntry } from './zip-writer.js';

const STORAGE: Record<string, string> = { f32: 'FloatStorage', i64: 'LongStorage' };

export function torchSaveBytes(sd: StateDict, archive = 'archive'): Uint8Array {
  const tensors: FixtureTensor[] = [];
  const entries: ZipFixtureEntry[] = [];
  let key = 0;
  for (const [name, t] of sd) {
    const storage = STORAGE[t.dtype];
    if (!storage) throw new Error(`torchSaveBytes: no storage type for ${t.dtype}`);
    const numel = t.shape.reduce((a, b) => a * b, 1);
    const stride = t.shape.map((_, i) => t.shape.slice(i + 1).reduce((a, b) => a * b, 1));
    tensors.push({ name, storage, key: String(key), numel, offset: 0, shape: [...t.shape], stride });
    entries.push({ name: `${archive}/data/${key}`, data: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength) });
    key++;
  }
  return buildZip([{ name: `${archive}/data.pkl`, data: torchStateDictPickle(tensors) }, ...entries]);
}
