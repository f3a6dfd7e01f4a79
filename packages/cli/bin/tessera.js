#!/usr/bin/env node
// The `tessera` command. The CLI itself is the TypeScript build in dist/; this file exists before
// the build so that `pnpm install` can link the command in the repository (root `pnpm train` …).
import { existsSync } from 'node:fs';

const main = new URL('../dist/main.js', import.meta.url);
if (existsSync(main)) await import(main.href);
else {
  console.error('tessera: the command line is not built yet; run `pnpm build` in the repository first');
  process.exitCode = 1;
}
