// The command a hint names: `pnpm <script>` inside the monorepo (these tests run from its
// sources), `npx tessera …` where the packages were installed (a path under node_modules).
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cliCommand, isInstalledPackage } from './cli-command.js';
import { missingWeightsMessage } from './pretrained-weights.js';

describe('cliCommand', () => {
  it('names the root script inside the monorepo', () => {
    expect(isInstalledPackage(import.meta.url)).toBe(false);
    expect(cliCommand('weights get resnet34')).toBe('pnpm weights get resnet34');
    expect(missingWeightsMessage('resnet34')).toContain(`run 'pnpm weights get resnet34'`);
  });

  it('names the tessera bin through npx where the packages are installed', () => {
    const installed = pathToFileURL(join('/home/me/app', 'node_modules', '@tessera', 'nn', 'dist', 'node', 'cli-command.js')).href;
    expect(isInstalledPackage(installed)).toBe(true);
    expect(cliCommand('weights get resnet34', installed)).toBe('npx tessera weights get resnet34');
    // A folder merely named like one is not node_modules.
    expect(isInstalledPackage(pathToFileURL('/home/me/my_node_modules_notes/nn/x.js').href)).toBe(false);
  });
});
