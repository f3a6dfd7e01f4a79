/**
 * Downloads one URL to a file, hashing it on the way. Whatever goes wrong (an HTTP error,
 * a body shorter than its Content-Length, a server that stops sending for `idleTimeoutMs`)
 * is a DownloadError with one line naming the URL; the caller owns the file and removes it.
 */
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';

export class DownloadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DownloadError';
  }
}

export interface DownloadOptions {
  /** Give up when no byte arrives for this long (also while waiting for the response). */
  idleTimeoutMs: number;
  /** Called as bytes arrive; `total` is the Content-Length when the server sent one. */
  onProgress?: (received: number, total: number | undefined) => void;
}

export function formatMB(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

export async function downloadToFile(url: string, path: string, opts: DownloadOptions): Promise<{ bytes: number; sha256: string }> {
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let stalled = false;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      stalled = true;
      abort.abort();
    }, opts.idleTimeoutMs);
  };
  const hash = createHash('sha256');
  let received = 0;
  let total: number | undefined;
  const file = await open(path, 'wx');
  try {
    arm();
    const res = await fetch(url, { signal: abort.signal, redirect: 'follow' });
    if (!res.ok || !res.body) throw new DownloadError(`${url}: HTTP ${res.status} ${res.statusText}`.trim());
    const length = Number(res.headers.get('content-length'));
    total = Number.isFinite(length) && length > 0 ? length : undefined;
    const reader = res.body.getReader();
    for (;;) {
      const { done, value: chunk } = await reader.read();
      if (done) break;
      arm();
      hash.update(chunk);
      await file.write(chunk);
      received += chunk.length;
      opts.onProgress?.(received, total);
    }
    if (total !== undefined && received !== total) throw new DownloadError(truncated(url, received, total));
    await file.sync();
    return { bytes: received, sha256: hash.digest('hex') };
  } catch (e) {
    if (e instanceof DownloadError) throw e;
    const seconds = (opts.idleTimeoutMs / 1000).toFixed(opts.idleTimeoutMs < 1000 ? 1 : 0);
    if (stalled) throw new DownloadError(`${url}: no data for ${seconds} s after ${formatMB(received)}; the server stalled (retry, or raise --timeout)`);
    // A connection closed mid-body surfaces as a generic fetch error ("terminated").
    if (total !== undefined && received < total) throw new DownloadError(truncated(url, received, total));
    const cause = (e as Error & { cause?: Error }).cause;
    throw new DownloadError(`${url}: ${cause?.message ?? (e as Error).message}`);
  } finally {
    clearTimeout(timer);
    await file.close();
  }
}

function truncated(url: string, received: number, total: number): string {
  return `${url}: the connection ended after ${received} of ${total} bytes (a truncated download); retry`;
}
