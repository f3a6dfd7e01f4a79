// No kernel outside defineKernel (packages/tensor/src/kernels/define.ts) writes its own uniform
// struct or binding list: the header is generated from the declaration, so uniforms and
// bindings cannot drift from the call sites that bind them by name. (Node only: it reads the tree.)
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { expect, it } from 'vitest';
import { ROOT } from './support/cli.js';

/** Source files of the packages and tools a kernel can live in. */
function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) sources(p, out);
    else if (/\.(ts|js|wgsl)$/.test(name)) out.push(p);
  }
  return out;
}

// The generator and its own test (which checks the header it writes), and the runtime tests that drive raw WebGPU below defineKernel on purpose
// (a deliberately broken shader, a dispatch one binding short).
const ALLOWED = new Set(['packages/tensor/src/kernels/define.ts', 'packages/tensor/src/kernels/define.test.ts', 'packages/tensor/src/runtime/runtime.test.ts', 'packages/tensor/src/runtime/adapter.test.ts']);

it('no uniform struct or binding is written by hand outside defineKernel', () => {
  const offenders: string[] = [];
  for (const top of ['packages', 'bench', 'tools', 'apps']) {
    for (const file of sources(join(ROOT, top))) {
      const rel = relative(ROOT, file);
      if (ALLOWED.has(rel)) continue;
      const text = readFileSync(file, 'utf8');
      if (/struct U\b|@binding\(/.test(text)) offenders.push(rel);
    }
  }
  expect(offenders).toEqual([]);
});
