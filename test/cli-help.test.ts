/**
 * `tessera --help`, `--version` and `<command> --help` from the built command line (`pnpm -s
 * build` first): help is printed on stdout with exit 0, before any argument is checked, and
 * lists every option of the command's table with its default.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, ROOT, tessera } from './support/cli.js';

const CLI_PACKAGE = JSON.parse(readFileSync(join(ROOT, 'packages/cli/package.json'), 'utf8')) as { version: string; bin: Record<string, string> };

describe.skipIf(!existsSync(CLI))('tessera help', () => {
  it('--version prints the package version', () => {
    const r = tessera(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(CLI_PACKAGE.version);
  });

  it('--help lists the commands; no command at all prints the same and exits 2', () => {
    const r = tessera(['--help']);
    expect(r.code).toBe(0);
    for (const c of ['train', 'lr-find', 'predict', 'convert', 'data', 'weights']) expect(r.stdout).toMatch(new RegExp(`^  ${c} `, 'm'));
    expect(tessera([]).code).toBe(2);
  });

  it('train --help lists every option with its default, even after a mistake in the other arguments', () => {
    const r = tessera(['train', 'no-such-folder', '--epochs', 'two', '--help']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const options = ['arch', 'pretrained', 'epochs', 'freeze-epochs', 'lr', 'bs', 'size', 'valid-pct', 'seed', 'out', 'tta', 'resume', 'per-class', 'workers', 'tune', 'from', 'max-bad-pct', 'verify-images'];
    for (const o of options) expect(r.stdout).toMatch(new RegExp(`^  --${o}\\b`, 'm'));
    expect(r.stdout).toMatch(/--seed N +.*\(default: 42\)/);
    expect(r.stdout).toMatch(/--max-bad-pct P +.*\(default: 10\)/);
  });

  it.each([['lr-find', '--num-it'], ['predict', '--topk'], ['convert', '--labels'], ['data', '--per-class'], ['weights', '--mirror']])('%s -h lists %s', (cmd, option) => {
    const r = tessera([cmd, '-h']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`usage: tessera ${cmd}`);
    expect(r.stdout).toContain(option);
  });

  it('an option after -- is an argument, not a request for help', () => {
    const r = tessera(['predict', 'no-such-model', 'x.jpg', '--', '--help']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no-such-model does not exist/);
  });

  it('the package names `tessera` as its command, and the root scripts call it', () => {
    expect(CLI_PACKAGE.bin).toEqual({ tessera: './bin/tessera.js' });
    const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    for (const c of ['train', 'lr-find', 'predict', 'convert', 'data', 'weights']) expect(scripts[c]).toBe(`tessera ${c}`);
  });
});
