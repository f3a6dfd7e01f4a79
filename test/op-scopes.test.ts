// Ops free their temporaries with memory scopes, not by hand: defineOp runs forward and
// backward in a tidy scope, and composite functions wrap their bodies in tidy(). A
// hand-written `.dispose()` under ops/ is a free that a thrown error skips and a later edit
// can get wrong; only the registry, which owns the tensors a forward saves, writes one.
// (Node only: it reads the tree.)
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { expect, it } from 'vitest';
import { ROOT } from './support/cli.js';

function opSources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) opSources(p, out);
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

it('no op frees a tensor by hand outside the registry', () => {
  const ops = join(ROOT, 'packages/tensor/src/ops');
  const offenders: string[] = [];
  for (const file of opSources(ops)) {
    const rel = relative(ROOT, file);
    if (rel === 'packages/tensor/src/ops/registry.ts') continue;
    readFileSync(file, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        if (/\.dispose\(\)/.test(line) && !/^\s*(\/\/|\*)/.test(line)) offenders.push(`${rel}:${i + 1}`);
      });
  }
  expect(offenders).toEqual([]);
});
