/**
 * Tests of lib/asm-web-service.ts: snapshots of the synthesized manifests (defaults, a customized instance, every
 * opt-in neighbour), targeted assertions on the fields that matter (image, ports, probes, security, resources,
 * labels, autoscaler, policy, routes), what a composing app does with the exposed objects, a move within the app
 * that changes nothing, and one test per validation error.
 */
import { Chart, Duration, Size, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { AsmWebService, type AsmWebServiceProps } from '../../lib/index.js';

const IMAGE = `registry.example.com/asm-web-service@sha256:${'0123456789abcdef'.repeat(4)}`;
const SELECTOR = { 'app.kubernetes.io/name': 'asm-web-service', 'app.kubernetes.io/instance': 'asm-web-service' };

/** Every object the construct synthesizes in a fresh chart, plus the construct. */
function synth(props: Partial<AsmWebServiceProps> = {}, chartNamespace?: string) {
  const chart = new Chart(Testing.app(), 'test', { namespace: chartNamespace });
  const service = new AsmWebService(chart, 'web', { image: IMAGE, ...props });
  const objects = Testing.synth(chart);
  const ofKind = (kind: string) => objects.find((object) => object.kind === kind);
  return {
    service,
    objects,
    deployment: ofKind('Deployment'),
    svc: ofKind('Service'),
    pdb: ofKind('PodDisruptionBudget'),
    hpa: ofKind('HorizontalPodAutoscaler'),
    networkPolicy: ofKind('NetworkPolicy'),
    ingress: ofKind('Ingress'),
    httpRoute: ofKind('HTTPRoute'),
    serviceMonitor: ofKind('ServiceMonitor'),
  };
}

function podSpecOf(deployment: any) {
  return deployment.spec.template.spec;
}

function containerOf(deployment: any) {
  const containers = podSpecOf(deployment).containers;
  expect(containers).toHaveLength(1);
  return containers[0];
}

function yamlOf(objects: any[]): string {
  return objects.map((object) => stringify(object)).join('---\n');
}

/** The instance the customized snapshot shows: every core prop away from its default. */
const CUSTOMIZED: Partial<AsmWebServiceProps> = {
  name: 'edge-web',
  namespace: 'edge',
  replicas: 3,
  containerPort: 9090,
  servicePort: 80,
  serviceType: kplus.ServiceType.NODE_PORT,
  nodePort: 30080,
  cpuRequest: kplus.Cpu.millis(50),
  cpuLimit: kplus.Cpu.units(0.5),
  memoryRequest: Size.mebibytes(16),
  memoryLimit: Size.mebibytes(64),
  readinessPeriod: Duration.seconds(5),
  readinessFailureThreshold: 2,
  livenessPeriod: Duration.seconds(20),
  livenessFailureThreshold: 4,
  probeTimeout: Duration.seconds(2),
  drainPeriod: Duration.seconds(10),
  terminationGracePeriod: Duration.seconds(40),
  labels: { 'example.com/team': 'edge' },
  annotations: { 'example.com/owner': 'edge-team@example.com' },
  podAnnotations: { 'example.com/scrape': 'false' },
  topologySpread: false,
  accessLog: true,
};

/** Every opt-in neighbour, each with its optional settings. */
const NEIGHBOURS: Partial<AsmWebServiceProps> = {
  name: 'shop-web',
  namespace: 'shop',
  autoscaling: {
    minReplicas: 3,
    maxReplicas: 12,
    targetCpuUtilizationPercent: 60,
    scaleUpStabilization: Duration.seconds(30),
    scaleDownStabilization: Duration.minutes(2),
  },
  networkPolicy: true,
  ingress: { className: 'nginx', host: 'shop.example.com', path: '/', tlsSecretName: 'shop-tls' },
  httpRoute: {
    gatewayName: 'public',
    gatewayNamespace: 'gateways',
    sectionName: 'https',
    hostnames: ['shop.example.com', '*.shop.example.com'],
    path: '/',
  },
  metrics: { port: 9100, serviceMonitor: true, scrapeInterval: Duration.seconds(15) },
};

describe('AsmWebService snapshots', () => {
  it('synthesizes the defaults', async () => {
    // GIVEN only an image, WHEN synthesized, THEN the manifest matches the committed one
    await expect(yamlOf(synth().objects)).toMatchFileSnapshot('./__snapshots__/defaults.k8s.yaml');
  });

  it('synthesizes a customized instance', async () => {
    await expect(yamlOf(synth(CUSTOMIZED).objects)).toMatchFileSnapshot('./__snapshots__/customized.k8s.yaml');
  });

  it('synthesizes every opt-in neighbour', async () => {
    await expect(yamlOf(synth(NEIGHBOURS).objects)).toMatchFileSnapshot('./__snapshots__/neighbours.k8s.yaml');
  });
});

describe('AsmWebService defaults', () => {
  it('creates a Deployment, a Service and a PodDisruptionBudget named asm-web-service, and nothing opt-in', () => {
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

  it('listens on 8080 and exposes it as port 8080 of a ClusterIP Service', () => {
    const { service, deployment, svc } = synth();
    const container = containerOf(deployment);
    expect(container.ports).toEqual([{ containerPort: 8080, name: 'http' }]);
    expect(container.env).toEqual([
      { name: 'PORT', value: '8080' },
      { name: 'DRAIN_SECONDS', value: '5' },
    ]);
    expect(svc.spec.type).toBe('ClusterIP');
    expect(svc.spec.ports).toEqual([{ name: 'http', port: 8080, targetPort: 8080 }]);
    expect(service.servicePort).toBe(8080);
    expect(service.containerPort).toBe(8080);
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
      limits: { memory: '256Mi' },
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
    for (const object of objects) {
      expect(object.metadata.labels).toEqual({ ...SELECTOR, 'app.kubernetes.io/managed-by': 'cdk8s' });
    }
    expect(deployment.spec.selector).toEqual({ matchLabels: SELECTOR });
    expect(deployment.spec.template.metadata.labels).toEqual({
      ...SELECTOR, 'app.kubernetes.io/managed-by': 'cdk8s', 'cdk8s.io/metadata.addr': 'asm-web-service',
    });
    expect(svc.spec.selector).toEqual(SELECTOR);
    expect(pdb.spec.selector).toEqual({ matchLabels: SELECTOR });
  });

  it('lets one pod at a time be evicted', () => {
    expect(synth().pdb.spec).toEqual({
      maxUnavailable: 1,
      selector: { matchLabels: SELECTOR },
      unhealthyPodEvictionPolicy: 'AlwaysAllow',
    });
  });

  it('spreads the two pods across nodes, as a preference a single node still satisfies', () => {
    expect(podSpecOf(synth().deployment).topologySpreadConstraints).toEqual([{
      maxSkew: 1,
      topologyKey: 'kubernetes.io/hostname',
      whenUnsatisfiable: 'ScheduleAnyway',
      labelSelector: { matchLabels: SELECTOR },
      matchLabelKeys: ['pod-template-hash'],
    }]);
  });

  it('exposes the objects, the selector labels and the in-cluster URL', () => {
    const { service } = synth();
    expect(service.deployment.name).toBe('asm-web-service');
    expect(service.service.name).toBe('asm-web-service');
    expect(service.podDisruptionBudget?.name).toBe('asm-web-service');
    expect(service.container.image).toBe(IMAGE);
    expect(service.horizontalPodAutoscaler).toBeUndefined();
    expect(service.networkPolicy).toBeUndefined();
    expect(service.ingress).toBeUndefined();
    expect(service.httpRoute).toBeUndefined();
    expect(service.selectorLabels).toEqual(SELECTOR);
    expect(service.url).toBe('http://asm-web-service:8080');
  });

  it('hands out a copy of the selector labels', () => {
    const { service, svc } = synth();
    service.selectorLabels['app.kubernetes.io/instance'] = 'changed';
    expect(service.selectorLabels).toEqual(SELECTOR);
    expect(svc.spec.selector).toEqual(SELECTOR);
  });

  it("takes the chart's namespace and puts it in the URL", () => {
    const { service, objects } = synth({}, 'web');
    expect(objects.map((object) => object.metadata.namespace)).toEqual(['web', 'web', 'web']);
    expect(service.url).toBe('http://asm-web-service.web.svc:8080');
  });
});

describe('AsmWebService props', () => {
  it('applies every customized prop', () => {
    const { service, objects, deployment, svc, pdb } = synth(CUSTOMIZED);
    const container = containerOf(deployment);
    expect(objects.every((object) => object.metadata.name === 'edge-web' && object.metadata.namespace === 'edge')).toBe(true);
    expect(deployment.spec.replicas).toBe(3);
    expect(container.ports).toEqual([{ containerPort: 9090, name: 'http' }]);
    expect(container.env).toEqual([
      { name: 'PORT', value: '9090' },
      { name: 'DRAIN_SECONDS', value: '10' },
      { name: 'ACCESS_LOG', value: 'json' },
    ]);
    expect(svc.spec).toMatchObject({ type: 'NodePort', ports: [{ name: 'http', port: 80, targetPort: 9090, nodePort: 30080 }] });
    expect(container.resources).toEqual({ requests: { cpu: '50m', memory: '16Mi' }, limits: { cpu: '0.5', memory: '64Mi' } });
    expect(container.readinessProbe).toMatchObject({ httpGet: { port: 9090 }, periodSeconds: 5, failureThreshold: 2, timeoutSeconds: 2 });
    expect(container.livenessProbe).toMatchObject({ httpGet: { port: 9090 }, periodSeconds: 20, failureThreshold: 4, timeoutSeconds: 2 });
    expect(podSpecOf(deployment).terminationGracePeriodSeconds).toBe(40);
    expect(podSpecOf(deployment)).not.toHaveProperty('topologySpreadConstraints');
    for (const object of objects) {
      expect(object.metadata.labels).toMatchObject({ 'example.com/team': 'edge', 'app.kubernetes.io/instance': 'edge-web' });
      expect(object.metadata.annotations).toEqual({ 'example.com/owner': 'edge-team@example.com' });
    }
    expect(deployment.spec.template.metadata.labels).toMatchObject({ 'example.com/team': 'edge', 'cdk8s.io/metadata.addr': 'edge-web' });
    expect(deployment.spec.template.metadata.annotations).toEqual({ 'example.com/scrape': 'false' });
    expect(pdb).toBeDefined();
    expect(service.url).toBe('http://edge-web.edge.svc');
  });

  it('puts the Service on its own port with servicePort', () => {
    const { service, svc } = synth({ servicePort: 80 });
    expect(svc.spec.ports).toEqual([{ name: 'http', port: 80, targetPort: 8080 }]);
    expect(service.url).toBe('http://asm-web-service');
  });

  it('gives the Service the container port when only containerPort changes', () => {
    expect(synth({ containerPort: 9000 }).svc.spec.ports).toEqual([{ name: 'http', port: 9000, targetPort: 9000 }]);
  });

  it("keeps a user's app.kubernetes.io/managed-by label", () => {
    // GIVEN a tool other than cdk8s named as the manager (as a Helm chart made by cdk8s does)
    const { objects, deployment } = synth({ labels: { 'app.kubernetes.io/managed-by': 'Helm' } });
    // THEN every object and the pods carry the user's value, not cdk8s
    for (const object of objects) expect(object.metadata.labels['app.kubernetes.io/managed-by']).toBe('Helm');
    expect(deployment.spec.template.metadata.labels['app.kubernetes.io/managed-by']).toBe('Helm');
  });

  it('derives the grace period from the drain period', () => {
    expect(podSpecOf(synth({ drainPeriod: Duration.seconds(30) }).deployment).terminationGracePeriodSeconds).toBe(45);
    expect(podSpecOf(synth({ drainPeriod: Duration.seconds(0) }).deployment).terminationGracePeriodSeconds).toBe(15);
  });

  it('takes durations, sizes and CPU in any unit that is whole in the one Kubernetes uses', () => {
    const { deployment } = synth({
      drainPeriod: Duration.minutes(1),
      readinessPeriod: Duration.millis(3000),
      memoryLimit: Size.gibibytes(1),
      cpuRequest: kplus.Cpu.units(1),
    });
    const container = containerOf(deployment);
    expect(container.env).toContainEqual({ name: 'DRAIN_SECONDS', value: '60' });
    expect(container.readinessProbe.periodSeconds).toBe(3);
    expect(container.resources).toEqual({ requests: { cpu: '1', memory: '8Mi' }, limits: { memory: '1024Mi' } });
  });

  it('supports a LoadBalancer Service', () => {
    expect(synth({ serviceType: kplus.ServiceType.LOAD_BALANCER }).svc.spec.type).toBe('LoadBalancer');
  });

  it('creates no PodDisruptionBudget and no spread for one replica unless asked', () => {
    const single = synth({ replicas: 1 });
    expect(single.pdb).toBeUndefined();
    expect(single.service.podDisruptionBudget).toBeUndefined();
    expect(podSpecOf(single.deployment)).not.toHaveProperty('topologySpreadConstraints');
    expect(synth({ replicas: 1, podDisruptionBudget: true }).pdb).toBeDefined();
    expect(synth({ replicas: 3, podDisruptionBudget: false }).pdb).toBeUndefined();
    expect(podSpecOf(synth({ replicas: 1, topologySpread: true }).deployment).topologySpreadConstraints).toHaveLength(1);
    expect(podSpecOf(synth({ replicas: 3, topologySpread: false }).deployment)).not.toHaveProperty('topologySpreadConstraints');
  });

  it('lets two instances live side by side under different names', () => {
    const chart = new Chart(Testing.app(), 'test');
    new AsmWebService(chart, 'blue', { image: IMAGE, name: 'blue' });
    new AsmWebService(chart, 'green', { image: IMAGE, name: 'green' });
    const selectors = Testing.synth(chart).filter((o) => o.kind === 'Service').map((o) => o.spec.selector['app.kubernetes.io/instance']);
    expect(selectors).toEqual(['blue', 'green']);
  });
});

describe('AsmWebService autoscaling', () => {
  it('scales the Deployment with an autoscaling/v2 HorizontalPodAutoscaler on CPU, Kubernetes-default behaviour', () => {
    const { service, deployment, hpa, pdb } = synth({ autoscaling: { maxReplicas: 10 } });
    // THEN the Deployment carries no count, and the autoscaler keeps 2 to 10 pods at 80% of the CPU request
    expect(deployment.spec).not.toHaveProperty('replicas');
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    expect(hpa.metadata).toMatchObject({ name: 'asm-web-service', labels: SELECTOR });
    expect(hpa.spec).toEqual({
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'asm-web-service' },
      minReplicas: 2,
      maxReplicas: 10,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }],
      behavior: {
        scaleUp: {
          stabilizationWindowSeconds: 0,
          selectPolicy: 'Max',
          policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }],
        },
        scaleDown: {
          stabilizationWindowSeconds: 300,
          selectPolicy: 'Max',
          policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }],
        },
      },
    });
    expect(service.horizontalPodAutoscaler?.maxReplicas).toBe(10);
    expect(pdb).toBeDefined();
    expect(podSpecOf(deployment).topologySpreadConstraints).toHaveLength(1);
  });

  it('takes the bounds, the target and the stabilisation windows', () => {
    const { hpa } = synth(NEIGHBOURS);
    expect(hpa.spec).toMatchObject({ minReplicas: 3, maxReplicas: 12 });
    expect(hpa.spec.metrics[0].resource.target.averageUtilization).toBe(60);
    expect(hpa.spec.behavior.scaleUp.stabilizationWindowSeconds).toBe(30);
    expect(hpa.spec.behavior.scaleDown.stabilizationWindowSeconds).toBe(120);
  });

  it('decides the PodDisruptionBudget and the spread by the most pods there can be', () => {
    const single = synth({ autoscaling: { minReplicas: 1, maxReplicas: 1 } });
    expect(single.pdb).toBeUndefined();
    expect(podSpecOf(single.deployment)).not.toHaveProperty('topologySpreadConstraints');
    const growing = synth({ autoscaling: { minReplicas: 1, maxReplicas: 4 } });
    expect(growing.pdb).toBeDefined();
    expect(podSpecOf(growing.deployment).topologySpreadConstraints).toHaveLength(1);
  });
});

describe('AsmWebService networkPolicy', () => {
  it('admits traffic to the pods only on the container port', () => {
    const { service, networkPolicy } = synth({ networkPolicy: true, containerPort: 9000, servicePort: 80 });
    expect(networkPolicy.apiVersion).toBe('networking.k8s.io/v1');
    expect(networkPolicy.metadata.name).toBe('asm-web-service');
    expect(networkPolicy.spec).toEqual({
      podSelector: { matchLabels: SELECTOR },
      policyTypes: ['Ingress'],
      ingress: [{ ports: [{ protocol: 'TCP', port: 9000 }] }],
    });
    expect(service.networkPolicy?.name).toBe('asm-web-service');
  });
});

describe('AsmWebService ingress', () => {
  it('routes a host and path prefix to the Service port, with the class and TLS asked for', () => {
    const { service, ingress } = synth(NEIGHBOURS);
    expect(ingress.apiVersion).toBe('networking.k8s.io/v1');
    expect(ingress.metadata).toMatchObject({ name: 'shop-web', namespace: 'shop' });
    expect(ingress.spec).toEqual({
      ingressClassName: 'nginx',
      rules: [{
        host: 'shop.example.com',
        http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'shop-web', port: { number: 8080 } } } }] },
      }],
      tls: [{ hosts: ['shop.example.com'], secretName: 'shop-tls' }],
    });
    expect(service.ingress?.name).toBe('shop-web');
  });

  it('leaves class, host and TLS to the cluster when not given', () => {
    expect(synth({ ingress: {} }).ingress.spec).toEqual({
      rules: [{ http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'asm-web-service', port: { number: 8080 } } } }] } }],
    });
  });
});

describe('AsmWebService httpRoute', () => {
  it('attaches a gateway.networking.k8s.io/v1 HTTPRoute to the named Gateway and routes to the Service port', () => {
    const { service, httpRoute } = synth(NEIGHBOURS);
    expect(httpRoute.apiVersion).toBe('gateway.networking.k8s.io/v1');
    expect(httpRoute.metadata).toMatchObject({ name: 'shop-web', namespace: 'shop' });
    expect(httpRoute.spec).toEqual({
      parentRefs: [{ name: 'public', namespace: 'gateways', sectionName: 'https' }],
      hostnames: ['shop.example.com', '*.shop.example.com'],
      rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: [{ name: 'shop-web', port: 8080 }] }],
    });
    expect(service.httpRoute?.kind).toBe('HTTPRoute');
  });

  it('needs only the Gateway name', () => {
    expect(synth({ httpRoute: { gatewayName: 'public' } }).httpRoute.spec).toEqual({
      parentRefs: [{ name: 'public' }],
      rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: [{ name: 'asm-web-service', port: 8080 }] }],
    });
  });
});

describe('an app composing with AsmWebService', () => {
  it('synthesizes the same objects, pod template included, wherever the construct sits in the app', () => {
    // GIVEN the same props (every neighbour) at the top of a chart and nested two levels down in another chart
    const flat = synth(NEIGHBOURS);
    const chart = new Chart(Testing.app(), 'elsewhere');
    new AsmWebService(new Construct(new Construct(chart, 'frontend'), 'tier'), 'server', { image: IMAGE, ...NEIGHBOURS });
    // THEN every object is identical, so `kubectl apply` after a move changes nothing and restarts no pod
    expect(Testing.synth(chart)).toEqual(flat.objects);
    // and the defaults too
    const defaults = new Chart(Testing.app(), 'other');
    new AsmWebService(new Construct(defaults, 'nested'), 'web', { image: IMAGE });
    expect(Testing.synth(defaults)).toEqual(synth().objects);
  });

  it('attaches its own cdk8s-plus HorizontalPodAutoscaler to the Deployment', () => {
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

  it("keeps cdk8s-plus selections of web.deployment pointed at the server's pods", () => {
    // GIVEN an app that selects the pods the cdk8s-plus way (by the workload, which uses cdk8s.io/metadata.addr)
    const chart = new Chart(Testing.app(), 'test');
    const web = new AsmWebService(chart, 'web', { image: IMAGE });
    new kplus.Service(chart, 'debug', { metadata: { name: 'debug' }, selector: web.deployment, ports: [{ port: 9000, targetPort: 8080 }] });
    const objects = Testing.synth(chart);
    const deployment = objects.find((object) => object.kind === 'Deployment');
    const debug = objects.find((object) => object.metadata.name === 'debug');
    // THEN that selector matches the pod template's labels
    expect(debug.spec.selector).toEqual({ 'cdk8s.io/metadata.addr': 'asm-web-service' });
    expect(deployment.spec.template.metadata.labels).toMatchObject(debug.spec.selector);
  });

  it("lets another workload's cdk8s-plus connections admit it as a peer", () => {
    // GIVEN a database the app isolates and opens to the server's pods with cdk8s-plus's connections API
    const chart = new Chart(Testing.app(), 'test');
    const web = new AsmWebService(chart, 'web', { image: IMAGE });
    const db = new kplus.Deployment(chart, 'db', { metadata: { name: 'db' }, isolate: true, containers: [{ image: 'postgres', portNumber: 5432 }] });
    db.connections.allowFrom(web.deployment);
    const policies = Testing.synth(chart).filter((object) => object.kind === 'NetworkPolicy');
    // THEN some policy admits the server's pods by their label
    const peers = policies.flatMap((policy) => policy.spec.ingress ?? []).flatMap((rule: any) => rule.from ?? []);
    expect(peers).toContainEqual(expect.objectContaining({ podSelector: { matchLabels: { 'cdk8s.io/metadata.addr': 'asm-web-service' } } }));
  });
});

describe('AsmWebService metrics', () => {
  const envOf = (deployment: any) => Object.fromEntries(containerOf(deployment).env.map((entry: any) => [entry.name, entry.value]));

  it('by default the server serves /metrics on the serving port, and nothing announces it', () => {
    const { service, deployment, svc, serviceMonitor } = synth();
    expect(service.metricsPort).toBe(8080);
    expect(envOf(deployment).METRICS_PORT).toBeUndefined();
    expect(deployment.spec.template.metadata.annotations).toBeUndefined();
    expect(svc.spec.ports).toHaveLength(1);
    expect(serviceMonitor).toBeUndefined();
  });

  it("'metrics: {}' adds the prometheus.io scrape annotations for the serving port, beside the app's own", () => {
    const { deployment, serviceMonitor } = synth({ metrics: {}, podAnnotations: { 'example.com/team': 'web' } });
    expect(deployment.spec.template.metadata.annotations).toEqual({
      'example.com/team': 'web',
      'prometheus.io/path': '/metrics',
      'prometheus.io/port': '8080',
      'prometheus.io/scrape': 'true',
    });
    expect(envOf(deployment).METRICS_PORT).toBeUndefined();
    expect(serviceMonitor).toBeUndefined();
  });

  it('a port of its own: METRICS_PORT, a container and Service port named metrics, the NetworkPolicy, the annotations and a ServiceMonitor', () => {
    const { service, deployment, svc, networkPolicy, serviceMonitor } = synth(NEIGHBOURS);
    expect(service.metricsPort).toBe(9100);
    expect(envOf(deployment).METRICS_PORT).toBe('9100');
    expect(containerOf(deployment).ports).toEqual([
      { containerPort: 8080, name: 'http' },
      { containerPort: 9100, name: 'metrics' },
    ]);
    expect(svc.spec.ports).toContainEqual({ name: 'metrics', port: 9100, targetPort: 9100 });
    expect(networkPolicy.spec.ingress[0].ports).toEqual([{ protocol: 'TCP', port: 8080 }, { protocol: 'TCP', port: 9100 }]);
    expect(deployment.spec.template.metadata.annotations['prometheus.io/port']).toBe('9100');
    expect(serviceMonitor.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(serviceMonitor.metadata).toMatchObject({ name: 'shop-web', namespace: 'shop' });
    expect(serviceMonitor.spec).toEqual({
      selector: { matchLabels: { 'app.kubernetes.io/instance': 'shop-web', 'app.kubernetes.io/name': 'asm-web-service' } },
      endpoints: [{ port: 'metrics', path: '/metrics', interval: '15s' }],
    });
    expect(service.serviceMonitor?.kind).toBe('ServiceMonitor');
  });

  it('a ServiceMonitor on the serving port scrapes the port named http, at the Prometheus interval', () => {
    const { serviceMonitor } = synth({ metrics: { serviceMonitor: true, scrapeAnnotations: false } });
    expect(serviceMonitor.spec.endpoints).toEqual([{ port: 'http', path: '/metrics' }]);
  });

  it('a port of its own is a port of a NodePort or LoadBalancer Service too, so it is exposed outside the cluster', () => {
    for (const serviceType of [kplus.ServiceType.NODE_PORT, kplus.ServiceType.LOAD_BALANCER]) {
      const { svc } = synth({ serviceType, metrics: { port: 9100 } });
      expect(svc.spec.type).toBe(serviceType);
      expect(svc.spec.ports).toEqual([
        { name: 'http', port: 8080, targetPort: 8080 },
        { name: 'metrics', port: 9100, targetPort: 9100 },
      ]);
    }
  });

  it("'metrics.port' may be 'servicePort' when that is 'containerPort', or 'containerPort' when 'servicePort' differs", () => {
    expect(synth({ servicePort: 8080, metrics: { port: 8080 } }).svc.spec.ports).toEqual([{ name: 'http', port: 8080, targetPort: 8080 }]);
    expect(synth({ servicePort: 80, metrics: { port: 8080 } }).svc.spec.ports).toEqual([{ name: 'http', port: 80, targetPort: 8080 }]);
  });

  it("'enabled: false' turns /metrics off (METRICS_PORT=0)", () => {
    const { service, deployment } = synth({ metrics: { enabled: false } });
    expect(envOf(deployment).METRICS_PORT).toBe('0');
    expect(service.metricsPort).toBeUndefined();
    expect(deployment.spec.template.metadata.annotations).toBeUndefined();
  });

  it.each([
    [{ enabled: false, serviceMonitor: true }, `'metrics.enabled' is false: 'metrics.serviceMonitor' has nothing to apply to`],
    [{ port: 80 }, `'metrics.port' must be an integer from 1024 to 65535`],
    [{ port: 8080.5 }, `'metrics.port' must be an integer from 1024 to 65535`],
    [{ scrapeInterval: Duration.seconds(30) }, `'metrics.scrapeInterval' is the ServiceMonitor's: it needs 'metrics.serviceMonitor' true`],
    [{ serviceMonitor: true, scrapeInterval: Duration.millis(500) }, `'metrics.scrapeInterval'`],
    [{ scrape: true }, `'metrics' has no setting "scrape"; known: enabled, port, scrapeAnnotations, serviceMonitor, scrapeInterval`],
    [null, `'metrics' must be an object, got null`],
    [{ enabled: 'false' }, `'metrics.enabled' must be a boolean, got "false"`],
    [{ scrapeAnnotations: 0 }, `'metrics.scrapeAnnotations' must be a boolean, got 0`],
    [{ serviceMonitor: 'false' }, `'metrics.serviceMonitor' must be a boolean, got "false"`],
  ])("rejects 'metrics' %j", (metrics, message) => {
    expect(() => synth({ metrics: metrics as any })).toThrow(message);
  });

  it("rejects a 'metrics.port' that is 'servicePort' while 'servicePort' is not 'containerPort' (two Service ports with one number)", () => {
    expect(() => synth({ servicePort: 9100, metrics: { port: 9100 } })).toThrow(
      `'metrics.port' cannot be 'servicePort' (9100) while 'containerPort' is 8080: the Service would have two ports 9100 ('http' and 'metrics'), ` +
        `which the API server rejects (set 'metrics.port' to another port, or to 'containerPort' to serve /metrics on the serving port)`,
    );
  });

  it('rejects podAnnotations that the scrape annotations would overwrite', () => {
    expect(() => synth({ metrics: {}, podAnnotations: { 'prometheus.io/scrape': 'false' } })).toThrow(
      `'podAnnotations' sets prometheus.io/scrape, which 'metrics.scrapeAnnotations' writes (set 'metrics.scrapeAnnotations' to false to write them yourself)`,
    );
    expect(() => synth({ metrics: { scrapeAnnotations: false }, podAnnotations: { 'prometheus.io/scrape': 'false' } })).not.toThrow();
  });
});

describe('AsmWebService accessLog', () => {
  it("'accessLog: true' has the server write its JSON access log (ACCESS_LOG=json), and changes nothing else", () => {
    const { deployment, objects } = synth({ accessLog: true });
    const { env } = containerOf(deployment);
    expect(env).toEqual([
      { name: 'PORT', value: '8080' },
      { name: 'DRAIN_SECONDS', value: '5' },
      { name: 'ACCESS_LOG', value: 'json' },
    ]);
    env.pop();
    expect(objects).toEqual(synth().objects);
  });

  it("'accessLog: false' writes the same manifest as leaving it unset: no ACCESS_LOG", () => {
    const { deployment, objects } = synth({ accessLog: false });
    expect(containerOf(deployment).env.map((entry: any) => entry.name)).toEqual(['PORT', 'DRAIN_SECONDS']);
    expect(objects).toEqual(synth().objects);
  });

  it("rejects an 'accessLog' that is not a boolean", () => {
    expect(() => synth({ accessLog: 'true' as any })).toThrow(`'accessLog' must be a boolean, got "true"`);
  });

  it("rejects a 'networkPolicy', 'podDisruptionBudget' or 'topologySpread' that is not a boolean ('false' would turn it on)", () => {
    expect(() => synth({ networkPolicy: 'false' as any })).toThrow(`'networkPolicy' must be a boolean, got "false"`);
    expect(() => synth({ podDisruptionBudget: 0 as any })).toThrow(`'podDisruptionBudget' must be a boolean, got 0`);
    expect(() => synth({ topologySpread: null as any })).toThrow(`'topologySpread' must be a boolean, got null`);
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

  it('rejects a prop of the first version, naming its replacement', () => {
    expect(() => synth({ readinessPeriodSeconds: 5 } as any)).toThrow(`'readinessPeriodSeconds' is no longer a prop: use 'readinessPeriod' (a Duration)`);
    expect(() => synth({ memoryLimitMiB: 64 } as any)).toThrow(`'memoryLimitMiB' is no longer a prop: use 'memoryLimit' (a Size)`);
  });

  it("accepts an app's own props beside the construct's, as a subclass passes them on", () => {
    expect(synth({ team: 'shop' } as any).objects).toEqual(synth().objects);
  });

  it.each([
    ['autoscaling', { maxReplicas: 3, maxReplica: 4 }, 'maxReplica', 'minReplicas, maxReplicas, '],
    ['ingress', { hosts: ['a.example.com'] }, 'hosts', 'className, host, path, tlsSecretName'],
    ['httpRoute', { gatewayName: 'g', hostname: 'a.example.com' }, 'hostname', 'gatewayName, gatewayNamespace, '],
  ])("rejects a setting '%s' does not have", (prop, value, key, known) => {
    expect(() => synth({ [prop]: value } as any)).toThrow(`'${prop}' has no setting "${key}"; known: ${known}`);
  });

  it('rejects missing props', () => {
    expect(() => new AsmWebService(new Chart(Testing.app(), 'test'), 'web', undefined as any)).toThrow(
      "'props' must be an object with at least 'image', got undefined",
    );
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

  it("rejects a 'serviceType' of ExternalName", () => {
    expect(() => synth({ serviceType: kplus.ServiceType.EXTERNAL_NAME })).toThrow(
      `'serviceType' must be ServiceType.CLUSTER_IP, NODE_PORT or LOAD_BALANCER, got "ExternalName"`,
    );
  });

  it("rejects a 'nodePort' on a ClusterIP Service", () => {
    expect(() => synth({ nodePort: 30080 })).toThrow("'nodePort' needs 'serviceType' NODE_PORT or LOAD_BALANCER, got 'serviceType' CLUSTER_IP");
  });

  it("rejects a 'nodePort' out of range", () => {
    expect(() => synth({ serviceType: kplus.ServiceType.NODE_PORT, nodePort: 0 })).toThrow("'nodePort' must be an integer from 1 to 65535, got 0");
  });

  it("rejects a 'cpuRequest' below one millicore", () => {
    expect(() => synth({ cpuRequest: kplus.Cpu.millis(0) })).toThrow("'cpuRequest' must be a whole number of millicores from 1 to 1000000, got 0m");
    expect(() => synth({ cpuRequest: kplus.Cpu.units(0.0005) })).toThrow("'cpuRequest' must be a whole number of millicores from 1 to 1000000, got 0.0005");
  });

  it("rejects a 'cpuRequest' that is not a Cpu", () => {
    expect(() => synth({ cpuRequest: 10 as any })).toThrow("'cpuRequest' must be a Cpu (e.g. Cpu.millis(1)), got 10");
  });

  it("rejects a 'cpuLimit' below the request", () => {
    expect(() => synth({ cpuRequest: kplus.Cpu.millis(100), cpuLimit: kplus.Cpu.millis(50) })).toThrow(
      "'cpuLimit' must be a whole number of millicores from 100 to 1000000 (at least 'cpuRequest'), got 50m",
    );
  });

  it("rejects a 'memoryRequest' of 0 or a fraction of a mebibyte", () => {
    expect(() => synth({ memoryRequest: Size.mebibytes(0) })).toThrow("'memoryRequest' must be a whole number of mebibytes from 1 to 1048576, got 0 MiB");
    expect(() => synth({ memoryRequest: Size.kibibytes(1536) })).toThrow("'memoryRequest' must be a whole number of mebibytes from 1 to 1048576, got 1.5 MiB");
  });

  it("rejects a 'memoryRequest' that is not a Size", () => {
    expect(() => synth({ memoryRequest: 8 as any })).toThrow("'memoryRequest' must be a Size (e.g. Size.mebibytes(1)), got 8");
  });

  it("rejects a 'memoryLimit' below the request", () => {
    expect(() => synth({ memoryRequest: Size.mebibytes(300) })).toThrow(
      "'memoryLimit' must be a whole number of mebibytes from 300 to 1048576 (at least 'memoryRequest'), got 256 MiB",
    );
  });

  it.each(['readinessPeriod', 'livenessPeriod', 'probeTimeout'] as const)("rejects a '%s' of 0 or a fraction of a second", (prop) => {
    expect(() => synth({ [prop]: Duration.seconds(0) })).toThrow(`'${prop}' must be a whole number of seconds from 1 to 3600, got 0 s`);
    expect(() => synth({ [prop]: Duration.millis(1500) })).toThrow(`'${prop}' must be a whole number of seconds from 1 to 3600, got 1.5 s`);
  });

  it("rejects a 'readinessPeriod' that is not a Duration", () => {
    expect(() => synth({ readinessPeriod: 2 as any })).toThrow("'readinessPeriod' must be a Duration (e.g. Duration.seconds(1)), got 2");
  });

  it.each(['readinessFailureThreshold', 'livenessFailureThreshold'] as const)("rejects a '%s' of 0", (prop) => {
    expect(() => synth({ [prop]: 0 })).toThrow(`'${prop}' must be an integer from 1 to 1000, got 0`);
  });

  it("rejects a 'drainPeriod' beyond the server's 3600 s", () => {
    expect(() => synth({ drainPeriod: Duration.seconds(3601) })).toThrow("'drainPeriod' must be a whole number of seconds from 0 to 3600, got 3601 s");
  });

  it("rejects a 'terminationGracePeriod' that ends the drain early", () => {
    expect(() => synth({ drainPeriod: Duration.seconds(30), terminationGracePeriod: Duration.seconds(30) })).toThrow(
      "'terminationGracePeriod' must be a whole number of seconds from 31 to 1000000 (longer than 'drainPeriod' 30 s, else the server is killed mid-drain), got 30 s",
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

  it("rejects 'replicas' with 'autoscaling'", () => {
    expect(() => synth({ replicas: 3, autoscaling: { maxReplicas: 5 } })).toThrow(
      "'replicas' cannot be set with 'autoscaling', whose autoscaler sets the number of pods (use 'autoscaling.minReplicas')",
    );
  });

  it("rejects an 'autoscaling.maxReplicas' below the minimum", () => {
    expect(() => synth({ autoscaling: { maxReplicas: 1 } })).toThrow(
      "'autoscaling.maxReplicas' must be an integer from 2 to 1000000 (at least 'autoscaling.minReplicas'), got 1",
    );
  });

  it("rejects an 'autoscaling.minReplicas' of 0", () => {
    expect(() => synth({ autoscaling: { minReplicas: 0, maxReplicas: 3 } })).toThrow("'autoscaling.minReplicas' must be an integer from 1 to 1000000, got 0");
  });

  it("rejects an 'autoscaling.targetCpuUtilizationPercent' of 0", () => {
    expect(() => synth({ autoscaling: { maxReplicas: 3, targetCpuUtilizationPercent: 0 } })).toThrow(
      "'autoscaling.targetCpuUtilizationPercent' must be an integer from 1 to 1000, got 0",
    );
  });

  it("rejects an 'autoscaling.scaleDownStabilization' over an hour", () => {
    expect(() => synth({ autoscaling: { maxReplicas: 3, scaleDownStabilization: Duration.minutes(61) } })).toThrow(
      "'autoscaling.scaleDownStabilization' must be a whole number of seconds from 0 to 3600, got 3660 s",
    );
  });

  it("rejects an 'ingress.host' that is not a host name", () => {
    expect(() => synth({ ingress: { host: '10.0.0.1:80' } })).toThrow(
      `'ingress.host' must be a host name (a DNS-1123 subdomain, optionally starting with '*.', not an IP address), got "10.0.0.1:80"`,
    );
  });

  it("rejects an IP address as 'ingress.host' or in 'httpRoute.hostnames'", () => {
    expect(() => synth({ ingress: { host: '10.0.0.1' } })).toThrow(`'ingress.host' must be a host name (a DNS-1123 subdomain, optionally starting with '*.', not an IP address), got "10.0.0.1"`);
    expect(() => synth({ httpRoute: { gatewayName: 'g', hostnames: ['192.168.1.1'] } })).toThrow(`'httpRoute.hostnames[0]' must be a host name`);
  });

  it("rejects an invalid 'ingress.className'", () => {
    expect(() => synth({ ingress: { className: 'Nginx' } })).toThrow(`'ingress.className' must be a DNS-1123 subdomain`);
  });

  it.each(['shop', '/a//b', '/a/./b', '/a/../b', '/a%2Fb', '/a/..', '/a/.', '/a b', '/a?b', '/a#b', '/%zz'])(
    "rejects an 'ingress.path' or 'httpRoute.path' of %j",
    (path) => {
      const message = `must be a URL path starting with '/' (at most 1024 characters of A-Z a-z 0-9 - . _ ~ ! $ & ' ( ) * + , ; = : @ / or %XX; no '//', '/./', '/../' or '%2F'; not ending in '/.' or '/..'), got ${JSON.stringify(path)}`;
      expect(() => synth({ ingress: { path } })).toThrow(`'ingress.path' ${message}`);
      expect(() => synth({ httpRoute: { gatewayName: 'g', path } })).toThrow(`'httpRoute.path' ${message}`);
    },
  );

  it("accepts an 'ingress.path' or 'httpRoute.path' with escapes and sub-delimiters", () => {
    expect(synth({ ingress: { path: '/shop/%C3%A9t%C3%A9;v=1' } }).ingress.spec.rules[0].http.paths[0].path).toBe('/shop/%C3%A9t%C3%A9;v=1');
    expect(synth({ httpRoute: { gatewayName: 'g', path: "/a-b_c.d~e!f$g&h'i(j)k*l+m,n=o:p@q" } }).httpRoute).toBeDefined();
  });

  it("rejects an 'ingress.tlsSecretName' without a host", () => {
    expect(() => synth({ ingress: { tlsSecretName: 'tls' } })).toThrow(`'ingress.tlsSecretName' needs 'ingress.host': a certificate is for named hosts`);
  });

  it("rejects an invalid 'httpRoute.gatewayName'", () => {
    expect(() => synth({ httpRoute: { gatewayName: 'Public Gateway' } })).toThrow(`'httpRoute.gatewayName' must be a DNS-1123 subdomain`);
  });

  it("rejects an invalid 'httpRoute.gatewayNamespace'", () => {
    expect(() => synth({ httpRoute: { gatewayName: 'public', gatewayNamespace: 'a.b' } })).toThrow(`'httpRoute.gatewayNamespace' must be a DNS-1123 label`);
  });

  it("rejects an invalid 'httpRoute.sectionName'", () => {
    expect(() => synth({ httpRoute: { gatewayName: 'public', sectionName: 'HTTPS' } })).toThrow(`'httpRoute.sectionName' must be a DNS-1123 subdomain`);
  });

  it("rejects 'httpRoute.hostnames' empty, too many or invalid", () => {
    expect(() => synth({ httpRoute: { gatewayName: 'g', hostnames: [] } })).toThrow(`'httpRoute.hostnames' must list 1 to 16 host names, got []`);
    const many = Array.from({ length: 17 }, (_, i) => `h${i}.example.com`);
    expect(() => synth({ httpRoute: { gatewayName: 'g', hostnames: many } })).toThrow(`'httpRoute.hostnames' must list 1 to 16 host names`);
    expect(() => synth({ httpRoute: { gatewayName: 'g', hostnames: ['ok.example.com', 'a..b'] } })).toThrow(`'httpRoute.hostnames[1]' must be a host name`);
  });

  it("rejects a second instance with the same 'name' in the same namespace", () => {
    const chart = new Chart(Testing.app(), 'test');
    new AsmWebService(chart, 'first', { image: IMAGE });
    expect(() => new AsmWebService(chart, 'second', { image: IMAGE })).toThrow(
      `'name' "asm-web-service" is already used by the AsmWebService at test/first; give each instance its own 'name'`,
    );
  });
});
