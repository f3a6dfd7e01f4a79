// A folder's images are decoded once per loader worker, not every epoch: the datasets that
// fromFolder opens keep decoded, resized images in memory (FOLDER_MEMORY_CACHE_BYTES).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { createImage, encodePng } from '@tessera/vision';
import { nodePlatformImpl } from './platform.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-folder-cache-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('serves an image loaded a second time from memory, without decoding it again', async () => {
  for (const label of ['a', 'b']) {
    mkdirSync(join(dir, label));
    for (let i = 0; i < 5; i++) writeFileSync(join(dir, label, `${i}.png`), encodePng(createImage(12, 10)));
  }
  const f = await nodePlatformImpl.openFolder(dir, { validPct: 0.2, seed: 0, maxBadFraction: 0.1, verify: false });
  const first = await f.train.load(0, 8);
  // The cache hands back the image it kept (shared, read-only); without it each load decodes anew.
  expect(await f.train.load(0, 8)).toBe(first);
  expect(await f.train.load(0, 6)).not.toBe(first); // another size is another entry
});
