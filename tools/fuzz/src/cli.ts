/**
 * pnpm fuzz [--target a,b] [--cases N] [--seed S] [--time-limit MS] [--out DIR]
 * pnpm fuzz --replay fuzz-failures/<target>/<hash>.bin [--target T]
 * pnpm fuzz --list
 *
 * Runs each target's cases in a worker thread (runner.ts), prints cases/s and saves every
 * failing input; exits 1 when any case failed. A replay runs the one input the same way
 * (worker, time bound, allocation guard) and prints its outcome. See docs/fuzzing.md.
 */

import { readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { decodeInput } from './bundle.js';

interface Args { targets?: string[]; cases: number; seed: number; timeLimitMs: number; out: string; replay?: string; list: boolean }

function parseArgs(argv: string[]): Args {
  const args: Args = { cases: 10_000, seed: Date.now() % 2 ** 31, timeLimitMs: 5000, out: 'fuzz-failures', list: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    const count = (what: string) => {
      const v = value();
      const n = Number(v);
      if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${what} must be a whole number, got '${v}'`);
      return n;
    };
    if (a === '--') continue;
    else if (a === '--target') args.targets = value().split(',').filter(Boolean);
    else if (a === '--cases') args.cases = count('--cases');
    else if (a === '--seed') args.seed = count('--seed');
    else if (a === '--time-limit') args.timeLimitMs = count('--time-limit');
    else if (a === '--out') args.out = value();
    else if (a === '--replay') args.replay = value();
    else if (a === '--list') args.list = true;
    else throw new Error(`unknown argument '${a}' (see docs/fuzzing.md)`);
  }
  return args;
}

const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  // The parsers run in worker threads; this thread only needs the targets' names and seeds.
  const { TARGETS, targetNamed } = await import('./targets/index.js');
  const { skipped } = await import('./seeds/real-files.js');
  if (args.list) {
    for (const t of TARGETS) console.log(`${t.name.padEnd(13)} ${t.description}`);
    return 0;
  }
  // Output and replay paths are the user's, relative to where `pnpm fuzz` was typed.
  const cwd = process.env['INIT_CWD'] ?? process.cwd();
  if (args.replay) {
    const file = resolve(cwd, args.replay);
    const target = targetNamed(args.targets?.[0] ?? basename(dirname(file)));
    const { replayInWorker } = await import('./runner.js');
    const report = await replayInWorker(target, decodeInput(new Uint8Array(readFileSync(file))), args.timeLimitMs);
    const o = report.outcome;
    console.log(`${target.name}: ${file}: ${o.kind === 'failure' ? `FAIL ${o.reason}: ${o.detail}` : o.kind === 'rejected' ? `ok, rejected: ${o.message}` : 'ok, decoded'}` +
      ` (${report.ms.toFixed(1)} ms, ${mib(report.allocated)} allocated)`);
    return o.kind === 'failure' ? 1 : 0;
  }
  const { runTarget } = await import('./runner.js');
  const targets = (args.targets ?? TARGETS.map((t) => t.name)).map(targetNamed);
  const out = resolve(cwd, args.out);
  console.log(`fuzz: seed ${args.seed}, ${args.cases} cases per target, time bound ${args.timeLimitMs} ms per case; failing inputs go to ${out}`);
  let failed = 0;
  for (const target of targets) {
    const run = await runTarget(target, { cases: args.cases, runSeed: args.seed, timeLimitMs: args.timeLimitMs, out, log: console.log, progress: (line) => console.error(line) });
    failed += run.failures.length;
    console.log(`${target.name.padEnd(13)} ${run.cases} cases in ${run.seconds.toFixed(1)} s (${(run.cases / run.seconds).toFixed(0)} cases/s): ` +
      `${run.results} decoded, ${run.rejected} rejected with the parser's own error, ${run.failures.length} failures; ` +
      `slowest ${run.maxMs.toFixed(0)} ms, largest ${mib(run.maxAllocated)}; ${run.seeds.length} seeds, ${run.truncations} truncations`);
  }
  for (const s of new Set(skipped)) console.log(`note: seed skipped: ${s}`);
  console.log(failed ? `fuzz: ${failed} failing case(s); replay each with pnpm fuzz --replay FILE` : 'fuzz: no failures');
  return failed ? 1 : 0;
}

main().then((code) => { process.exitCode = code; }, (err: Error) => { console.error(`fuzz: ${err.message}`); process.exitCode = 2; });
