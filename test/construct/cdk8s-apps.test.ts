/**
 * The packages of `npm run package` in the apps of other languages and module systems:
 * - a CommonJS TypeScript app made from `cdk8s init typescript-app`'s own template (node_modules/cdk8s-cli/
 *   templates/typescript-app: its package.json devDependencies, tsconfig.json, jest.config.js and cdk8s.yaml), with
 *   the npm tarball from build/packages/js installed: it compiles with `tsc --build`, passes its jest test and
 *   synthesizes with `cdk8s synth` (ts-node), and plain Node `require`s the package without require(esm);
 * - the same app in Python (test/construct/apps/python/main.py), in build/python-venv with cdk8s, cdk8s-plus-28
 *   and constructs from PyPI and the wheel from build/packages/python: it writes the same manifests, byte for byte.
 * Java and Go apps are not built: their packages need cdk8s-plus-28's Maven artifact and the cdk8s Go modules,
 * which the registries the project's machines reach do not serve (README.md, "Other languages").
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { ensurePackages, ensurePythonVenv, npmTarball, PYTHON_REQUIREMENTS, run } from '../support/packages.js';
import { repoRoot } from '../support/server.js';

const BIN = join(repoRoot, 'node_modules/.bin');
const TEMPLATE = join(repoRoot, 'node_modules/cdk8s-cli/templates/typescript-app');
const APPS = join(repoRoot, 'test/construct/apps');
const IMAGE = `127.0.0.1:5000/asm-web-service@sha256:${'5eed'.repeat(16)}`;

let scratch: string;
let app: string;

/** The template's package.json with its placeholders filled: cdk8s-plus-28 instead of the template's newer line. */
function appPackageJson(tarball: string): string {
  const template = JSON.parse(readFileSync(join(TEMPLATE, 'package.json'), 'utf8'));
  const ours = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).devDependencies;
  const { 'cdk8s-cli': _cli, ...devDependencies } = template.devDependencies; // the repository's cdk8s-cli runs synth
  return JSON.stringify({
    ...template,
    name: 'shop-app',
    dependencies: {
      'asm-web-service': `file:${tarball}`,
      cdk8s: ours.cdk8s,
      'cdk8s-plus-28': ours['cdk8s-plus-28'],
      constructs: ours.constructs,
    },
    devDependencies,
  }, null, 2);
}

function manifests(outdir: string): Map<string, Buffer> {
  return new Map(readdirSync(outdir).sort().map((file) => [file, readFileSync(join(outdir, file))]));
}

beforeAll(() => {
  ensurePackages();
  scratch = mkdtempSync(join(tmpdir(), 'asm-web-service-apps-'));
  app = join(scratch, 'shop-app');
  mkdirSync(app);
  for (const file of ['tsconfig.json', 'jest.config.js', 'cdk8s.yaml']) cpSync(join(TEMPLATE, file), join(app, file));
  cpSync(join(APPS, 'typescript'), app, { recursive: true });
  writeFileSync(join(app, 'package.json'), appPackageJson(npmTarball()));
  // npm's cache holds most of these from the repository's own install; the registry is the fallback.
  const install = run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts'], app);
  expect(install.status, install.output).toBe(0);
}, 900_000);

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('a CommonJS app from the cdk8s init typescript-app template', () => {
  it('installs the package as CommonJS with its declarations and the jsii assembly', () => {
    const installed = join(app, 'node_modules/asm-web-service');
    const packaged = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'));
    expect(packaged.type ?? 'commonjs').toBe('commonjs');
    expect(packaged.keywords).toContain('cdk8s');
    expect(packaged.peerDependencies).toEqual({ cdk8s: '^2.70.106', 'cdk8s-plus-28': '^2.5.6', constructs: '^10.8.1' });
    expect(existsSync(join(installed, packaged.types))).toBe(true);
    expect(JSON.parse(readFileSync(join(installed, '.jsii'), 'utf8')).name).toBe('asm-web-service');
  });

  it('is loaded by require() without require(esm)', () => {
    // With require(esm) switched off, an ESM-only package fails with ERR_REQUIRE_ESM.
    const load = run(join(BIN, 'node'), ['--no-experimental-require-module', '-e',
      "const { AsmWebService } = require('asm-web-service'); console.log(typeof AsmWebService)"], app);
    expect(load.output).not.toContain('ERR_REQUIRE_ESM');
    expect(load.status, load.output).toBe(0);
    expect(load.stdout.trim()).toBe('function');
  });

  it("compiles with the template's tsconfig (tsc --build)", () => {
    const compile = run(join(app, 'node_modules/.bin/tsc'), ['--build'], app);
    expect(compile.status, compile.output).toBe(0);
    expect(existsSync(join(app, 'main.js'))).toBe(true);
  });

  it("passes the template's jest set-up (ts-jest)", () => {
    const jest = run(join(app, 'node_modules/.bin/jest'), ['--ci', '--colors=false'], app);
    expect(jest.status, jest.output).toBe(0);
    expect(jest.stderr).toMatch(/Tests:\s+2 passed, 2 total/);
  });

  it("synthesizes with cdk8s synth and the template's ts-node app command", () => {
    expect(readFileSync(join(app, 'cdk8s.yaml'), 'utf8')).toContain('app: npx ts-node main.ts');
    const synth = run(join(BIN, 'cdk8s'), ['synth', '--no-check-upgrade'], app, { IMAGE });
    expect(synth.status, synth.output).toBe(0);
    const objects = parseAllDocuments(readFileSync(join(app, 'dist/shop.k8s.yaml'), 'utf8')).map((doc) => doc.toJS());
    expect(objects.map((object) => `${object.kind} ${object.metadata.namespace}/${object.metadata.name}`)).toEqual([
      'Deployment shop/shop-web',
      'Service shop/shop-web',
      'PodDisruptionBudget shop/shop-web',
      'HorizontalPodAutoscaler shop/shop-web',
      'NetworkPolicy shop/shop-web',
      'HTTPRoute shop/shop-web',
    ]);
    expect(objects[0].spec.template.spec.containers[0].image).toBe(IMAGE);
  });
});

describe('the same app in Python', () => {
  let python: string;
  beforeAll(() => {
    python = ensurePythonVenv();
  }, 600_000);

  it(`synthesizes the same manifests as the TypeScript app, byte for byte (${PYTHON_REQUIREMENTS.join(', ')})`, () => {
    const typescriptOut = join(scratch, 'typescript-dist');
    const pythonOut = join(scratch, 'python-dist');
    const typescript = run(join(app, 'node_modules/.bin/ts-node'), ['main.ts'], app, { IMAGE, CDK8S_OUTDIR: typescriptOut });
    expect(typescript.status, typescript.output).toBe(0);
    const py = run(python, [join(APPS, 'python/main.py')], scratch, { IMAGE, CDK8S_OUTDIR: pythonOut });
    expect(py.status, py.output).toBe(0);
    expect(py.stdout.trim()).toBe('http://shop-web.shop.svc');

    const fromTypescript = manifests(typescriptOut);
    const fromPython = manifests(pythonOut);
    expect([...fromPython.keys()]).toEqual(['shop.k8s.yaml']);
    expect([...fromPython.keys()]).toEqual([...fromTypescript.keys()]);
    for (const [file, bytes] of fromTypescript) {
      // As text first, so a failure shows the differing lines; then the bytes themselves.
      expect(fromPython.get(file)!.toString('utf8'), file).toBe(bytes.toString('utf8'));
      expect(fromPython.get(file)!.equals(bytes), file).toBe(true);
    }
  });

  it('gets the validation message that names the prop, from the JavaScript runtime', () => {
    const py = run(python, [join(APPS, 'python/main.py')], scratch, { IMAGE: 'asm-web-service:latest', CDK8S_OUTDIR: join(scratch, 'bad') });
    expect(py.status).not.toBe(0);
    expect(py.stderr).toContain("'image' must be pinned by digest");
  });
});
