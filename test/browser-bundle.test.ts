// The browser entry points must bundle for a browser: nothing they import, however indirectly,
// may be a Node built-in (node:fs, path, worker_threads...) or a Node-only package (Dawn's
// `webgpu`). Each entry is bundled with esbuild as a web app's bundler would (platform browser,
// the `browser` export condition; `development` so the TypeScript sources are checked, not a
// possibly stale dist/), and every such import is reported with the chain of files that reaches
// it. The check is also run on a planted Node import, so it cannot pass by seeing nothing.
import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { build, type Metafile, type Plugin } from 'esbuild';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const ENTRIES = ['@tessera/tensor', '@tessera/nn', '@tessera/vision', '@tessera/onnx', '@tessera/fastai'];
/** Packages that only work in Node although they are not built-ins. */
const NODE_ONLY_PACKAGES = ['webgpu', 'pngjs', '@resvg/resvg-js', 'dejavu-fonts-ttf'];

const BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

function isNodeOnly(spec: string): boolean {
  if (spec.startsWith('node:') || BUILTINS.has(spec)) return true;
  const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
  return NODE_ONLY_PACKAGES.includes(name);
}

export interface NodeImport {
  /** The Node-only module imported. */
  module: string;
  /** Files from the entry to the importer (repository-relative), then the module. */
  chain: string[];
}

/**
 * Whether the importing file's package maps `spec` to nothing for browsers (package.json
 * `"browser": { "fs": false }`, as protobufjs does for its optional `fs`): every browser
 * bundler, esbuild included, then bundles an empty module, so that import never reaches Node.
 */
function browserMapsAway(importer: string, spec: string): boolean {
  for (let dir = dirname(importer); dir !== dirname(dir); dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (!existsSync(pkg)) continue;
    const browser = (JSON.parse(readFileSync(pkg, 'utf8')) as { browser?: unknown }).browser;
    return typeof browser === 'object' && browser !== null && (browser as Record<string, unknown>)[spec] === false;
  }
  return false;
}

/** Leaves Node-only imports out of the bundle (marked external) so that all of them get reported. */
const markNodeOnly: Plugin = {
  name: 'mark-node-only',
  setup(b) {
    b.onResolve({ filter: /.*/ }, (args) =>
      isNodeOnly(args.path) && !browserMapsAway(args.importer, args.path) ? { path: args.path, external: true } : undefined,
    );
  },
};

/** Bundles `source` (an entry module's text) for a browser and lists the Node-only imports it reaches. */
export async function nodeImportsOf(source: string, plugins: Plugin[] = []): Promise<NodeImport[]> {
  const result = await build({
    stdin: { contents: source, resolveDir: import.meta.dirname, sourcefile: '<entry>', loader: 'ts' },
    bundle: true,
    write: false,
    metafile: true,
    format: 'esm',
    platform: 'browser',
    conditions: ['development', 'browser'],
    logLevel: 'silent',
    absWorkingDir: ROOT,
    plugins: [markNodeOnly, ...plugins],
  });
  return findNodeImports(result.metafile);
}

/** Breadth-first from the entry, so each reported chain is a shortest one. */
function findNodeImports(meta: Metafile): NodeImport[] {
  // stdin's sourcefile is placed in resolveDir ('test/<entry>').
  const entry = Object.keys(meta.inputs).find((k) => k.endsWith('<entry>'));
  if (entry === undefined) throw new Error(`no <entry> among the bundle's inputs: ${Object.keys(meta.inputs).slice(0, 5).join(', ')}`);
  const parent = new Map<string, string | null>([[entry, null]]);
  const queue = [entry];
  const found: NodeImport[] = [];
  const chainTo = (file: string): string[] => {
    const chain: string[] = [];
    for (let f: string | null = file; f !== null; f = parent.get(f) ?? null) chain.unshift(f);
    return chain.map((f) => (f === entry ? '<entry>' : f.startsWith('/') ? relative(ROOT, f) : f)); // otherwise relative to ROOT already
  };
  while (queue.length > 0) {
    const file = queue.shift()!;
    for (const imp of meta.inputs[file]?.imports ?? []) {
      if (imp.external && isNodeOnly(imp.path)) found.push({ module: imp.path, chain: [...chainTo(file), imp.path] });
      else if (!imp.external && !parent.has(imp.path)) {
        parent.set(imp.path, file);
        queue.push(imp.path);
      }
    }
  }
  // Every input must have been reached: an unvisited one would mean the walk missed part of the graph.
  const missed = Object.keys(meta.inputs).filter((k) => !parent.has(k));
  if (missed.length > 0) throw new Error(`import walk missed ${missed.length} bundled files, e.g. ${missed[0]}`);
  return found;
}

function describeImports(found: NodeImport[]): string {
  return found.map((f) => `${f.module}: ${f.chain.join(' -> ')}`).join('\n');
}

describe('browser entry points bundle without Node', () => {
  it('catches a planted Node import and names the chain that reaches it', async () => {
    // A module two steps from the entry that imports node:path, beside a real entry point.
    const planted: Plugin = {
      name: 'planted',
      setup(b) {
        b.onResolve({ filter: /^virtual:/ }, (args) => ({ path: args.path.slice('virtual:'.length), namespace: 'virtual' }));
        b.onLoad({ filter: /.*/, namespace: 'virtual' }, (args) => ({
          contents: args.path === 'a.js' ? "import 'virtual:b.js'; export const a = 1;" : "import { join } from 'node:path'; export const b = join('x', 'y');",
          loader: 'js',
        }));
      },
    };
    const found = await nodeImportsOf("export * from '@tessera/vision'; export { a } from 'virtual:a.js';", [planted]);
    expect(found).toEqual([{ module: 'node:path', chain: ['<entry>', 'virtual:a.js', 'virtual:b.js', 'node:path'] }]);
    // And a real Node-only entry point is caught too.
    const nodeEntry = await nodeImportsOf("export * from '@tessera/vision/node';");
    expect(nodeEntry.map((f) => f.module)).toEqual(expect.arrayContaining(['node:fs/promises', 'node:worker_threads']));
    const readImage = nodeEntry.find((f) => f.chain.includes('packages/vision/src/node/read-image.ts'));
    expect(readImage?.chain.slice(0, 3)).toEqual(['<entry>', 'packages/vision/src/node/index.ts', 'packages/vision/src/node/read-image.ts']);
  });

  for (const entry of ENTRIES) {
    it(`${entry} reaches no Node built-in or Node-only package`, async () => {
      const found = await nodeImportsOf(`export * from '${entry}';`);
      expect(found, `Node-only imports reached from ${entry}:\n${describeImports(found)}`).toEqual([]);
    });
  }
});
