/**
 * Every benchmark case, in the order they run. A new benchmark (conv, batchnorm, a
 * training step…) is a module under cases/ exporting its BenchCase list, added here.
 */
import type { BenchCase } from '../harness.js';
import { convCases } from './conv.js';
import { normCases } from './norm.js';
import { pipelineCases } from './pipeline.js';
import { matmulCases } from './matmul.js';
import { gemmCeilingCase } from './gemm-ceiling.js';

export const ALL_CASES: BenchCase[] = [...matmulCases, gemmCeilingCase, ...convCases, ...normCases, ...pipelineCases];
