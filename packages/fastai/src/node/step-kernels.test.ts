// stepKernels(learn): the kernels a fine-tune will need, found by tracing its steps (no
// command runs). Checked against a real fineTune in the same process: every traced kernel
// is one the fit then uses (nothing compiled ahead is wasted), the fit compiles few others
// (the optimizer's and the metrics', which are not traced), and the trace changed nothing
// the learner holds: parameters, BatchNorm statistics, the random generator, the gradients
// and the trainable flags.
import { expect, it } from 'vitest';
import { type Tensor, getSeedState, kernelSources, manualSeed } from '@tessera/tensor';
import { ImageDataLoaders, errorRate, stepKernels, visionLearner } from './index.js';

const values = (ts: Tensor[]) => Promise.all(ts.map(async (t) => [...(await t.toArray())]));

it('traces the kernels a fine-tune then compiles, without changing the learner', async () => {
  manualSeed(3);
  const dls = await ImageDataLoaders.counting({ range: [1, 3], perClass: 8, size: 32, bs: 4, seed: 3, workers: 0 });
  try {
    // The bundled ImageNet weights: a frozen body, as at the start of fineTune.
    const learn = await visionLearner(dls, 'darknet-tiny', { metrics: [errorRate], progress: false });
    const params = learn.model.parameters();
    const flags = params.map((p) => p.requiresGrad);
    expect(flags.some((f) => !f)).toBe(true);
    const held = [...params, ...learn.model.namedBuffers().map(([, t]) => t)];
    const before = await values(held);
    const seed = getSeedState();
    const compiled = new Set(kernelSources().map((k) => k.code));

    const traced = stepKernels(learn);
    expect(traced.length).toBeGreaterThan(20);
    expect(traced.every((k) => !compiled.has(k.code))).toBe(true);
    expect(kernelSources().length).toBe(compiled.size); // noted, not compiled
    expect(getSeedState()).toBe(seed);
    expect(params.map((p) => p.requiresGrad)).toEqual(flags);
    expect(params.every((p) => p.grad === null)).toBe(true);
    expect(await values(held)).toEqual(before);

    await learn.fineTune(1, 2e-3);
    const used = kernelSources().filter((k) => !compiled.has(k.code));
    const usedCodes = new Set(used.map((k) => k.code));
    const tracedCodes = new Set(traced.map((k) => k.code));
    const unused = traced.filter((k) => !usedCodes.has(k.code)).map((k) => k.name);
    const untraced = used.filter((k) => !tracedCodes.has(k.code)).map((k) => k.name);
    console.log(`[stepKernels] ${traced.length} traced, all used by fineTune; ${untraced.length} of its ${used.length} kernels not traced: ${untraced.join(', ')}`);
    expect(unused).toEqual([]);
    expect(untraced.length).toBeLessThanOrEqual(used.length / 5);
  } finally {
    await dls.close();
  }
});
