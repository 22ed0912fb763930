/**
 * The construct as another cdk8s app uses it: `npm pack` this package (prepack compiles lib/ into build/lib/),
 * install the tarball with cdk8s, cdk8s-plus-28 and constructs into a separate app in a temporary folder, import
 * `asm-web-service` by package name, type-check with tsc, and synthesize with plain Node (no TypeScript loader).
 */
import { spawnSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';

const REPO = resolve(import.meta.dirname, '../..');
const BIN = join(REPO, 'node_modules/.bin');
const IMAGE = `127.0.0.1:5000/asm-web-service@sha256:${'c0ffee00'.repeat(8)}`;

let scratch: string;
let consumer: string;

function run(command: string, args: string[], cwd: string, env: Record<string, string> = {}) {
  const result = spawnSync(command, args, {
    cwd,
    env: { ...process.env, PATH: `${BIN}:${process.env.PATH}`, ...env },
    encoding: 'utf8',
    timeout: 300_000,
  });
  return { ...result, output: `${result.stdout}\n${result.stderr}` };
}

const CONSUMER_MAIN = `// A user's cdk8s app: the construct comes from the package, by name.
import { App, Chart, Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { AsmWebService } from 'asm-web-service';

const app = new App();
const chart = new Chart(app, 'shop', { namespace: 'shop' });
const web = new AsmWebService(chart, 'frontend', {
  image: process.env.IMAGE ?? '',
  name: 'shop-web',
  serviceType: kplus.ServiceType.LOAD_BALANCER,
  autoscaling: { minReplicas: 3, maxReplicas: 9, scaleDownStabilization: Duration.minutes(1) },
});
// The exposed objects are cdk8s-plus-28's own: a second Service selects the pods through web.deployment.
new kplus.Service(chart, 'admin', { metadata: { name: 'shop-admin' }, selector: web.deployment, ports: [{ port: 9000, targetPort: web.containerPort }] });
console.log(web.url);
app.synth();
`;

// Type-checked separately: with the package's types, a string for 'replicas' is a compile error.
const CONSUMER_TYPE_ERROR = `import { Chart, Testing } from 'cdk8s';
import { AsmWebService } from 'asm-web-service';

new AsmWebService(new Chart(Testing.app(), 'c'), 'web', { image: 'x', replicas: 'two' });
`;

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'asm-web-service-consumer-'));
  const pack = run('npm', ['pack', '--json', '--pack-destination', scratch], REPO);
  expect(pack.status, pack.output).toBe(0);
  const tarball = join(scratch, JSON.parse(pack.stdout.slice(pack.stdout.indexOf('[')))[0].filename);

  const ours = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'));
  consumer = join(scratch, 'shop-app');
  mkdirSync(consumer);
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({
    name: 'shop-app',
    private: true,
    type: 'module',
    dependencies: {
      'asm-web-service': `file:${tarball}`,
      // The peer dependencies, at the versions this repository tests with.
      cdk8s: ours.devDependencies.cdk8s,
      'cdk8s-plus-28': ours.devDependencies['cdk8s-plus-28'],
      constructs: ours.devDependencies.constructs,
    },
    devDependencies: { '@types/node': ours.devDependencies['@types/node'] },
  }, null, 2));
  writeFileSync(join(consumer, 'main.ts'), CONSUMER_MAIN);
  writeFileSync(join(consumer, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, noEmit: true, skipLibCheck: true, types: ['node'] },
    files: ['main.ts'],
  }));
  // npm's cache already holds these packages from this repository's own install; the registry is the fallback.
  const install = run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts'], consumer);
  expect(install.status, install.output).toBe(0);
}, 600_000);

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('a separate cdk8s app using the package', () => {
  it('installs a packed copy, with one copy of each peer dependency', () => {
    expect(lstatSync(join(consumer, 'node_modules/asm-web-service')).isSymbolicLink()).toBe(false);
    const packaged = JSON.parse(readFileSync(join(consumer, 'node_modules/asm-web-service/package.json'), 'utf8'));
    expect(packaged.exports['.'].types).toBe('./build/lib/index.d.ts');
    const ls = run('npm', ['ls', '--all', '--parseable', 'constructs'], consumer);
    expect(ls.status, ls.output).toBe(0);
    expect(ls.stdout.trim().split('\n')).toEqual([join(consumer, 'node_modules/constructs')]);
  });

  it("type-checks against the package's declarations", () => {
    const ok = run(join(BIN, 'tsc'), ['-p', 'tsconfig.json'], consumer);
    expect(ok.status, ok.output).toBe(0);

    writeFileSync(join(consumer, 'type-error.ts'), CONSUMER_TYPE_ERROR);
    const bad = run(join(BIN, 'tsc'), ['--noEmit', '--strict', '--skipLibCheck', '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--types', 'node', 'type-error.ts'], consumer);
    expect(bad.status).not.toBe(0);
    expect(bad.stdout).toMatch(/type-error\.ts\(4,.*error TS2322: Type 'string' is not assignable to type 'number'/);
  });

  it('synthesizes with plain Node', () => {
    const synth = run(process.execPath, ['main.ts'], consumer, { IMAGE, CDK8S_OUTDIR: join(consumer, 'dist') });
    expect(synth.status, synth.output).toBe(0);
    expect(synth.stdout.trim()).toBe('http://shop-web.shop.svc:8080');
    const objects = parseAllDocuments(readFileSync(join(consumer, 'dist/shop.k8s.yaml'), 'utf8')).map((doc) => doc.toJS());
    expect(objects.map((object) => `${object.kind} ${object.metadata.namespace ?? '-'}/${object.metadata.name}`)).toEqual([
      'Deployment shop/shop-web',
      'Service shop/shop-web',
      'PodDisruptionBudget shop/shop-web',
      'HorizontalPodAutoscaler shop/shop-web',
      'Service shop/shop-admin',
    ]);
    const [deployment, service, , hpa, admin] = objects;
    expect(deployment.spec).not.toHaveProperty('replicas');
    expect(deployment.spec.template.spec.containers[0].image).toBe(IMAGE);
    expect(service.spec.type).toBe('LoadBalancer');
    expect(hpa.spec).toMatchObject({ minReplicas: 3, maxReplicas: 9 });
    expect(deployment.spec.template.metadata.labels).toMatchObject(admin.spec.selector);
  });
});
