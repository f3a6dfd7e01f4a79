/**
 * `tessera weights get <arch> [--mirror URL] [--timeout S]`: downloads, checks, converts and
 * caches torchvision's ImageNet weights, as torchvision does on first use.
 * `tessera weights list`: what each architecture would train from, and where it is.
 */
import { access, readdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ARCHS, checkArch } from '@tessera/nn';
import { cliCommand } from '@tessera/nn/node';
import { UsageError, parseArgs, type OptionTable } from '../args.js';
import { formatMB } from '../download.js';
import { fetchWeights } from '../fetch-weights.js';
import { torchvisionSource, weightsCacheDir } from '../weights-cache.js';
import { findWeights, weightsCandidates } from '../weights.js';
import type { Command } from './index.js';

/** `weights get`'s options (`weights list` has none). */
export const WEIGHTS_GET_OPTIONS = {
  mirror: { kind: 'string', metavar: 'URL', help: "a server holding torchvision's file names", defaultText: "$TESSERA_WEIGHTS_MIRROR, else PyTorch's download server" },
  timeout: { kind: 'number', default: 60, metavar: 'SECONDS', help: 'give up when no byte arrives for this long' },
} as const satisfies OptionTable;

const USAGE = 'weights: usage: weights get <resnet18 | resnet34 | resnet50> [--mirror URL] [--timeout SECONDS] | weights list';

async function get(argv: string[]): Promise<number> {
  const { positional, options } = parseArgs('weights get', argv, WEIGHTS_GET_OPTIONS);
  if (positional.length !== 1) throw new UsageError(USAGE);
  const arch = checkArch(positional[0]!);
  const timeout = (options.timeout as number | undefined) ?? 60;
  if (!(timeout > 0)) throw new UsageError(`weights get: --timeout must be a positive number of seconds, got ${timeout}`);
  const source = torchvisionSource(arch, (options.mirror as string | undefined) ?? process.env.TESSERA_WEIGHTS_MIRROR);
  if (!source) {
    const found = await findWeights(arch);
    console.log(`${arch}: nothing to download; ${found ? `its ImageNet weights are at ${found}` : 'no published file is known'}`);
    return 0;
  }
  const tty = process.stdout.isTTY;
  try {
    await fetchWeights(arch, source, {
      idleTimeoutMs: timeout * 1000,
      progress: tty ? (line) => process.stdout.write(`\r${line}\x1b[K`) : undefined,
      log: (line) => console.log(tty ? `\r\x1b[K${line}` : line),
    });
  } catch (e) {
    if (tty) process.stdout.write('\n'); // end the progress line before the error's
    throw e;
  }
  return 0;
}

/** A file's size; for a TF.js model.json, its whole folder's (the shards are the weights). */
async function sizeOf(path: string): Promise<number> {
  if (!path.endsWith('.json')) return (await stat(path)).size;
  const dir = dirname(path);
  const sizes = await Promise.all((await readdir(dir)).map(async (f) => (await stat(join(dir, f))).size));
  return sizes.reduce((a, b) => a + b, 0);
}

async function list(): Promise<number> {
  console.log(`cache: ${weightsCacheDir()}`);
  for (const arch of ARCHS) {
    let shown = false;
    for (const c of weightsCandidates(arch)) {
      if (!(await access(c.path).then(() => true, () => false))) continue;
      const size = await sizeOf(c.path);
      console.log(`${(shown ? '' : arch).padEnd(13)} ${c.place.padEnd(16)} ${c.path} (${formatMB(size)})${shown ? '' : '  ← used'}`);
      shown = true;
    }
    if (!shown) console.log(`${arch.padEnd(13)} ${'(none)'.padEnd(16)} run '${cliCommand(`weights get ${arch}`)}'`);
  }
  return 0;
}

export const weightsCommand: Command = {
  summary: 'download and cache ImageNet weights (weights get resnet34), or list what is available (weights list)',
  async run(argv) {
    const [sub, ...rest] = argv;
    if (sub === 'get') return get(rest);
    if (sub === 'list' && rest.length === 0) return list();
    throw new UsageError(USAGE);
  },
};
