/**
 * The construct as an ESM cdk8s app uses it: the npm tarball of `npm run package` (jsii's CommonJS build of lib/,
 * in build/packages/js), installed with cdk8s, cdk8s-plus-28 and constructs into a separate app in a temporary
 * folder; it imports `asm-web-service` by package name, type-checks with tsc, and synthesizes with plain Node (no
 * TypeScript loader). The CommonJS app of `cdk8s init` is in cdk8s-apps.test.ts.
 */
import { lstatSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BIN, CONSUMER_TSCONFIG, installApp, manifestObjects, ourDevDependencies, packThisPackage, run, typeCheck,
} from './packed-app.js';

const IMAGE = `127.0.0.1:5000/asm-web-service@sha256:${'c0ffee00'.repeat(8)}`;

let scratch: string;
let consumer: string;

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
  accessLog: true,
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
  const ours = ourDevDependencies();
  consumer = installApp(scratch, 'shop-app', packThisPackage(), {
    // The peer dependencies, at the versions this repository tests with.
    cdk8s: ours.cdk8s,
    'cdk8s-plus-28': ours['cdk8s-plus-28'],
    constructs: ours.constructs,
  }, {
    'main.ts': CONSUMER_MAIN,
    'tsconfig.json': JSON.stringify({ ...CONSUMER_TSCONFIG, files: ['main.ts'] }),
  });
}, 600_000);

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('a separate cdk8s app using the package', () => {
  it('installs a packed copy, with one copy of each peer dependency', () => {
    expect(lstatSync(join(consumer, 'node_modules/asm-web-service')).isSymbolicLink()).toBe(false);
    const packaged = JSON.parse(readFileSync(join(consumer, 'node_modules/asm-web-service/package.json'), 'utf8'));
    expect(packaged.types).toBe('build/index.d.ts');
    const ls = run('npm', ['ls', '--all', '--parseable', 'constructs'], consumer);
    expect(ls.status, ls.output).toBe(0);
    expect(ls.stdout.trim().split('\n')).toEqual([join(consumer, 'node_modules/constructs')]);
  });

  it("type-checks against the package's declarations", () => {
    const ok = run(join(BIN, 'tsc'), ['-p', 'tsconfig.json'], consumer);
    expect(ok.status, ok.output).toBe(0);

    writeFileSync(join(consumer, 'type-error.ts'), CONSUMER_TYPE_ERROR);
    const bad = typeCheck(consumer, 'type-error.ts');
    expect(bad.status).not.toBe(0);
    expect(bad.stdout).toMatch(/type-error\.ts\(4,.*error TS2322: Type 'string' is not assignable to type 'number'/);
  });

  it('synthesizes with plain Node', () => {
    const synth = run(process.execPath, ['main.ts'], consumer, { IMAGE, CDK8S_OUTDIR: join(consumer, 'dist') });
    expect(synth.status, synth.output).toBe(0);
    expect(synth.stdout.trim()).toBe('http://shop-web.shop.svc:8080');
    const objects = manifestObjects(join(consumer, 'dist/shop.k8s.yaml'));
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
    expect(deployment.spec.template.spec.containers[0].env).toContainEqual({ name: 'ACCESS_LOG', value: 'json' });
    expect(service.spec.type).toBe('LoadBalancer');
    expect(hpa.spec).toMatchObject({ minReplicas: 3, maxReplicas: 9 });
    expect(deployment.spec.template.metadata.labels).toMatchObject(admin.spec.selector);
  });
});
