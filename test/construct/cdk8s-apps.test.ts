/**
 * The packages of `npm run package` in the apps of other languages and module systems:
 * - a CommonJS TypeScript app made from `cdk8s init typescript-app`'s own template (node_modules/cdk8s-cli/
 *   templates/typescript-app: its package.json devDependencies, tsconfig.json, jest.config.js and cdk8s.yaml), with
 *   the npm tarball from build/packages/js installed: it compiles with `tsc --build`, passes its jest test and
 *   synthesizes with `cdk8s synth` (ts-node), and plain Node `require`s the package without require(esm);
 * - the same app in Python (test/construct/apps/python/main.py), in build/python-venv with cdk8s, cdk8s-plus-28
 *   and constructs from PyPI and the wheel from build/packages/python: it writes the same manifests, byte for byte;
 * - the same app in Go (test/construct/apps/go/main.go) on the Go module of build/packages/go, with cdk8s and
 *   cdk8s-plus-28 as Go modules jsii-pacmak generates from their npm packages (go.mod `replace`s; the Go module proxy
 *   does not serve the cdk8s-team modules here): the same bytes again.
 * - the same app in Java (test/construct/apps/java) on the jar Maven builds from build/packages/java, with the jars
 *   of cdk8s and cdk8s-plus-28 that jsii-pacmak builds from their npm packages (Maven Central as reached here has
 *   no cdk8s-plus-28; built once per version into the project's cache, about 5 minutes): the same bytes again.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import {
  ensureGoBindings, ensureJavaPackages, ensurePackages, ensurePythonVenv, goAppEnv, npmTarball, packagesDir,
  PYTHON_REQUIREMENTS, run,
} from '../support/packages.js';
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

let typescriptOutput: Map<string, Buffer> | undefined;
/** The TypeScript app's manifests (ts-node main.ts in the installed app), made once: the other languages' reference. */
function typescriptManifests(): Map<string, Buffer> {
  if (!typescriptOutput) {
    const outdir = join(scratch, 'typescript-dist');
    const typescript = run(join(app, 'node_modules/.bin/ts-node'), ['main.ts'], app, { IMAGE, CDK8S_OUTDIR: outdir });
    expect(typescript.status, typescript.output).toBe(0);
    typescriptOutput = manifests(outdir);
    expect([...typescriptOutput.keys()]).toEqual(['shop.k8s.yaml']);
  }
  return typescriptOutput;
}

/** The same files, byte for byte (compared as text first, so a failure shows the differing lines). */
function expectSameManifests(actual: Map<string, Buffer>, expected: Map<string, Buffer>): void {
  expect([...actual.keys()]).toEqual([...expected.keys()]);
  for (const [file, bytes] of expected) {
    expect(actual.get(file)!.toString('utf8'), file).toBe(bytes.toString('utf8'));
    expect(actual.get(file)!.equals(bytes), file).toBe(true);
  }
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
    expect(objects[0].spec.template.spec.containers[0].env).toContainEqual({ name: 'ACCESS_LOG', value: 'json' });
  });
});

describe('the same app in Python', () => {
  let python: string;
  beforeAll(() => {
    python = ensurePythonVenv();
  }, 600_000);

  it(`synthesizes the same manifests as the TypeScript app, byte for byte (${PYTHON_REQUIREMENTS.join(', ')})`, () => {
    const pythonOut = join(scratch, 'python-dist');
    const py = run(python, [join(APPS, 'python/main.py')], scratch, { IMAGE, CDK8S_OUTDIR: pythonOut });
    expect(py.status, py.output).toBe(0);
    expect(py.stdout.trim()).toBe('http://shop-web.shop.svc');
    expectSameManifests(manifests(pythonOut), typescriptManifests());
  });

  it('installs a wheel with the metadata PyPI shows and the peer ranges as requirements', () => {
    const show = run(python, ['-c', [
      'import importlib.metadata as m, json',
      "d = m.metadata('asm-web-service')",
      "print(json.dumps({'name': d['Name'], 'summary': d['Summary'], 'license': d['License'], 'urls': d.get_all('Project-URL'), 'requires': m.requires('asm-web-service')}))",
    ].join('\n')], scratch);
    expect(show.status, show.output).toBe(0);
    const wheel = JSON.parse(show.stdout);
    expect(wheel).toMatchObject({ name: 'asm-web-service', license: 'MIT', urls: ['Source, https://github.com/asm-web-service/asm-web-service'] });
    expect(wheel.summary).toMatch(/^A cdk8s construct/);
    expect(wheel.requires).toEqual(expect.arrayContaining([
      'cdk8s <3.0.0,>=2.70.106', 'cdk8s-plus-28 <3.0.0,>=2.5.6', 'constructs <11.0.0,>=10.8.1',
    ]));
  });

  it('gets the validation message that names the prop, from the JavaScript runtime', () => {
    const py = run(python, [join(APPS, 'python/main.py')], scratch, { IMAGE: 'asm-web-service:latest', CDK8S_OUTDIR: join(scratch, 'bad') });
    expect(py.status).not.toBe(0);
    expect(py.stderr).toContain("'image' must be pinned by digest");
  });
});

describe('the same app in Go', () => {
  let goApp: string;
  beforeAll(() => {
    const bindings = ensureGoBindings();
    goApp = join(scratch, 'go-app');
    mkdirSync(goApp);
    cpSync(join(APPS, 'go/main.go'), join(goApp, 'main.go'));
    // Our module's own requirements (jsii-runtime-go, cdk8s, cdk8s-plus-28, constructs at the versions it was
    // generated for), our module itself, and the local copies of what the Go module proxy does not serve.
    const ours = join(packagesDir, 'go/asmwebservice');
    const requirements = readFileSync(join(ours, 'go.mod'), 'utf8').match(/require \(([^)]*)\)/)![1].trim();
    writeFileSync(join(goApp, 'go.mod'), [
      'module asm-web-service.local/shop-app',
      '',
      'go 1.25',
      '',
      'require (',
      '\tgithub.com/asm-web-service/asm-web-service-go/asmwebservice v0.0.0',
      `\t${requirements}`,
      ')',
      '',
      `replace github.com/asm-web-service/asm-web-service-go/asmwebservice => ${ours}`,
      `replace github.com/cdk8s-team/cdk8s-core-go/cdk8s/v2 => ${join(bindings, 'cdk8s')}`,
      `replace github.com/cdk8s-team/cdk8s-plus-go/cdk8splus28/v2 => ${join(bindings, 'cdk8splus28')}`,
      '',
    ].join('\n'));
    const tidy = run('go', ['mod', 'tidy'], goApp, goAppEnv);
    expect(tidy.status, tidy.output).toBe(0);
    const build = run('go', ['build', '-o', 'shop-app', '.'], goApp, goAppEnv);
    expect(build.status, build.output).toBe(0);
  }, 900_000);

  it('synthesizes the same manifests as the TypeScript app, byte for byte', () => {
    const goOut = join(scratch, 'go-dist');
    const go = run(join(goApp, 'shop-app'), [], scratch, { IMAGE, CDK8S_OUTDIR: goOut });
    expect(go.status, go.output).toBe(0);
    expect(go.stdout.trim()).toBe('http://shop-web.shop.svc');
    expectSameManifests(manifests(goOut), typescriptManifests());
  });
});

describe('the same app in Java', () => {
  let javaApp: string;
  beforeAll(() => {
    const settings = ensureJavaPackages();
    javaApp = join(scratch, 'java-app');
    cpSync(join(APPS, 'java'), javaApp, { recursive: true });
    const build = run('mvn', ['-B', '-q', '-s', settings, 'compile', 'dependency:build-classpath',
      '-Dmdep.outputFile=classpath.txt'], javaApp);
    expect(build.status, build.output).toBe(0);
  }, 1_800_000);

  it('synthesizes the same manifests as the TypeScript app, byte for byte', () => {
    const javaOut = join(scratch, 'java-dist');
    const classpath = `${join(javaApp, 'target/classes')}:${readFileSync(join(javaApp, 'classpath.txt'), 'utf8').trim()}`;
    const java = run('java', ['-cp', classpath, 'shop.Main'], scratch, { IMAGE, CDK8S_OUTDIR: javaOut });
    expect(java.status, java.output).toBe(0);
    expect(java.stdout.trim()).toBe('http://shop-web.shop.svc');
    expectSameManifests(manifests(javaOut), typescriptManifests());
  });
});
