import { it, expect } from 'vitest';
import { initDevice, tensor, sync, full } from './index.js';
import { getKernel } from './runtime/kernel.js';
import { dispatch } from './runtime/queue.js';
it('exp', async () => {
  await initDevice();
  const t = tensor([1, 2, 3]);
  const k = getKernel('bad_kernel', '@compute @workgroup_size(1) fn main() { let x: i32 = 1.5; }', false);
  dispatch(k, [t.buffer], null, [1]);
  const ok = t.add(1);
  await sync().catch((e) => console.log('ERR1', String(e)));
  console.log(await ok.toArray().catch((e) => 'ERR2 ' + String(e)));
  console.log(await ok.toArray().catch((e) => 'ERR3 ' + String(e)));
  const i = tensor([1, 2, 3], [3], 'i32');
  console.log(await i.add(1).toArray().catch((e) => 'ERR4 ' + String(e)));
  console.log(await tensor([1,2],[2],'u32').neg().toArray().catch((e) => 'ERR5 ' + String(e)));
  console.log(await full([1], 0).toArray().catch((e) => 'ERR6 ' + String(e)));
});
