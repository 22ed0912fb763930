/**
 * What the README tells an app on a newer cdk8s-plus (here cdk8s-plus-31) to do, done by such an app: the packed
 * construct installed beside cdk8s-plus-31 and its peer cdk8s-plus-28, with one cdk8s and one constructs; the app's
 * own cdk8s-plus-31 objects select the server's pods by `selectorLabels`, its L1 autoscaler targets the Deployment by
 * name after `markHasAutoscaler()`, a JSON patch changes the Deployment; and passing the exposed cdk8s-plus-28
 * objects to cdk8s-plus-31 APIs fails to type-check, as the README says.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CONSUMER_TSCONFIG, installApp, manifestObjects, ourDevDependencies, packThisPackage, run, typeCheck,
} from './packed-app.js';

/** The newer cdk8s-plus the app uses (Kubernetes 1.31 APIs). */
const NEWER_CDK8S_PLUS = { name: 'cdk8s-plus-31', version: '2.6.43' };
const IMAGE = `127.0.0.1:5000/asm-web-service@sha256:${'5eed'.repeat(16)}`;

const APP_MAIN = `// An app on cdk8s-plus-31 that composes with AsmWebService (whose objects are cdk8s-plus-28's).
import { ApiObject, App, Chart, JsonPatch } from 'cdk8s';
import * as kplus from 'cdk8s-plus-31';
import { AsmWebService } from 'asm-web-service';

const app = new App();
const chart = new Chart(app, 'shop', { namespace: 'shop' });
const web = new AsmWebService(chart, 'web', { image: process.env.IMAGE ?? '', name: 'shop-web' });

// Names and labels, not objects: the app's own cdk8s-plus-31 objects find the server's pods by its labels.
const webPods = kplus.Pods.select(chart, 'web-pods', { labels: web.selectorLabels });
const db = new kplus.Deployment(chart, 'db', {
  metadata: { name: 'db' },
  isolate: true,
  containers: [{ image: 'postgres', portNumber: 5432, securityContext: { ensureNonRoot: false } }],
});
db.connections.allowFrom(webPods);

// The app's own autoscaler, an L1 object by name; markHasAutoscaler() drops the Deployment's replica count.
new kplus.k8s.KubeHorizontalPodAutoscalerV2(chart, 'hpa', {
  metadata: { name: web.name },
  spec: {
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: web.name },
    minReplicas: 2,
    maxReplicas: 6,
    metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }],
  },
});
web.deployment.markHasAutoscaler();

// cdk8s' version-independent escape hatch.
ApiObject.of(web.deployment).addJsonPatch(JsonPatch.add('/spec/revisionHistoryLimit', 3));
console.log(\`\${web.name} \${web.servicePort}\`);
app.synth();
`;

// Each line hands a cdk8s-plus-28 object to a cdk8s-plus-31 API: both must fail to type-check.
const MIXED_OBJECTS = `import { Chart, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-31';
import { AsmWebService } from 'asm-web-service';

const chart = new Chart(Testing.app(), 'c');
const web = new AsmWebService(chart, 'web', { image: 'x' });
new kplus.HorizontalPodAutoscaler(chart, 'hpa', { target: web.deployment, maxReplicas: 3 });
new kplus.Service(chart, 'svc', { selector: web.deployment });
`;

let scratch: string;
let app: string;

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'asm-web-service-newer-plus-'));
  const ours = ourDevDependencies();
  app = installApp(scratch, 'newer-plus-app', packThisPackage(), {
    cdk8s: ours.cdk8s,
    constructs: ours.constructs,
    'cdk8s-plus-28': ours['cdk8s-plus-28'],
    [NEWER_CDK8S_PLUS.name]: NEWER_CDK8S_PLUS.version,
  }, {
    'main.ts': APP_MAIN,
    'mixed-objects.ts': MIXED_OBJECTS,
    'tsconfig.json': JSON.stringify({ ...CONSUMER_TSCONFIG, files: ['main.ts'] }),
  });
}, 600_000);

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe(`an app on ${NEWER_CDK8S_PLUS.name}`, () => {
  it('has one copy each of cdk8s and constructs', () => {
    for (const shared of ['cdk8s', 'constructs']) {
      const ls = run('npm', ['ls', '--all', '--parseable', shared], app);
      expect(ls.status, ls.output).toBe(0);
      expect(ls.stdout.trim().split('\n')).toEqual([join(app, 'node_modules', shared)]);
    }
  });

  it('type-checks when it composes through names, labels and markHasAutoscaler', () => {
    const result = run('tsc', ['-p', 'tsconfig.json'], app);
    expect(result.status, result.output).toBe(0);
  });

  it('synthesizes a policy, an autoscaler and a patch that reach the construct\'s objects', () => {
    const synth = run(process.execPath, ['main.ts'], app, { IMAGE, CDK8S_OUTDIR: join(app, 'dist') });
    expect(synth.status, synth.output).toBe(0);
    expect(synth.stdout.trim()).toBe('shop-web 8080');
    const objects = manifestObjects(join(app, 'dist/shop.k8s.yaml'));
    const deployment = objects.find((object) => object.kind === 'Deployment' && object.metadata.name === 'shop-web');
    // The Deployment leaves the count to the app's autoscaler, which names it, and carries the app's patch.
    expect(deployment.spec).not.toHaveProperty('replicas');
    expect(deployment.spec.revisionHistoryLimit).toBe(3);
    const hpa = objects.find((object) => object.kind === 'HorizontalPodAutoscaler');
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'shop-web' });
    // Some policy of the isolated database admits exactly the server's pods, by labels they carry.
    const peers = objects.filter((object) => object.kind === 'NetworkPolicy')
      .flatMap((policy) => policy.spec.ingress ?? []).flatMap((rule: any) => rule.from ?? []);
    const webPeer = peers.find((peer: any) => peer.podSelector?.matchLabels?.['app.kubernetes.io/instance'] === 'shop-web');
    expect(webPeer.podSelector.matchLabels).toEqual({ 'app.kubernetes.io/instance': 'shop-web', 'app.kubernetes.io/name': 'asm-web-service' });
    expect(deployment.spec.template.metadata.labels).toMatchObject(webPeer.podSelector.matchLabels);
  });

  it('cannot pass the exposed cdk8s-plus-28 objects to cdk8s-plus-31 APIs', () => {
    const result = typeCheck(app, 'mixed-objects.ts');
    expect(result.status).not.toBe(0);
    const errorLines = result.stdout.split('\n').filter((line) => /^mixed-objects\.ts\(\d+,\d+\): error/.test(line));
    expect(errorLines.map((line) => Number(/\((\d+),/.exec(line)![1]))).toEqual([7, 8]);
    expect(result.stdout).toMatch(/Types have separate declarations of a private property/);
  });
});
