/**
 * `weights get`'s work, as torchvision does on first use: download the published .pth,
 * check the SHA-256 prefix its name carries, convert it with the safe .pth reader, and
 * cache a Tessera model file. The download goes to a hidden temporary file beside the
 * cache entry and the model file is written atomically, so an interrupted or bad download
 * never leaves a file that `train` could take for weights.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { type Arch, io } from '@tessera/nn';
import { DownloadError, downloadToFile, formatMB } from './download.js';
import { saveCheckedClassifier } from './save-classifier.js';
import { cachedWeightsPath, type WeightsSource } from './weights-cache.js';

export interface FetchOptions {
  idleTimeoutMs?: number;
  /** Progress and outcome lines (console.log by default). */
  log?: (line: string) => void;
  /** Redraws one progress line (a terminal's carriage return); off when not given. */
  progress?: (line: string) => void;
}

export async function fetchWeights(arch: Arch, source: WeightsSource, opts: FetchOptions = {}): Promise<string> {
  const log = opts.log ?? console.log;
  const out = cachedWeightsPath(arch);
  await mkdir(dirname(out), { recursive: true });
  await removeAbandoned(dirname(out), [basename(source.url), basename(out)]);
  const tmp = join(dirname(out), `.${basename(source.url)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    log(`downloading ${source.url}`);
    let shown = -1;
    const { bytes, sha256 } = await downloadToFile(source.url, tmp, {
      idleTimeoutMs: opts.idleTimeoutMs ?? 60_000,
      onProgress: (got, total) => {
        // Redraw at most every 1% (or every MB when the size is unknown).
        const step = total ? Math.floor((got / total) * 100) : Math.floor(got / 1e6);
        if (!opts.progress || step === shown) return;
        shown = step;
        opts.progress(total ? `  ${formatMB(got)} / ${formatMB(total)} (${step}%)` : `  ${formatMB(got)}`);
      },
    });
    if (!sha256.startsWith(source.sha256Prefix)) {
      throw new DownloadError(
        `${source.url}: SHA-256 ${sha256.slice(0, 16)}… does not start with ${source.sha256Prefix} (the prefix in the file's name): a corrupt download or not the published file; nothing was cached`,
      );
    }
    log(`  ${formatMB(bytes)}, SHA-256 ${sha256.slice(0, 16)}… matches; converting`);
    const sd = io.parseTorch(await readFile(tmp), source.url);
    const classes = Array.from({ length: sd.get('fc.weight')?.shape[0] ?? 1000 }, (_, i) => String(i));
    await saveCheckedClassifier(out, sd, arch, classes, source.url);
    log(`cached ${arch} ImageNet weights: ${out}`);
    return out;
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

/**
 * Removes temporary files of `names` (the download, the model file being written) left by
 * runs that were killed (Ctrl-C, a crash): `.<name>.<pid>.<random>.tmp` whose process is
 * gone. A running download's files are kept.
 */
async function removeAbandoned(dir: string, names: string[]): Promise<void> {
  for (const f of await readdir(dir)) {
    const m = /^\.(.+)\.(\d+)\.[0-9a-f]+\.tmp$/.exec(f);
    if (!m || !names.includes(m[1]!) || alive(Number(m[2]))) continue;
    await unlink(join(dir, f)).catch(() => undefined);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
