#!/usr/bin/env node
/**
 * The tessera command line: parses arguments, calls the packages, prints.
 * Errors a user can cause are one line and a non-zero exit; `--debug` shows the stack.
 */
import { commands } from './commands/index.js';
import { UsageError } from './args.js';
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

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const debug = rest.includes('--debug');
  const args = rest.filter((a) => a !== '--debug');
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    printHelp();
    return name ? 0 : 2;
  }
  const cmd = commands[name];
  if (!cmd) {
    console.error(`tessera: unknown command '${name}'. Commands: ${Object.keys(commands).join(', ')}`);
    return 2;
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

function printHelp(): void {
  console.log('usage: tessera <command> [options]\n');
  for (const [name, c] of Object.entries(commands)) console.log(`  ${name.padEnd(9)} ${c.summary}`);
}

runToCompletion(main(process.argv.slice(2)), process.argv[2] ?? '');
