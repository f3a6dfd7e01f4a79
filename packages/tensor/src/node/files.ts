/**
 * Reading files a user names, safely: only regular files (never /dev/zero, a FIFO or a folder,
 * which would read forever or fail with a bare EISDIR), never more than a declared size (a
 * multi-gigabyte file is refused before a byte is read, with its name), and every failure one
 * message naming the file. Also the words for the file-system errors of writes (ENOSPC, EROFS …),
 * which Node reports without the path when they come from an open handle.
 */
import { mkdir, open, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { TesseraError } from '../runtime/errors.js';

/** A file could not be read; `reason` says why in a few words, without the file name. */
export class FileReadError extends TesseraError {
  constructor(
    readonly file: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}: ${reason}`);
    this.name = 'FileReadError';
    // The errno error underneath (its `code` tells ENOENT from the rest).
    if (options) (this as { cause?: unknown }).cause = options.cause;
  }
}

/**
 * A file or folder could not be written. The message names it (Node's ENOSPC from a write on an
 * open handle names nothing) and says what to do; `code` keeps the errno code.
 */
export class FileWriteError extends TesseraError {
  readonly code: string | undefined;
  constructor(
    readonly file: string,
    cause: unknown,
  ) {
    const code = (cause as NodeJS.ErrnoException | undefined)?.code;
    const hint = code === 'ENOSPC' || code === 'EDQUOT' ? '; free some space or write elsewhere (--out)'
      : code === 'EROFS' || code === 'EACCES' || code === 'EPERM' ? '; choose a folder you can write to (--out)' : '';
    super(`cannot write ${file}: ${fsErrorReason(cause)}${hint}`);
    this.name = 'FileWriteError';
    this.code = code;
    (this as { cause?: unknown }).cause = cause;
  }
}

/** Node's own limit for one Buffer read (readFile refuses larger files). */
export const MAX_READ_BYTES = 2 ** 31 - 1;

export function formatBytes(n: number): string {
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(1)} GiB`;
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MiB`;
  if (n >= 2 ** 10) return `${(n / 2 ** 10).toFixed(1)} KiB`;
  return `${n} bytes`;
}

/** A file-system error in a few words (without the path), e.g. "no space left on the device". */
export function fsErrorReason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT': return 'no such file or folder';
    case 'EISDIR': return 'is a folder, not a file';
    case 'ENOTDIR': return 'a part of the path is a file, not a folder';
    case 'ENOSPC': return 'no space left on the device';
    case 'EDQUOT': return 'the disk quota is used up';
    case 'EROFS': return 'the file system is read-only';
    case 'EACCES':
    case 'EPERM': return 'permission denied';
    case 'EMFILE':
    case 'ENFILE': return 'too many open files';
    case 'EFBIG': return 'the file is too large for the file system';
    default: return code ? `${(err as Error).message.split(',')[0]}` : String((err as Error)?.message ?? err);
  }
}

/**
 * Reads a regular file of at most `maxBytes` (default: Node's 2 GiB limit). `what` names the
 * kind of file in messages ("model file", "image"). Reads exactly the size stat() reported, so a
 * file that grows while it is read cannot make this read more.
 */
export async function readFileChecked(path: string, opts: { maxBytes?: number; what?: string } = {}): Promise<Uint8Array> {
  const what = opts.what ?? 'file';
  const max = Math.min(opts.maxBytes ?? MAX_READ_BYTES, MAX_READ_BYTES);
  let st;
  try {
    st = await stat(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new FileReadError(path, code === 'ENOENT' ? 'file not found' : `cannot read the ${what}: ${fsErrorReason(err)}`, { cause: err });
  }
  if (st.isDirectory()) throw new FileReadError(path, `is a folder, not a${/^[aeiou]/.test(what) ? 'n' : ''} ${what}`);
  if (!st.isFile()) throw new FileReadError(path, `is not a regular file (a device, pipe or socket); give a${/^[aeiou]/.test(what) ? 'n' : ''} ${what} on disk`);
  if (st.size > max) throw new FileReadError(path, `is ${formatBytes(st.size)}; a${/^[aeiou]/.test(what) ? 'n' : ''} ${what} can be at most ${formatBytes(max)}`);
  const bytes = new Uint8Array(st.size);
  try {
    const handle = await open(path, 'r');
    try {
      let off = 0;
      while (off < bytes.length) {
        const { bytesRead } = await handle.read(bytes, off, bytes.length - off, off);
        if (bytesRead === 0) break;
        off += bytesRead;
      }
      return off === bytes.length ? bytes : bytes.subarray(0, off);
    } finally {
      await handle.close();
    }
  } catch (err) {
    throw new FileReadError(path, `cannot read the ${what}: ${fsErrorReason(err)}`, { cause: err });
  }
}

/**
 * mkdir -p that says why it failed. Node's recursive mkdir reports ENOENT for a read-only or
 * unwritable parent; here the first missing folder is created on its own to get the real reason
 * (EROFS, EACCES, ENOTDIR), and the error names `dir`.
 */
export async function makeFolder(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
    return;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new FileWriteError(dir, err);
    let missing = dir;
    while (dirname(missing) !== missing && !(await stat(dirname(missing)).then(() => true, () => false))) missing = dirname(missing);
    const real = await mkdir(missing).then(() => err, (e: unknown) => e);
    throw new FileWriteError(dir, real);
  }
}
