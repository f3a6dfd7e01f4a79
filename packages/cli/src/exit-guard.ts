/**
 * Ends the process with the command's exit code, and never silently. A top-level `await main()`
 * whose promise never settles (a data-loader worker or a GPU readback that stops answering, so
 * nothing keeps the event loop alive) makes Node exit with code 13 and print nothing. Here the
 * 'exit' listener notices that the command never finished and says so in one line, exit code 1.
 */
export function runToCompletion(run: Promise<number>, command: string): void {
  let finished = false;
  process.on('exit', () => {
    if (finished) return;
    console.error(
      `tessera ${command}: stopped before finishing: an operation never completed (a data-loader worker or the GPU stopped answering); rerun with --debug, and report it if it repeats`,
    );
    process.exitCode = 1;
  });
  run.then(
    (code) => {
      finished = true;
      process.exitCode = code;
    },
    (err: unknown) => {
      finished = true;
      console.error(`tessera ${command}: ${(err as Error)?.stack ?? String(err)}`);
      process.exitCode = 1;
    },
  );
}
