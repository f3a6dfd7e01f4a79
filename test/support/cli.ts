/**
 * The built command line as the end-to-end tests run it: `node packages/cli/dist/main.js …`
 * (`pnpm test` builds first), with Dawn's start-up noise taken out of stderr so a test can
 * demand "exactly one line" of a user error.
 */
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');
export const CLI = join(ROOT, 'packages/cli/dist/main.js');

/** Dawn prints two harmless limit warnings on lavapipe when it starts; they are not ours. */
export function withoutDawnNoise(stderr: string): string {
  return stderr.split('\n').filter((l) => l && !l.startsWith('Warning: maxDynamic')).join('\n');
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  signal: NodeJS.Signals | null;
}

/** Runs `tessera ARGS` to the end; `env` adds to this process's environment. */
export function tessera(args: string[], opts: { env?: Record<string, string>; timeout?: number } = {}): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...opts.env },
    timeout: opts.timeout ?? 600_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: withoutDawnNoise(r.stderr), signal: r.signal };
}
