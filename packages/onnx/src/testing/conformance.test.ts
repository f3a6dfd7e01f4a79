// ONNX's own backend node tests for every operator the importer supports (see
// testing/node-tests.ts for how cases are chosen and compared). No supported case may fail,
// and docs/onnx.md must hold the table this run produces (TESSERA_WRITE_ONNX_TABLE=1 rewrites
// it). Skips, saying why, when the suite is not installed (libonnx-testdata / python3-onnx).
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initDevice } from '@tessera/tensor';
import { conformanceTable, findNodeTests, listCases, runCase, type CaseResult } from './node-tests.js';

const root = findNodeTests();
if (!root) console.log('[onnx conformance] skipped: ONNX backend node tests not found (apt-get install libonnx-testdata, or set TESSERA_ONNX_NODE_TESTS)');
const DOC = resolve(import.meta.dirname, '../../../../docs/onnx.md');
const START = '<!-- conformance-table:start -->';
const END = '<!-- conformance-table:end -->';

describe.skipIf(!root)('ONNX backend node tests', () => {
  const results: CaseResult[] = [];
  beforeAll(async () => {
    await initDevice();
  });

  it('every case of a supported operator passes or is reported unsupported', async () => {
    const cases = listCases(root!);
    for (const [name, op] of cases) results.push(await runCase(root!, name, op));
    const failed = results.filter((r) => r.status === 'failed');
    const passed = results.filter((r) => r.status === 'passed').length;
    console.log(`[onnx conformance] ${cases.length} cases: ${passed} passed, ${failed.length} failed, ${cases.length - passed - failed.length} unsupported`);
    expect(passed).toBeGreaterThan(50);
    expect(failed).toEqual([]);
  }, 600_000);

  it('docs/onnx.md holds this table', () => {
    const table = conformanceTable(results);
    const doc = readFileSync(DOC, 'utf8');
    const [before, rest] = doc.split(START);
    const after = rest?.split(END)[1];
    if (before === undefined || after === undefined) throw new Error(`${DOC} has no ${START} … ${END} section`);
    const fresh = `${before}${START}\n${table}\n${END}${after}`;
    if (process.env['TESSERA_WRITE_ONNX_TABLE'] === '1') writeFileSync(DOC, fresh);
    expect(doc, 'docs/onnx.md is out of date: rerun with TESSERA_WRITE_ONNX_TABLE=1').toBe(fresh);
  });
});
