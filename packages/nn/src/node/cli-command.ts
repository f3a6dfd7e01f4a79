/**
 * How the person reading a message runs Tessera's CLI, so that a hint names a command they
 * have: inside the Tessera monorepo the root package.json's scripts (`pnpm weights get …`);
 * where the packages were installed from the registry or the tarballs, the `tessera` bin
 * (`npx tessera weights get …`). Told apart by this module's own location: an installed
 * package lives under a node_modules folder, the monorepo's sources and builds do not (pnpm's
 * workspace links resolve to packages/…).
 */
import { sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** True when `moduleUrl` (a module's import.meta.url) lies inside an installed package. */
export function isInstalledPackage(moduleUrl: string): boolean {
  const path = moduleUrl.startsWith('file:') ? fileURLToPath(moduleUrl) : moduleUrl;
  return path.split(sep).includes('node_modules');
}

/** The command line that runs the CLI's `args` for this installation, e.g. `weights get resnet34`. */
export function cliCommand(args: string, moduleUrl: string = import.meta.url): string {
  return `${isInstalledPackage(moduleUrl) ? 'npx tessera' : 'pnpm'} ${args}`;
}
