/**
 * Maps the Keras layer names of the TF.js Tiny Darknet (conv2d_1…16,
 * batch_normalization_1…15, after io's Keras→PyTorch layout conversion) to the
 * DarknetTiny module's keys (features.<i>.*, classifier.*).
 */
import type { StateDict } from '../io/index.js';
import { DARKNET_TINY_LAYOUT } from './darknet.js';

export function darknetKeysFromKeras(sd: StateDict): StateDict {
  const rename = new Map<string, string>();
  let idx = 0;
  let conv = 0;
  for (const l of DARKNET_TINY_LAYOUT) {
    if (l === 'M') {
      idx += 1;
      continue;
    }
    conv++;
    rename.set(`conv2d_${conv}`, `features.${idx}`);
    rename.set(`batch_normalization_${conv}`, `features.${idx + 1}`);
    idx += 3;
  }
  rename.set(`conv2d_${conv + 1}`, 'classifier');
  const out: StateDict = new Map();
  for (const [key, t] of sd) {
    const dot = key.indexOf('.');
    const layer = key.slice(0, dot);
    const target = rename.get(layer);
    out.set(target ? `${target}${key.slice(dot)}` : key, t);
  }
  return out;
}
