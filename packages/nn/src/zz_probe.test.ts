import { it } from 'vitest';
import { initDevice, randn } from '@tessera/tensor';
import { resnet18, createVisionModel, resnet34, darknetTiny } from './index.js';
it('probe', async () => {
  await initDevice();
  const n = resnet18(10);
  const x = randn([1, 32, 32, 3]);
  const rows = n.summary(x);
  console.log(rows.map(r => `${r.name}|${r.type}|${r.outputShape}|${r.params}`).join('\n'));
  console.log(n.summaryTable(x).split('\n').slice(-4).join('\n'));
  const v = createVisionModel(resnet34(), 2);
  console.log([...v.stateDict()].filter(([k]) => k.startsWith('1.')).map(([k, t]) => `${k} ${t.shape}`).join('\n'));
  console.log(v.summary(randn([2, 32, 32, 3])).map(r => `${r.name}|${r.type}|${r.outputShape}|${r.params}`).join('\n'));
  const d = darknetTiny(); console.log(d.numParams(), [...d.stateDict().keys()].length);
});
