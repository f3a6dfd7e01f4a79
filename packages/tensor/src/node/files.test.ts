import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { removeStaleTemps, tempFileOwner, writeAtomic } from './atomic-write.js';
import { FileReadError, FileWriteError, readFileChecked } from './files.js';

const work = mkdtempSync(join(tmpdir(), 'tessera-files-'));
const mounts: string[] = [];
afterAll(() => {
  for (const m of mounts) {
    try {
      execFileSync('umount', [m], { stdio: 'ignore' });
    } catch {
      /* left for the OS */
    }
  }
  rmSync(work, { recursive: true, force: true });
});

/** A tiny tmpfs (full after 64 KiB), or why there cannot be one here (it needs root and mount). */
function smallTmpfs(options: string): string | { skip: string } {
  const dir = join(work, `mnt-${mounts.length}`);
  mkdirSync(dir);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { stdio: 'ignore' });
  } catch (err) {
    return { skip: `cannot mount a tmpfs here (${(err as Error).message.split('\n')[0]})` };
  }
  mounts.push(dir);
  return dir;
}

async function readError(p: Promise<unknown>): Promise<FileReadError> {
  const err = await p.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(FileReadError);
  return err as FileReadError;
}

describe('readFileChecked', () => {
  it('refuses devices, folders and files over the cap by name, before reading', async () => {
    const started = performance.now();
    const zero = await readError(readFileChecked('/dev/zero', { what: 'image' }));
    expect(zero.message).toBe('/dev/zero: is not a regular file (a device, pipe or socket); give an image on disk');
    expect(performance.now() - started).toBeLessThan(1000);
    expect((await readError(readFileChecked(work, { what: 'model file' }))).reason).toBe('is a folder, not a model file');
    expect((await readError(readFileChecked(join(work, 'nope')))).reason).toBe('file not found');
    const big = join(work, 'big.safetensors');
    writeFileSync(big, '');
    truncateSync(big, 2.5 * 2 ** 30); // sparse: no disk used
    const tooBig = await readError(readFileChecked(big, { what: 'model file' }));
    expect(tooBig.message).toBe(`${big}: is 2.5 GiB; a model file can be at most 2.0 GiB`);
    const small = join(work, 'small.bin');
    writeFileSync(small, 'x'.repeat(100));
    expect((await readError(readFileChecked(small, { maxBytes: 10 }))).reason).toBe('is 100 bytes; a file can be at most 10 bytes');
    expect(new TextDecoder().decode(await readFileChecked(small))).toBe('x'.repeat(100));
  });
});

describe('writeAtomic', () => {
  it('writes through a hidden temporary file and leaves nothing else', async () => {
    const dir = join(work, 'atomic');
    await writeAtomic(join(dir, 'metrics.json'), '[1]', { mkdir: true });
    await writeAtomic(join(dir, 'model.safetensors'), [new Uint8Array([1, 2]), new Uint8Array([3])], { sync: true });
    expect(readdirSync(dir).sort()).toEqual(['metrics.json', 'model.safetensors']);
    expect([...readFileSync(join(dir, 'model.safetensors'))]).toEqual([1, 2, 3]);
  });

  it('names the file when the disk is full, and removes its temporary file', async (ctx) => {
    const dir = smallTmpfs('size=64k');
    if (typeof dir !== 'string') {
      console.log(`skipped: ${dir.skip}`);
      return ctx.skip();
    }
    const path = join(dir, 'checkpoint.safetensors');
    const err = await writeAtomic(path, [new Uint8Array(1 << 20)]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FileWriteError);
    expect((err as FileWriteError).code).toBe('ENOSPC');
    expect((err as Error).message).toBe(`cannot write ${path}: no space left on the device; free some space or write elsewhere (--out)`);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('says a read-only folder is read-only (not ENOENT), naming it', async (ctx) => {
    const dir = smallTmpfs('size=64k,ro');
    if (typeof dir !== 'string') {
      console.log(`skipped: ${dir.skip}`);
      return ctx.skip();
    }
    const err = await writeAtomic(join(dir, 'run', 'metrics.json'), '[]', { mkdir: true }).catch((e: unknown) => e);
    expect((err as Error).message).toBe(`cannot write ${join(dir, 'run')}: the file system is read-only; choose a folder you can write to (--out)`);
    const err2 = await writeAtomic(join(dir, 'metrics.json'), '[]').catch((e: unknown) => e);
    expect((err2 as Error).message).toContain(`cannot write ${join(dir, 'metrics.json')}: the file system is read-only`);
  });
});

describe('stale temporary files', () => {
  it('recognises every naming used, and removes other processes\' temporaries only', async () => {
    expect(tempFileOwner('.checkpoint.safetensors.4242.0a1b2c3d.tmp')).toBe(4242);
    expect(tempFileOwner('metrics.json.4242-0-0a1b2c3d.tmp')).toBe(4242);
    expect(tempFileOwner('.model.safetensors.4242-3-0a1b2c3d.tmp')).toBe(4242);
    expect(tempFileOwner('model.safetensors')).toBeNull();
    expect(tempFileOwner('notes.tmp')).toBeNull();
    const dir = join(work, 'stale');
    mkdirSync(dir);
    const names = ['.checkpoint.safetensors.4242.0a1b2c3d.tmp', 'metrics.json.4242-0-0a1b2c3d.tmp', `.mine.${process.pid}-0-0a1b2c3d.tmp`, 'keep.json', 'notes.tmp'];
    for (const n of names) writeFileSync(join(dir, n), '');
    expect((await removeStaleTemps(dir)).sort()).toEqual(names.slice(0, 2).sort());
    expect(readdirSync(dir).sort()).toEqual(names.slice(2).sort());
    expect(existsSync(join(dir, 'keep.json'))).toBe(true);
  });
});
