#!/usr/bin/env node
// Prints the WebGPU adapter Dawn finds, or exits 1 when there is none.
// Used by scripts/setup.sh to decide whether a software Vulkan driver is needed.
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';

if (!process.env.XDG_RUNTIME_DIR) {
  const dir = `${tmpdir()}/tessera-xdg-${process.getuid?.() ?? 0}`;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  process.env.XDG_RUNTIME_DIR = dir;
}
let gpu;
try {
  const { create } = await import('webgpu');
  gpu = create([]);
} catch (e) {
  console.error(`cannot load Dawn (the webgpu package): ${e.message}`);
  process.exit(1);
}
const adapter = await gpu.requestAdapter();
if (!adapter) {
  console.error('no WebGPU adapter');
  process.exit(1);
}
const i = adapter.info;
console.log(`${i.vendor || '?'} ${i.architecture || ''} ${i.description || ''}`.replace(/\s+/g, ' ').trim());
process.exit(0);
