/**
 * The small real files in the shared data and weights folders, used as seeds next to the
 * ones made by code. Found through TESSERA_DATA / TESSERA_WEIGHTS (defaults ./data and
 * ./weights, as the CLI); when a file is absent it is skipped, and `skipped` says why.
 */

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const skipped: string[] = [];

const HINT = 'set TESSERA_DATA / TESSERA_WEIGHTS to the shared folders';

function dataDir(): string {
  return resolve(process.env['TESSERA_DATA'] ?? './data');
}

export function weightsDir(): string {
  return resolve(process.env['TESSERA_WEIGHTS'] ?? './weights');
}

/** The file's bytes, or null (recorded in `skipped`) when it is not there. */
export function readReal(path: string, why: string): Uint8Array | null {
  if (!existsSync(path)) {
    skipped.push(`${path} not found (${why}; ${HINT})`);
    return null;
  }
  return new Uint8Array(readFileSync(path));
}

/** cat.jpg and the first `paintings` JPEGs of the paintings set, by name order. */
export function realJpegs(paintings = 2): { name: string; bytes: Uint8Array }[] {
  const out: { name: string; bytes: Uint8Array }[] = [];
  const cat = readReal(join(dataDir(), 'samples', 'cat.jpg'), 'a real camera JPEG');
  if (cat) out.push({ name: 'samples/cat.jpg', bytes: cat });
  for (const style of ['expressionism', 'impressionism']) {
    const folder = join(dataDir(), 'paintings', style);
    if (!existsSync(folder)) { skipped.push(`${folder} not found (real paintings; ${HINT})`); continue; }
    for (const f of readdirSync(folder).filter((n) => n.endsWith('.jpg')).sort().slice(0, Math.ceil(paintings / 2))) {
      out.push({ name: `paintings/${style}/${f}`, bytes: new Uint8Array(readFileSync(join(folder, f))) });
    }
  }
  return out;
}

/** The GIF the hymenoptera set carries among its JPEGs. */
export function realGif(): { name: string; bytes: Uint8Array } | null {
  const bytes = readReal(join(dataDir(), 'hymenoptera', 'train', 'ants', 'imageNotFound.gif'), 'a GIF inside an image folder');
  return bytes ? { name: 'hymenoptera/train/ants/imageNotFound.gif', bytes } : null;
}
