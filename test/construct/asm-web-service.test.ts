/**
 * Tests of lib/asm-web-service.ts: snapshots of the synthesized manifests (defaults and a customized instance),
 * targeted assertions on the fields that matter (image, ports, probes, security, resources, labels), selectors
 * that survive moving the construct, and one test per validation error.
 */
import { Chart, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { AsmWebService, type AsmWebServiceProps } from '../../lib/index.js';

const IMAGE = `registry.example.com/asm-web-service@sha256:${'0123456789abcdef'.repeat(4)}`;

/** Every object the construct synthesizes in a fresh chart, plus the construct. */
function synth(props: Partial<AsmWebServiceProps> = {}, chartNamespace?: string) {
  const chart = new Chart(Testing.app(), 'test', { namespace: chartNamespace });
  const service = new AsmWebService(chart, 'web', { image: IMAGE, ...props });
  const objects = Testing.synth(chart);
  const ofKind = (kind: string) => objects.find((object) => object.kind === kind);
  return { service, objects, deployment: ofKind('Deployment'), svc: ofKind('Service'), pdb: ofKind('PodDisruptionBudget') };
}

function podSpecOf(deployment: any) {
  return deployment.spec.template.spec;
}

function containerOf(deployment: any) {
  const containers = podSpecOf(deployment).containers;
  expect(containers).toHaveLength(1);
  return containers[0];
}

/** The instance the customized snapshot shows: every prop away from its default. */
const CUSTOMIZED: Partial<AsmWebServiceProps> = {
  name: 'edge-web',
  namespace: 'edge',
  replicas: 3,
  containerPort: 9090,
  servicePort: 8080,
  serviceType: 'NodePort',
  nodePort: 30080,
  cpuRequestMillis: 50,
  cpuLimitMillis: 500,
  memoryRequestMiB: 16,
  memoryLimitMiB: 64,
  readinessPeriodSeconds: 5,
  readinessFailureThreshold: 2,
  livenessPeriodSeconds: 20,
  livenessFailureThreshold: 4,
  probeTimeoutSeconds: 2,
  drainSeconds: 10,
  terminationGracePeriodSeconds: 40,
  labels: { 'example.com/team': 'edge' },
  annotations: { 'example.com/owner': 'edge-team@example.com' },
  podAnnotations: { 'example.com/scrape': 'false' },
};

describe('AsmWebService snapshots', () => {
  it('synthesizes the defaults', async () => {
    // GIVEN only an image, WHEN synthesized, THEN the manifest matches the committed one
    const { objects } = synth();
    await expect(objects.map((object) => stringify(object)).join('---\n')).toMatchFileSnapshot(
      './__snapshots__/defaults.k8s.yaml',
    );
  });

  it('synthesizes a customized instance', async () => {
    const { objects } = synth(CUSTOMIZED);
    await expect(objects.map((object) => stringify(object)).join('---\n')).toMatchFileSnapshot(
      './__snapshots__/customized.k8s.yaml',
    );
  });
});

describe('AsmWebService defaults', () => {
  it('creates a Deployment, a Service and a PodDisruptionBudget named asm-web-service', () => {
    const { objects } = synth();
    expect(objects.map((object) => `${object.apiVersion} ${object.kind} ${object.metadata.name}`)).toEqual([
      'apps/v1 Deployment asm-web-service',
      'v1 Service asm-web-service',
      'policy/v1 PodDisruptionBudget asm-web-service',
    ]);
  });

  it('runs the digest-pinned image, pulled only when missing', () => {
    const container = containerOf(synth().deployment);
    expect(container.image).toBe(IMAGE);
    expect(container.imagePullPolicy).toBe('IfNotPresent');
  });

  it('listens on 8080 and exposes it as port 80 of a ClusterIP Service', () => {
    const { deployment, svc } = synth();
    const container = containerOf(deployment);
    expect(container.ports).toEqual([{ containerPort: 8080, name: 'http' }]);
    expect(container.env).toEqual([
      { name: 'PORT', value: '8080' },
      { name: 'DRAIN_SECONDS', value: '5' },
    ]);
    expect(svc.spec.type).toBe('ClusterIP');
    expect(svc.spec.ports).toEqual([{ name: 'http', port: 80, targetPort: 8080 }]);
  });

  it('probes GET /health on the container port, with no startup probe', () => {
    const container = containerOf(synth().deployment);
    const httpGet = { path: '/health', port: 8080, scheme: 'HTTP' };
    expect(container.readinessProbe).toEqual({ httpGet, periodSeconds: 2, failureThreshold: 1, timeoutSeconds: 1 });
    expect(container.livenessProbe).toEqual({ httpGet, periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 1 });
    expect(container).not.toHaveProperty('startupProbe');
  });

  it('passes the Pod Security Standards "restricted" profile', () => {
    const podSpec = podSpecOf(synth().deployment);
    const container = containerOf(synth().deployment);
    expect(podSpec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532 });
    expect(container.securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 65532,
      runAsGroup: 65532,
      privileged: false,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(podSpec.automountServiceAccountToken).toBe(false);
    // Nothing the restricted profile forbids: host namespaces, hostPath volumes, host ports, added capabilities.
    expect(podSpec.hostNetwork ?? false).toBe(false);
    expect(podSpec.hostPID ?? false).toBe(false);
    expect(podSpec.hostIPC ?? false).toBe(false);
    expect(podSpec.volumes ?? []).toEqual([]);
    expect(container.ports.every((port: any) => port.hostPort === undefined)).toBe(true);
  });

  it('requests tiny resources and limits memory to the server\'s designed maximum, not CPU', () => {
    expect(containerOf(synth().deployment).resources).toEqual({
      requests: { cpu: '10m', memory: '8Mi' },
      limits: { memory: '192Mi' },
    });
  });

  it('rolls out without losing capacity and drains before Kubernetes kills the server', () => {
    const { deployment } = synth();
    expect(deployment.spec.replicas).toBe(2);
    expect(deployment.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 } });
    expect(podSpecOf(deployment).terminationGracePeriodSeconds).toBe(20);
  });

  it('labels every object with app.kubernetes.io labels and selects by name and instance only', () => {
    const { objects, deployment, svc, pdb } = synth();
    const selector = { 'app.kubernetes.io/name': 'asm-web-service', 'app.kubernetes.io/instance': 'asm-web-service' };
    for (const object of objects) {
      expect(object.metadata.labels).toEqual({ ...selector, 'app.kubernetes.io/managed-by': 'cdk8s' });
    }
    expect(deployment.spec.selector).toEqual({ matchLabels: selector });
    expect(deployment.spec.template.metadata.labels).toMatchObject(selector);
    expect(svc.spec.selector).toEqual(selector);
    expect(pdb.spec.selector).toEqual({ matchLabels: selector });
  });

  it('lets one pod at a time be evicted', () => {
    expect(synth().pdb.spec).toEqual({
      maxUnavailable: 1,
      selector: { matchLabels: { 'app.kubernetes.io/name': 'asm-web-service', 'app.kubernetes.io/instance': 'asm-web-service' } },
      unhealthyPodEvictionPolicy: 'AlwaysAllow',
    });
  });

  it('exposes the objects and the in-cluster URL', () => {
    const { service } = synth();
    expect(service.deployment.name).toBe('asm-web-service');
    expect(service.service.name).toBe('asm-web-service');
    expect(service.podDisruptionBudget?.name).toBe('asm-web-service');
    expect(service.container.image).toBe(IMAGE);
    expect(service.url).toBe('http://asm-web-service');
  });

  it("takes the chart's namespace and puts it in the URL", () => {
    const { service, objects } = synth({}, 'web');
    expect(objects.map((object) => object.metadata.namespace)).toEqual(['web', 'web', 'web']);
    expect(service.url).toBe('http://asm-web-service.web.svc');
  });
});

describe('AsmWebService props', () => {
  it('applies every customized prop', () => {
    const { service, objects, deployment, svc, pdb } = synth(CUSTOMIZED);
    const container = containerOf(deployment);
    expect(objects.every((object) => object.metadata.name === 'edge-web' && object.metadata.namespace === 'edge')).toBe(true);
    expect(deployment.spec.replicas).toBe(3);
    expect(container.ports).toEqual([{ containerPort: 9090, name: 'http' }]);
    expect(container.env).toEqual([{ name: 'PORT', value: '9090' }, { name: 'DRAIN_SECONDS', value: '10' }]);
    expect(svc.spec).toMatchObject({ type: 'NodePort', ports: [{ name: 'http', port: 8080, targetPort: 9090, nodePort: 30080 }] });
    expect(container.resources).toEqual({ requests: { cpu: '50m', memory: '16Mi' }, limits: { cpu: '500m', memory: '64Mi' } });
    expect(container.readinessProbe).toMatchObject({ httpGet: { port: 9090 }, periodSeconds: 5, failureThreshold: 2, timeoutSeconds: 2 });
    expect(container.livenessProbe).toMatchObject({ httpGet: { port: 9090 }, periodSeconds: 20, failureThreshold: 4, timeoutSeconds: 2 });
    expect(podSpecOf(deployment).terminationGracePeriodSeconds).toBe(40);
    for (const object of objects) {
      expect(object.metadata.labels).toMatchObject({ 'example.com/team': 'edge', 'app.kubernetes.io/instance': 'edge-web' });
      expect(object.metadata.annotations).toEqual({ 'example.com/owner': 'edge-team@example.com' });
    }
    expect(deployment.spec.template.metadata.labels).toMatchObject({ 'example.com/team': 'edge' });
    expect(deployment.spec.template.metadata.annotations).toEqual({ 'example.com/scrape': 'false' });
    expect(pdb).toBeDefined();
    expect(service.url).toBe('http://edge-web.edge.svc:8080');
  });

  it("keeps a user's app.kubernetes.io/managed-by label", () => {
    // GIVEN a tool other than cdk8s named as the manager (as a Helm chart made by cdk8s does)
    const { objects, deployment } = synth({ labels: { 'app.kubernetes.io/managed-by': 'Helm' } });
    // THEN every object and the pods carry the user's value, not cdk8s
    for (const object of objects) expect(object.metadata.labels['app.kubernetes.io/managed-by']).toBe('Helm');
    expect(deployment.spec.template.metadata.labels['app.kubernetes.io/managed-by']).toBe('Helm');
  });

  it('derives the grace period from the drain delay', () => {
    expect(podSpecOf(synth({ drainSeconds: 30 }).deployment).terminationGracePeriodSeconds).toBe(45);
    expect(podSpecOf(synth({ drainSeconds: 0 }).deployment).terminationGracePeriodSeconds).toBe(15);
  });

  it('supports a LoadBalancer Service', () => {
    expect(synth({ serviceType: 'LoadBalancer' }).svc.spec.type).toBe('LoadBalancer');
  });

  it('creates no PodDisruptionBudget for one replica unless asked', () => {
    expect(synth({ replicas: 1 }).pdb).toBeUndefined();
    expect(synth({ replicas: 1 }).service.podDisruptionBudget).toBeUndefined();
    expect(synth({ replicas: 1, podDisruptionBudget: true }).pdb).toBeDefined();
    expect(synth({ replicas: 3, podDisruptionBudget: false }).pdb).toBeUndefined();
  });

  it('synthesizes the same objects, pod template included, wherever the construct sits in the app', () => {
    // GIVEN the same props at the top of a chart and nested two levels down in another chart
    const flat = synth();
    const chart = new Chart(Testing.app(), 'elsewhere');
    new AsmWebService(new Construct(new Construct(chart, 'frontend'), 'tier'), 'server', { image: IMAGE });
    // THEN every object is identical, so `kubectl apply` after a move changes nothing and restarts no pod
    expect(Testing.synth(chart)).toEqual(flat.objects);
  });

  it("keeps cdk8s-plus selections of web.deployment pointed at the server's pods", () => {
    // GIVEN an app that selects the pods the cdk8s-plus way (by the workload, which uses cdk8s.io/metadata.addr)
    const chart = new Chart(Testing.app(), 'test');
    const web = new AsmWebService(chart, 'web', { image: IMAGE });
    new kplus.Service(chart, 'debug', { metadata: { name: 'debug' }, selector: web.deployment, ports: [{ port: 9000, targetPort: 8080 }] });
    const [deployment, , , debug] = Testing.synth(chart);
    // THEN that selector matches the pod template's labels
    expect(debug.spec.selector).toEqual({ 'cdk8s.io/metadata.addr': 'asm-web-service' });
    expect(deployment.spec.template.metadata.labels).toMatchObject(debug.spec.selector);
  });

  it('lets an app attach a cdk8s-plus HorizontalPodAutoscaler to the Deployment', () => {
    // GIVEN the defaults, and an autoscaler the app adds on web.deployment
    const chart = new Chart(Testing.app(), 'test');
    const web = new AsmWebService(chart, 'web', { image: IMAGE });
    new kplus.HorizontalPodAutoscaler(chart, 'hpa', {
      target: web.deployment,
      minReplicas: 2,
      maxReplicas: 6,
      metrics: [kplus.Metric.resourceCpu(kplus.MetricTarget.averageUtilization(70))],
    });
    // WHEN synthesized, THEN it succeeds, the Deployment leaves the count to the autoscaler, and the autoscaler targets it
    const objects = Testing.synth(chart);
    const deployment = objects.find((object) => object.kind === 'Deployment');
    const hpa = objects.find((object) => object.kind === 'HorizontalPodAutoscaler');
    expect(deployment.spec).not.toHaveProperty('replicas');
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'asm-web-service' });
  });

  it('lets two instances live side by side under different names', () => {
    const chart = new Chart(Testing.app(), 'test');
    new AsmWebService(chart, 'blue', { image: IMAGE, name: 'blue' });
    new AsmWebService(chart, 'green', { image: IMAGE, name: 'green' });
    const selectors = Testing.synth(chart).filter((o) => o.kind === 'Service').map((o) => o.spec.selector['app.kubernetes.io/instance']);
    expect(selectors).toEqual(['blue', 'green']);
  });
});

describe('AsmWebService validation', () => {
  const digest = 'a'.repeat(64);
  const imageMessage = /^'image' must be pinned by digest as REPOSITORY@sha256:<64 lowercase hex digits>.*, got "/;

  it.each([
    ['a tag', 'registry.example.com/asm-web-service:1.0'],
    ['no tag or digest', 'asm-web-service'],
    ['a tag and a digest', `asm-web-service:1.0@sha256:${digest}`],
    ['a short digest', `asm-web-service@sha256:${'a'.repeat(63)}`],
    ['an upper-case digest', `asm-web-service@sha256:${'A'.repeat(64)}`],
    ['another algorithm', `asm-web-service@sha512:${'a'.repeat(128)}`],
    ['an upper-case repository', `Registry/Asm@sha256:${digest}`],
    ['an empty string', ''],
  ])("rejects an 'image' with %s", (_case, image) => {
    expect(() => synth({ image })).toThrow(imageMessage);
    expect(() => synth({ image })).toThrow(`got ${JSON.stringify(image)}`);
  });

  it("accepts an 'image' with a registry port and nested path", () => {
    expect(() => synth({ image: `127.0.0.1:5000/team/asm-web-service@sha256:${digest}` })).not.toThrow();
  });

  it("rejects an invalid 'name'", () => {
    expect(() => synth({ name: 'Web_Server' })).toThrow(`'name' must be a DNS-1035 label (lowercase letters, digits and '-', starting with a letter, at most 63 characters), got "Web_Server"`);
  });

  it("rejects an invalid 'namespace'", () => {
    expect(() => synth({ namespace: 'Edge' })).toThrow(`'namespace' must be a DNS-1123 label (lowercase letters, digits and '-', at most 63 characters), got "Edge"`);
  });

  it("rejects 'replicas' below 1", () => {
    expect(() => synth({ replicas: 0 })).toThrow("'replicas' must be an integer from 1 to 1000000, got 0");
  });

  it("rejects a fractional 'replicas'", () => {
    expect(() => synth({ replicas: 1.5 })).toThrow("'replicas' must be an integer from 1 to 1000000, got 1.5");
  });

  it("rejects a privileged 'containerPort'", () => {
    expect(() => synth({ containerPort: 80 })).toThrow(
      "'containerPort' must be an integer from 1024 to 65535 (the server runs as non-root uid 65532 without capabilities, so it cannot bind ports below 1024), got 80",
    );
  });

  it("rejects a 'servicePort' out of range", () => {
    expect(() => synth({ servicePort: 65536 })).toThrow("'servicePort' must be an integer from 1 to 65535, got 65536");
  });

  it("rejects a 'serviceType' other than ClusterIP, NodePort, LoadBalancer", () => {
    expect(() => synth({ serviceType: 'ExternalName' as any })).toThrow(
      `'serviceType' must be 'ClusterIP', 'NodePort' or 'LoadBalancer', got "ExternalName"`,
    );
  });

  it("rejects a 'nodePort' on a ClusterIP Service", () => {
    expect(() => synth({ nodePort: 30080 })).toThrow("'nodePort' needs 'serviceType' 'NodePort' or 'LoadBalancer', got 'serviceType' 'ClusterIP'");
  });

  it("rejects a 'nodePort' out of range", () => {
    expect(() => synth({ serviceType: 'NodePort', nodePort: 0 })).toThrow("'nodePort' must be an integer from 1 to 65535, got 0");
  });

  it("rejects a 'cpuRequestMillis' of 0", () => {
    expect(() => synth({ cpuRequestMillis: 0 })).toThrow("'cpuRequestMillis' must be an integer from 1 to 1000000, got 0");
  });

  it("rejects a 'cpuLimitMillis' below the request", () => {
    expect(() => synth({ cpuRequestMillis: 100, cpuLimitMillis: 50 })).toThrow(
      "'cpuLimitMillis' must be an integer from 100 to 1000000 (at least 'cpuRequestMillis'), got 50",
    );
  });

  it("rejects a 'memoryRequestMiB' of 0", () => {
    expect(() => synth({ memoryRequestMiB: 0 })).toThrow("'memoryRequestMiB' must be an integer from 1 to 1048576, got 0");
  });

  it("rejects a 'memoryLimitMiB' below the request", () => {
    expect(() => synth({ memoryRequestMiB: 256 })).toThrow(
      "'memoryLimitMiB' must be an integer from 256 to 1048576 (at least 'memoryRequestMiB'), got 192",
    );
  });

  it.each([
    'readinessPeriodSeconds',
    'readinessFailureThreshold',
    'livenessPeriodSeconds',
    'livenessFailureThreshold',
    'probeTimeoutSeconds',
  ] as const)("rejects a '%s' of 0", (prop) => {
    expect(() => synth({ [prop]: 0 })).toThrow(new RegExp(`^'${prop}' must be an integer from 1 to \\d+, got 0$`));
  });

  it("rejects a 'drainSeconds' beyond the server's 3600", () => {
    expect(() => synth({ drainSeconds: 3601 })).toThrow("'drainSeconds' must be an integer from 0 to 3600, got 3601");
  });

  it("rejects a 'terminationGracePeriodSeconds' that ends the drain early", () => {
    expect(() => synth({ drainSeconds: 30, terminationGracePeriodSeconds: 30 })).toThrow(
      "'terminationGracePeriodSeconds' must be an integer from 31 to 1000000 (longer than 'drainSeconds' 30, else the server is killed mid-drain), got 30",
    );
  });

  it("rejects 'labels' that override a selector label", () => {
    expect(() => synth({ labels: { 'app.kubernetes.io/instance': 'other' } })).toThrow(
      "'labels' cannot set app.kubernetes.io/instance: the selectors use it (set 'name' to change the instance)",
    );
  });

  it("rejects 'labels' with an invalid key", () => {
    expect(() => synth({ labels: { 'bad key': 'x' } })).toThrow(`'labels' has an invalid key "bad key"`);
  });

  it("rejects 'labels' with an invalid value", () => {
    expect(() => synth({ labels: { team: 'a'.repeat(64) } })).toThrow(`'labels' has an invalid value "${'a'.repeat(64)}" for team`);
  });

  it("rejects 'annotations' with an invalid key", () => {
    expect(() => synth({ annotations: { '/empty-prefix': 'x' } })).toThrow(`'annotations' has an invalid key "/empty-prefix"`);
  });

  it("rejects 'podAnnotations' with an invalid key", () => {
    expect(() => synth({ podAnnotations: { 'Example.com/x': 'y' } })).toThrow(`'podAnnotations' has an invalid key "Example.com/x"`);
  });

  it("rejects a second instance with the same 'name' in the same namespace", () => {
    const chart = new Chart(Testing.app(), 'test');
    new AsmWebService(chart, 'first', { image: IMAGE });
    expect(() => new AsmWebService(chart, 'second', { image: IMAGE })).toThrow(
      `'name' "asm-web-service" is already used by the AsmWebService at test/first; give each instance its own 'name'`,
    );
  });
});
