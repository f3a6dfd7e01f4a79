/**
 * gemm-ceiling: what the subgroup GEMM kernel could reach on this adapter if reading
 * its operands cost nothing. The same generated kernel (one ResNet-34 conv3_x implicit-
 * GEMM shape, 12544×128×1152) runs with each operand either read from memory or made
 * up in registers from its indices (no load at all); all four combinations are timed
 * in one run. The no-memory figure bounds what any tiling of this kernel can reach
 * here; the gaps say how much of the time reading A and reading B cost. On lavapipe a
 * load is one instruction per lane and component with a bounds check, and a
 * multiply-add is a multiply and an add (NIR lowers ffma), which is why both matter.
 */
import { MAX_BATCH_RANK, type OperandHook, Tensor, gemmVariantUnsupported, randn, runGemm, stridedEpilogue, stridedParamValues, sync } from '@tessera/tensor';
import { timeInterleaved, type BenchCase, type Timed } from '../harness.js';

const [M, N, K] = [12544, 128, 1152];

/** Row-major [rows, K] read as vec4 runs along k (the conv hooks' layout for A and for the weights). */
function fromMemory(role: 'A' | 'B', name: string): OperandHook {
  const [fn, args] = role === 'A' ? ['loadA', 'm: u32, k: u32'] : ['loadB', 'k: u32, n: u32'];
  const row = role === 'A' ? 'm' : 'n';
  return {
    bindings: [{ name }, { name: `${name}4`, type: 'array<vec4<f32>>' }],
    code: `fn ${fn}(base: u32, ${args}) -> f32 { return ${name}[${row} * ${K}u + k]; }
fn ${fn}4(base: u32, ${args}) -> vec4<f32> { return ${name}4[(${row} * ${K}u + k) >> 2u]; }
`,
    vec4: 'k',
  };
}

/** The same shape of operand with values made from the indices: no memory read. */
function inRegisters(role: 'A' | 'B', name: string): OperandHook {
  const [fn, args] = role === 'A' ? ['loadA', 'm: u32, k: u32'] : ['loadB', 'k: u32, n: u32'];
  const row = role === 'A' ? 'm' : 'n';
  return {
    bindings: [{ name }],
    code: `fn ${fn}(base: u32, ${args}) -> f32 { return f32((${row} ^ k) & 7u); }
fn ${fn}4(base: u32, ${args}) -> vec4<f32> { return vec4<f32>(f32((${row} ^ k) & 7u), f32(${row} & 3u), f32(k & 3u), 1.0); }
`,
    vec4: 'k',
  };
}

export const gemmCeilingCase: BenchCase = {
  name: 'gemm-ceiling',
  shape: `${M}x${N}x${K}`,
  flops: 2 * M * N * K,
  async run(ctx) {
    const why = gemmVariantUnsupported('subgroup');
    if (why) return { ms: Number.NaN, refs: [], skipped: `the subgroup GEMM does not run here: ${why}` };
    const a = randn([M, K]);
    const b = randn([N, K]);
    const c = Tensor.empty([M, N]);
    const epilogue = stridedEpilogue({ batchRank: MAX_BATCH_RANK, vec4: true });
    const params = stridedParamValues('c', { offset: 0, ld: N, batchShape: [1, 1, 1], batchStrides: [0, 0, 0] });
    const variant = (aMem: boolean, bMem: boolean): Timed => {
      const ah = aMem ? fromMemory('A', 'xa') : inRegisters('A', 'xa');
      const bh = bMem ? fromMemory('B', 'xb') : inRegisters('B', 'xb');
      const buffers = [...ah.bindings.map(() => a.buffer), ...bh.bindings.map(() => b.buffer), c.buffer];
      const name = `ceiling_${aMem ? 'a' : 'x'}${bMem ? 'b' : 'x'}`;
      return { run: () => void runGemm({ name, M, N, K, batch: 1, a: ah, b: bh, c: epilogue, buffers, params, variant: 'subgroup' }), settle: sync };
    };
    const [both, aOnly, bOnly, none] = (await timeInterleaved(
      [variant(true, true), variant(true, false), variant(false, true), variant(false, false)],
      ctx.reps,
    )) as [number, number, number, number];
    for (const t of [a, b, c]) t.dispose();
    ctx.log(`  operands from memory ${both.toFixed(1)} ms; in registers ${none.toFixed(1)} ms`);
    return {
      ms: both,
      refs: [
        { name: 'A from memory, B in registers', ms: aOnly },
        { name: 'A in registers, B from memory', ms: bOnly },
        { name: 'both in registers (no loads)', ms: none },
      ],
      notes: ['the same subgroup kernel; operands "in registers" are made from their indices instead of loaded'],
    };
  },
};
