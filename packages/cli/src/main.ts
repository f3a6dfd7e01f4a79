#!/usr/bin/env node
/**
 * The tessera command line: parses arguments, calls the packages, prints.
 * Errors a user can cause are one line and a non-zero exit; `--debug` shows the stack.
 */
import { readFileSync } from 'node:fs';
import { commands, commandHelp, type CommandName } from './commands/index.js';
import { UsageError, formatHelp, wantsHelp } from './args.js';
import { runToCompletion } from './exit-guard.js';

const EXPECTED_ERRORS = new Set([
  'TesseraError',
  'DeviceError',
  'OutOfMemoryError',
  'TesseraVisionError',
  'ImageDecodeError',
  'WeightFileError',
  'WeightMismatchError',
  'TrainingDivergedError',
  'CheckpointError',
  'DownloadError',
  'FileReadError',
  'RunLockedError',
  'FileWriteError',
]);

/** This package's version: package.json sits beside dist/ and src/ in the repository and the tarball. */
function version(): string {
  return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

function printHelp(): void {
  const names = Object.keys(commands) as CommandName[];
  const width = Math.max(...names.map((n) => n.length));
  console.log('usage: tessera <command> [options]\n\ncommands:');
  for (const name of names) console.log(`  ${name.padEnd(width)}  ${commands[name].summary}`);
  console.log(`\n'tessera <command> --help' lists a command's options and their defaults; --version prints ${version()}.`);
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const debug = rest.includes('--debug');
  const args = rest.filter((a) => a !== '--debug');
  if (name === '--version' || name === '-v') {
    console.log(version());
    return 0;
  }
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    printHelp();
    return name ? 0 : 2;
  }
  if (!Object.hasOwn(commands, name)) {
    console.error(`tessera: unknown command '${name}'. Commands: ${Object.keys(commands).join(', ')}`);
    return 2;
  }
  const cmd = commands[name as CommandName];
  if (wantsHelp(args)) {
    const h = commandHelp[name as CommandName];
    console.log(formatHelp(h.usage, cmd.summary, h.options, h.notes));
    return 0;
  }
  try {
    return await cmd.run(args);
  } catch (e) {
    const err = e as Error;
    // Errors the packages raise on purpose already say what to do; others get a pointer to --debug.
    const expected = err instanceof UsageError || EXPECTED_ERRORS.has(err.name);
    if (debug) console.error(err.stack ?? err);
    else {
      const msg = err.message.startsWith(`${name}: `) ? err.message : `${name}: ${err.message}`;
      console.error(`tessera ${msg}${expected ? '' : ' (rerun with --debug for details)'}`);
    }
    return err instanceof UsageError ? 2 : 1;
  }
}

runToCompletion(main(process.argv.slice(2)), process.argv[2] ?? '');
