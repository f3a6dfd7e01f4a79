/** Every fuzz target, by name. */

import type { Target } from '../target.js';
import { exifTarget, formatTarget, jpegTarget, pngTarget } from './images.js';
import { modelFileTarget } from './model-file.js';
import { selfTestTarget } from './self-test.js';
import { pickleTarget, safetensorsTarget, tfjsTarget, torchTarget, zipTarget } from './weights.js';

export const TARGETS: readonly Target[] = [
  formatTarget, jpegTarget, pngTarget, exifTarget,
  safetensorsTarget, zipTarget, pickleTarget, torchTarget, tfjsTarget, modelFileTarget,
];

export function targetNamed(name: string): Target {
  const t = [...TARGETS, selfTestTarget].find((x) => x.name === name);
  if (!t) throw new Error(`no fuzz target '${name}' (targets: ${TARGETS.map((x) => x.name).join(', ')})`);
  return t;
}
