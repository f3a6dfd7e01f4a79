/**
 * The packages as a user outside this repository gets them: each publishable package is packed
 * with `pnpm pack`, the tarballs are installed into a fresh project in the system's temporary
 * folder with plain `npm install` (their third-party dependencies from the registry, no
 * workspace links, no tsx), and there:
 *  - `npx tessera --help`, `--version` and `train --help` answer;
 *  - `npx tessera predict darknet-tiny <image>` classifies with the Tiny Darknet weights that
 *    ship inside the @tessera/nn tarball (`weights list` shows they are the ones used);
 *  - `tsc` compiles test/fixtures/pack-consumer.ts and every examples/*.ts against the
 *    installed declarations, strictly and with the libraries' own declarations checked, and the
 *    compiled fixture runs.
 * Needs the built packages (`pnpm -s build`), pnpm, npm and the npm registry (or its cache).
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, ROOT, withoutDawnNoise } from './support/cli.js';

const PACKAGES = ['tensor', 'vision', 'nn', 'onnx', 'fastai', 'cli'] as const;
type Pkg = (typeof PACKAGES)[number];
const work = mkdtempSync(join(tmpdir(), 'tessera-pack-'));
const tarballs = join(work, 'tarballs');
const project = join(work, 'project');
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Runs a command to the end; a failure shows its output. */
function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout: 300_000 });
  if (r.error) throw r.error;
  return r;
}

function ok(r: SpawnSyncReturns<string>, what: string): string {
  expect(r.status, `${what} failed:\n${r.stdout}\n${withoutDawnNoise(r.stderr)}`).toBe(0);
  return r.stdout;
}

/**
 * The environment of the installed project: not $TESSERA_WEIGHTS, nor npm's run variables. (The
 * user cache stays: it holds only what `weights get` fetched, ResNets; moving XDG_CACHE_HOME
 * would also move Mesa's shader cache and cost minutes.)
 */
function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, npm_config_update_notifier: 'false' };
  delete env.TESSERA_WEIGHTS;
  for (const k of Object.keys(env)) if (k.startsWith('npm_package_') || k.startsWith('npm_lifecycle_')) delete env[k];
  return env;
}

const tarball = (p: Pkg) => join(tarballs, `tessera-${p}-0.1.0.tgz`);
const sourceManifest = (p: Pkg) => JSON.parse(readFileSync(join(ROOT, 'packages', p, 'package.json'), 'utf8'));
const packedManifest = (p: Pkg) => JSON.parse(ok(run('tar', ['-xzf', tarball(p), '-O', 'package/package.json'], work), `reading ${p}'s packed manifest`));
const packedFiles = (p: Pkg) => new Set(ok(run('tar', ['-tzf', tarball(p)], work), `listing ${p}'s tarball`).split('\n').filter(Boolean).map((f) => f.replace(/^package\//, '')));

/** Every path a manifest's exports/imports/bin point at. */
function targets(x: unknown): string[] {
  if (typeof x === 'string') return [x];
  if (x && typeof x === 'object') return Object.values(x).flatMap(targets);
  return [];
}

/** A sample photo: the shared data's cat when present (its class is checked), else a picture in the repository. */
const CAT = process.env.TESSERA_DATA ? join(process.env.TESSERA_DATA, 'samples', 'cat.jpg') : '';
const SAMPLE = existsSync(CAT) ? CAT : join(ROOT, 'docs', 'images', 'web-app.png');
if (SAMPLE !== CAT) console.log(`pack-install: ${CAT || '$TESSERA_DATA/samples/cat.jpg'} is absent; predicting on ${SAMPLE} without checking its class`);

describe.skipIf(!existsSync(CLI))('the packed packages, installed outside the monorepo', () => {
  beforeAll(() => {
    mkdirSync(tarballs);
    for (const p of PACKAGES) ok(run('pnpm', ['pack', '--pack-destination', tarballs], join(ROOT, 'packages', p)), `pnpm pack of @tessera/${p}`);
  }, 120_000);

  it.each(PACKAGES)('@tessera/%s packs with its README, licence and every file its manifest names', (p) => {
    const m = packedManifest(p);
    const files = packedFiles(p);
    const text = JSON.stringify(m);
    expect(text, 'workspace: versions are replaced by real ones').not.toContain('workspace:');
    for (const field of ['exports', 'imports', 'bin']) {
      expect(JSON.stringify(m[field] ?? {}), `${field} has no development condition or source path`).not.toMatch(/"development"|\.\/src\//);
    }
    expect(m.license).toBe('MIT');
    expect(m.engines?.node).toMatch(/>=\s*20/);
    expect(m.type).toBe('module');
    for (const f of ['README.md', 'LICENSE', 'package.json']) expect(files, f).toContain(f);
    // The packed exports are the repository's minus the source condition: none dropped.
    expect(Object.keys(m.exports)).toEqual(Object.keys(sourceManifest(p).exports));
    for (const t of [...targets(m.exports), ...targets(m.imports), ...targets(m.bin), ...(m.types ? [m.types] : []), ...(m.main ? [m.main] : [])]) {
      expect(files, `${p}: ${t}`).toContain(t.replace(/^\.\//, ''));
    }
    expect([...files].filter((f) => f.endsWith('.test.ts') || f.endsWith('.test.js')), 'no test files').toEqual([]);
    for (const dep of Object.keys(m.dependencies ?? {})) if (dep.startsWith('@tessera/')) expect(m.dependencies[dep]).toBe('0.1.0');
  });

  it('@tessera/nn ships the Tiny Darknet weights: model.json, every shard it names, labels and licence', () => {
    const files = packedFiles('nn');
    const dir = 'weights/darknet-tiny';
    const model = JSON.parse(readFileSync(join(ROOT, 'packages/nn', dir, 'model.json'), 'utf8')) as { weightsManifest: { paths: string[] }[] };
    const shards = model.weightsManifest.flatMap((g) => g.paths);
    expect(shards.length).toBeGreaterThan(0);
    for (const f of ['model.json', 'labels.txt', 'LICENSE.ml5', ...shards]) expect(files).toContain(`${dir}/${f}`);
  });

  it('the @tessera/cli tarball names `tessera` as its command', () => {
    expect(packedManifest('cli').bin).toEqual({ tessera: './bin/tessera.js' });
  });

  describe('installed with npm in a fresh project', () => {
    let installed = false;
    beforeAll(() => {
      mkdirSync(project);
      const rootDev = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).devDependencies as Record<string, string>;
      const manifest = {
        name: 'tessera-consumer',
        private: true,
        type: 'module',
        dependencies: Object.fromEntries(PACKAGES.map((p) => [`@tessera/${p}`, `file:${tarball(p)}`])),
        // The same compiler and Node types as this repository, from the registry.
        devDependencies: { typescript: rootDev.typescript, '@types/node': rootDev['@types/node'] },
      };
      writeFileSync(join(project, 'package.json'), JSON.stringify(manifest, null, 2));
      ok(run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], project, userEnv()), 'npm install of the tarballs');
      installed = true;
    }, 300_000);

    it('is real files from the tarballs, not links into this repository', () => {
      for (const p of PACKAGES) {
        const manifest = join(project, 'node_modules', '@tessera', p, 'package.json');
        expect(readFileSync(manifest, 'utf8')).not.toContain('workspace:');
        expect(existsSync(join(project, 'node_modules', '@tessera', p, 'dist'))).toBe(true);
      }
      expect(installed).toBe(true);
    });

    it('npx tessera --help, --version and train --help', () => {
      const help = ok(run('npx', ['--no-install', 'tessera', '--help'], project, userEnv()), 'npx tessera --help');
      for (const c of ['train', 'lr-find', 'predict', 'convert', 'data', 'weights']) expect(help).toMatch(new RegExp(`^  ${c} `, 'm'));
      expect(ok(run('npx', ['--no-install', 'tessera', '--version'], project, userEnv()), 'npx tessera --version').trim()).toBe(sourceManifest('cli').version);
      const train = ok(run('npx', ['--no-install', 'tessera', 'train', '--help'], project, userEnv()), 'npx tessera train --help');
      expect(train).toMatch(/--bs N +images per batch \(default: 32\)/);
      expect(train).toMatch(/--no-pretrained/);
    });

    let predicted: number | undefined;
    it('npx tessera predict darknet-tiny classifies with the weights inside the nn tarball', () => {
      const list = ok(run('npx', ['--no-install', 'tessera', 'weights', 'list'], project, userEnv()), 'npx tessera weights list');
      expect(list).toMatch(new RegExp(`darknet-tiny +bundled +${join(project, 'node_modules/@tessera/nn/weights/darknet-tiny/model.json').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
      // With nothing cached, a ResNet's hint names the command this install has (no pnpm scripts here).
      const empty = mkdtempSync(join(work, 'cache-'));
      const none = ok(run('npx', ['--no-install', 'tessera', 'weights', 'list'], project, { ...userEnv(), XDG_CACHE_HOME: empty }), 'npx tessera weights list (empty cache)');
      expect(none).toMatch(/^resnet34 +\(none\) +run 'npx tessera weights get resnet34'$/m);
      const out = ok(run('npx', ['--no-install', 'tessera', 'predict', 'darknet-tiny', SAMPLE, '--json'], project, userEnv()), 'npx tessera predict');
      const [result] = JSON.parse(out) as { top: { label: string; index: number; prob: number }[] }[];
      expect(result!.top).toHaveLength(5);
      predicted = result!.top[0]!.index;
      // ImageNet's domestic cats: tabby, tiger cat, Persian, Siamese, Egyptian cat.
      if (SAMPLE === CAT) expect(result!.top[0]!.label).toMatch(/^(tabby|tiger cat|Persian cat|Siamese cat|Egyptian cat)$/);
    });

    it('tsc compiles the consumer fixture and examples/*.ts against the installed declarations; the fixture runs', () => {
      const sources = ['pack-consumer.ts'];
      cpSync(join(ROOT, 'test/fixtures/pack-consumer.ts'), join(project, 'pack-consumer.ts'));
      const examples = join(ROOT, 'examples');
      if (existsSync(examples)) {
        cpSync(examples, join(project, 'examples'), { recursive: true, filter: (f) => !f.includes('node_modules') });
        for (const f of readdirSync(examples)) if (f.endsWith('.ts')) sources.push(`examples/${f}`);
      }
      // Strict, the packages' declarations checked too (no skipLibCheck; TypeScript's own lib files
      // are skipped: not ours, and a third of the check, 17 → 11 s of CPU). WebGPU's types are
      // DOM types, so the DOM library is needed, as @webgpu/types says.
      const tsconfig = {
        compilerOptions: {
          target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['ES2023', 'DOM'], types: ['node'],
          strict: true, skipLibCheck: false, skipDefaultLibCheck: true, outDir: 'out', rootDir: '.',
        },
        files: sources,
      };
      writeFileSync(join(project, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
      ok(run('npx', ['--no-install', 'tsc', '-p', '.'], project, userEnv()), `tsc on ${sources.join(', ')}`);
      const out = ok(run(process.execPath, ['out/pack-consumer.js', SAMPLE], project, userEnv()), 'the compiled fixture');
      const r = JSON.parse(out.trim().split('\n').pop()!) as { product: number[]; classes: number; best: number };
      expect(r.product).toEqual([7, 10, 15, 22]);
      expect(r.classes).toBe(1000);
      // The library, used directly, agrees with the command line on the image's class.
      if (predicted !== undefined) expect(r.best).toBe(predicted);
    });
  });
});
