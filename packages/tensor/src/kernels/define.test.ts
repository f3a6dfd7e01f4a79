// defineKernel's generated header and uniform layout (device-free; also in the browser project).
// The rule that no kernel outside the generator writes its own header: test/kernel-headers.test.ts.
import { describe, expect, it } from 'vitest';
import { defineKernel, packUniforms } from './define.js';

describe('defineKernel', () => {
  const k = defineKernel({
    name: 'layout_probe',
    uniforms: { n: 'u32', s: 'f32', i: 'i32', off: 'vec4<u32>', shape: 'dims', m: 'vec4<f32>', last: 'u32' },
    inputs: { x: 'array<f32>' },
    outputs: { y: 'array<f32>' },
    uniformBuffers: { w: 'array<vec4<f32>, 4>' },
    workgroupSize: 64,
    body: '// probe\nfn main(@builtin(global_invocation_id) g: vec3<u32>) { y[g.x] = x[g.x] * u.s; }\n',
  });

  it('generates the struct, the bindings in declaration order and the entry attribute', () => {
    expect(k.code).toContain('struct U {\n  n: u32,\n  s: f32,\n  i: i32,\n  off: vec4<u32>,\n  shape: array<vec4<u32>, 2>,\n  m: vec4<f32>,\n  last: u32,\n}');
    expect(k.code).toContain('@group(0) @binding(0) var<uniform> u: U;');
    expect(k.code).toContain('@group(0) @binding(1) var<storage, read> x: array<f32>;');
    expect(k.code).toContain('@group(0) @binding(2) var<storage, read_write> y: array<f32>;');
    expect(k.code).toContain('@group(0) @binding(3) var<uniform> w: array<vec4<f32>, 4>;');
    expect(k.code).toContain('const WG = 64u;');
    expect(k.code).toContain('@compute @workgroup_size(WG)\nfn main(');
    expect(k.bindings).toEqual(['x', 'y', 'w']);
  });

  it("packs by name with WGSL's alignment: vec4 and dims fields start on 16 bytes", () => {
    const words = packUniforms(k, { n: 7, s: 1.5, i: -2, off: [1, 2, 3], shape: [4, 5, 6, 7, 8], m: [0.25], last: 9 });
    // n s i _ | off(4) | shape(8) | m(4) | last _ _ _
    expect(words.length).toBe(24);
    const f32 = new Float32Array(words.buffer);
    const i32 = new Int32Array(words.buffer);
    expect([words[0], f32[1], i32[2], words[3]]).toEqual([7, 1.5, -2, 0]);
    expect([...words.slice(4, 8)]).toEqual([1, 2, 3, 0]);
    expect([...words.slice(8, 16)]).toEqual([4, 5, 6, 7, 8, 0, 0, 0]);
    expect(f32[16]).toBe(0.25);
    expect([...words.slice(20, 24)]).toEqual([9, 0, 0, 0]);
  });

  it('a field left out is zero, also after a previous pack filled it', () => {
    packUniforms(k, { n: 1, last: 5 });
    expect(packUniforms(k, { n: 2 })[20]).toBe(0);
  });

  it('one definition per generated source; a body without fn main is refused', () => {
    const again = defineKernel({ name: 'other_label', outputs: { y: 'array<f32>' }, workgroupSize: [8, 8], body: 'fn main() { y[0] = 1.0; }' });
    expect(again.code).toContain('@compute @workgroup_size(8, 8)\nfn main()');
    expect(defineKernel({ name: 'x', outputs: { y: 'array<f32>' }, workgroupSize: [8, 8], body: 'fn main() { y[0] = 1.0; }' })).toBe(again);
    expect(() => defineKernel({ name: 'no_main', workgroupSize: 1, body: 'fn helper() {}' })).toThrow(/no fn main/);
  });
});
