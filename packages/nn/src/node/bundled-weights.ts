/**
 * The ImageNet weights that ship inside @tessera/nn (packages/nn/weights): Tiny Darknet,
 * ml5's TF.js export (MIT, weights/darknet-tiny/LICENSE.ml5). The folder is found from this
 * file's own location, which is two levels below the package root both in src/node and in
 * dist/node, so the same code works from the sources and from the build.
 */
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { Arch } from '../model-file.js';

export const BUNDLED_WEIGHTS_DIR = fileURLToPath(new URL('../../weights/', import.meta.url));

/** The bundled weight file for `arch` (a TF.js model.json), or null when none ships. */
export function bundledWeights(arch: Arch): string | null {
  return arch === 'darknet-tiny' ? join(BUNDLED_WEIGHTS_DIR, 'darknet-tiny', 'model.json') : null;
}
