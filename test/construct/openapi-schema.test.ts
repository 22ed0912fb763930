/**
 * Every object AsmWebService synthesizes validates against the schema of the API version it claims: the Kubernetes
 * OpenAPI schema (upstream's spec from the k8s.io/kubernetes Go module, see kubernetes-openapi.ts), and for the
 * HTTPRoute the Gateway API CRD of the first release that serves gateway.networking.k8s.io/v1 and of a current one
 * (from the sigs.k8s.io/gateway-api Go module), and for the ServiceMonitor the Prometheus Operator's CRD (from its
 * Go module), for the defaults and every shape of the construct; and the check itself catches the mistakes it is
 * there for.
 */
import { Chart, Duration, Size, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { beforeAll, describe, expect, it } from 'vitest';
import { AsmWebService, type AsmWebServiceProps } from '../../lib/index.js';
import {
  GATEWAY_API_VERSIONS, KUBERNETES_SCHEMA_VERSION, KubernetesSchemaValidator, PROMETHEUS_OPERATOR_VERSION, gatewayApiCrdFiles,
  openApiSpecDir, serviceMonitorCrdFile,
} from './kubernetes-openapi.js';

const IMAGE = `127.0.0.1:5000/asm-web-service@sha256:${'f'.repeat(64)}`;

/** One validator per Gateway API release, each with the same Kubernetes spec. */
let validators: Map<string, KubernetesSchemaValidator>;
let validator: KubernetesSchemaValidator;

beforeAll(() => {
  const specDir = openApiSpecDir();
  const serviceMonitor = serviceMonitorCrdFile();
  validators = new Map(
    GATEWAY_API_VERSIONS.map((version) => [version, new KubernetesSchemaValidator(specDir, [...gatewayApiCrdFiles(version), serviceMonitor])]),
  );
  validator = validators.get(GATEWAY_API_VERSIONS[0])!;
});

function synth(props: Partial<AsmWebServiceProps> = {}, chartNamespace?: string) {
  const chart = new Chart(Testing.app(), 'test', { namespace: chartNamespace });
  new AsmWebService(chart, 'web', { image: IMAGE, ...props });
  return Testing.synth(chart);
}

describe(`objects validate against the Kubernetes ${KUBERNETES_SCHEMA_VERSION}, Gateway API ${GATEWAY_API_VERSIONS.join(', ')} and Prometheus Operator ${PROMETHEUS_OPERATOR_VERSION} schemas`, () => {
  it.each<[string, Partial<AsmWebServiceProps>, string[], string?]>([
    ['the defaults', {}, ['Deployment', 'Service', 'PodDisruptionBudget']],
    ['a chart namespace', {}, ['Deployment', 'Service', 'PodDisruptionBudget'], 'web'],
    ['one replica without a PodDisruptionBudget or spread', { replicas: 1 }, ['Deployment', 'Service']],
    ['a NodePort Service with a fixed port', { serviceType: kplus.ServiceType.NODE_PORT, nodePort: 30080 }, ['Deployment', 'Service', 'PodDisruptionBudget']],
    [
      'a LoadBalancer Service',
      { serviceType: kplus.ServiceType.LOAD_BALANCER, annotations: { 'example.com/lb': 'internal' } },
      ['Deployment', 'Service', 'PodDisruptionBudget'],
    ],
    [
      'every core prop customized',
      {
        name: 'edge-web', namespace: 'edge', replicas: 3, containerPort: 9090, servicePort: 80, cpuRequest: kplus.Cpu.millis(50),
        cpuLimit: kplus.Cpu.units(0.5), memoryRequest: Size.mebibytes(16), memoryLimit: Size.gibibytes(1),
        readinessPeriod: Duration.seconds(5), readinessFailureThreshold: 2, livenessPeriod: Duration.seconds(20),
        livenessFailureThreshold: 4, probeTimeout: Duration.seconds(2), drainPeriod: Duration.seconds(10),
        terminationGracePeriod: Duration.seconds(40), labels: { 'example.com/team': 'edge' },
        podAnnotations: { 'example.com/scrape': 'false' }, topologySpread: false, accessLog: true,
      },
      ['Deployment', 'Service', 'PodDisruptionBudget'],
    ],
    ['autoscaling with the defaults', { autoscaling: { maxReplicas: 5 } }, ['Deployment', 'Service', 'PodDisruptionBudget', 'HorizontalPodAutoscaler']],
    [
      'autoscaling with every setting',
      { autoscaling: { minReplicas: 1, maxReplicas: 20, targetCpuUtilizationPercent: 250, scaleUpStabilization: Duration.seconds(10), scaleDownStabilization: Duration.hours(1) } },
      ['Deployment', 'Service', 'PodDisruptionBudget', 'HorizontalPodAutoscaler'],
    ],
    ['a NetworkPolicy', { networkPolicy: true, containerPort: 9000 }, ['Deployment', 'Service', 'PodDisruptionBudget', 'NetworkPolicy']],
    ['an Ingress with the defaults', { ingress: {} }, ['Deployment', 'Service', 'PodDisruptionBudget', 'Ingress']],
    ['metrics on the serving port with a ServiceMonitor', { metrics: { serviceMonitor: true } }, ['Deployment', 'Service', 'PodDisruptionBudget', 'ServiceMonitor']],
    [
      'metrics on a port of their own, with every setting and a NetworkPolicy',
      { metrics: { port: 9100, serviceMonitor: true, scrapeInterval: Duration.seconds(30) }, networkPolicy: true, namespace: 'shop' },
      ['Deployment', 'Service', 'PodDisruptionBudget', 'NetworkPolicy', 'ServiceMonitor'],
    ],
    ['metrics turned off', { metrics: { enabled: false } }, ['Deployment', 'Service', 'PodDisruptionBudget']],
    [
      'an Ingress with every setting',
      { ingress: { className: 'nginx', host: '*.shop.example.com', path: '/shop/%C3%A9t%C3%A9;v=1', tlsSecretName: 'shop-tls' } },
      ['Deployment', 'Service', 'PodDisruptionBudget', 'Ingress'],
    ],
    ['an HTTPRoute with the defaults', { httpRoute: { gatewayName: 'public' } }, ['Deployment', 'Service', 'PodDisruptionBudget', 'HTTPRoute']],
    [
      'an HTTPRoute with every setting',
      {
        httpRoute: {
          gatewayName: 'public', gatewayNamespace: 'gateways', sectionName: 'https', path: "/shop/%C3%A9t%C3%A9;v=1@x:y",
          hostnames: Array.from({ length: 16 }, (_, i) => (i === 0 ? '*.example.com' : `h${i}.example.com`)),
        },
      },
      ['Deployment', 'Service', 'PodDisruptionBudget', 'HTTPRoute'],
    ],
  ])('%s', (_case, props, kinds, chartNamespace) => {
    const objects = synth(props, chartNamespace);
    expect(objects.map((object) => object.kind)).toEqual(kinds);
    for (const [version, each] of validators) expect(each.validate(objects), `Gateway API ${version}`).toEqual([]);
  });
});

describe('the schema check catches', () => {
  // Each case breaks one field of the default manifest the way a wrong construct would.
  const broken = (mutate: (objects: any[]) => void) => {
    const objects = structuredClone(synth());
    mutate(objects);
    return validator.validate(objects);
  };

  it('a misspelled field (strict, like kubectl apply)', () => {
    expect(broken(([deployment]) => { deployment.spec.template.spec.containers[0].imagePullpolicy = 'Always'; }))
      .toEqual([{ object: 'apps/v1 Deployment asm-web-service', message: '/spec/template/spec/containers/0 must NOT have additional properties (imagePullpolicy)' }]);
  });

  it('a value of the wrong type', () => {
    expect(broken(([deployment]) => { deployment.spec.replicas = '2'; }))
      .toEqual([{ object: 'apps/v1 Deployment asm-web-service', message: '/spec/replicas must be integer' }]);
  });

  it('a missing required field', () => {
    expect(broken(([, service]) => { delete service.spec.ports[0].port; }))
      .toEqual([{ object: 'v1 Service asm-web-service', message: "/spec/ports/0 must have required property 'port'" }]);
  });

  it('an int32 out of range', () => {
    expect(broken(([, service]) => { service.spec.ports[0].port = 2 ** 31; }))
      .toEqual([{ object: 'v1 Service asm-web-service', message: '/spec/ports/0/port must match format "int32"' }]);
  });

  it('a repeated key in a list-type map', () => {
    expect(broken(([deployment]) => { deployment.spec.template.spec.containers[0].env.push({ name: 'PORT', value: '1' }); }))
      .toEqual([{ object: 'apps/v1 Deployment asm-web-service', message: '/spec/template/spec/containers/0/env must pass "x-kubernetes-list-map-keys" keyword validation' }]);
  });

  it("two Service ports with one number (what 'metrics.port' equal to a 'servicePort' other than 'containerPort' would make)", () => {
    expect(broken(([, service]) => { service.spec.ports.push({ name: 'metrics', port: 8080, targetPort: 9100 }); }))
      .toEqual([{ object: 'v1 Service asm-web-service', message: '/spec/ports must pass "x-kubernetes-list-map-keys" keyword validation' }]);
  });

  it('a kind the claimed API version does not serve', () => {
    expect(broken(([, , pdb]) => { pdb.apiVersion = 'policy/v1beta1'; }))
      .toEqual([{ object: 'policy/v1beta1 PodDisruptionBudget asm-web-service', message: 'no schema for apiVersion policy/v1beta1 kind PodDisruptionBudget' }]);
  });
});

describe('the custom resource check catches', () => {
  const brokenRoute = (mutate: (route: any) => void) => {
    const objects = structuredClone(synth({ httpRoute: { gatewayName: 'public' } }));
    const route = objects.find((object) => object.kind === 'HTTPRoute');
    mutate(route);
    return validator.validate([route]);
  };

  it('a field the HTTPRoute CRD does not have', () => {
    expect(brokenRoute((route) => { route.spec.rules[0].backendRefs[0].weigth = 1; }))
      .toEqual([{ object: 'gateway.networking.k8s.io/v1 HTTPRoute asm-web-service', message: '/spec/rules/0/backendRefs/0 must NOT have additional properties (weigth)' }]);
  });

  it('a value outside the CRD enum', () => {
    expect(brokenRoute((route) => { route.spec.rules[0].matches[0].path.type = 'Prefix'; }))
      .toEqual([{ object: 'gateway.networking.k8s.io/v1 HTTPRoute asm-web-service', message: '/spec/rules/0/matches/0/path/type must be equal to one of the allowed values' }]);
  });

  it('invalid metadata, checked as ObjectMeta', () => {
    expect(brokenRoute((route) => { route.metadata.labels = 'x'; }))
      .toEqual([{ object: 'gateway.networking.k8s.io/v1 HTTPRoute asm-web-service', message: '/metadata/labels must be object' }]);
  });

  it("a CEL rule of the CRD: a path with '//'", () => {
    expect(brokenRoute((route) => { route.spec.rules[0].matches[0].path.value = '/a//b'; }))
      .toEqual([{ object: 'gateway.networking.k8s.io/v1 HTTPRoute asm-web-service', message: "/spec/rules/0/matches/0/path must not contain '//' when type one of ['Exact', 'PathPrefix']" }]);
  });

  it('a CEL rule that needs the schema defaults: a Service backend without a port', () => {
    // group and kind are left out, so only the CRD's defaults ('' and Service) make this a Service reference
    expect(brokenRoute((route) => { delete route.spec.rules[0].backendRefs[0].port; }))
      .toEqual([{ object: 'gateway.networking.k8s.io/v1 HTTPRoute asm-web-service', message: '/spec/rules/0/backendRefs/0 Must have port for Service reference' }]);
  });

  it('a CEL rule over a list: two parentRefs to the same Gateway listener', () => {
    expect(brokenRoute((route) => { route.spec.parentRefs.push({ ...route.spec.parentRefs[0] }); }))
      .toEqual([{ object: 'gateway.networking.k8s.io/v1 HTTPRoute asm-web-service', message: '/spec/parentRefs sectionName must be unique when parentRefs includes 2 or more references to the same parent' }]);
  });

  it('an API version the CRD does not serve', () => {
    expect(brokenRoute((route) => { route.apiVersion = 'gateway.networking.k8s.io/v2'; }))
      .toEqual([{ object: 'gateway.networking.k8s.io/v2 HTTPRoute asm-web-service', message: 'no schema for apiVersion gateway.networking.k8s.io/v2 kind HTTPRoute' }]);
  });
});

describe('the ServiceMonitor check catches', () => {
  const brokenMonitor = (mutate: (monitor: any) => void) => {
    const objects = structuredClone(synth({ metrics: { serviceMonitor: true, scrapeInterval: Duration.seconds(15) } }));
    const monitor = objects.find((object) => object.kind === 'ServiceMonitor');
    mutate(monitor);
    return validator.validate([monitor]);
  };

  it('a field the ServiceMonitor CRD does not have', () => {
    expect(brokenMonitor((monitor) => { monitor.spec.endpoints[0].scrapeIntervall = '15s'; }))
      .toEqual([{ object: 'monitoring.coreos.com/v1 ServiceMonitor asm-web-service', message: '/spec/endpoints/0 must NOT have additional properties (scrapeIntervall)' }]);
  });

  it('an interval that is not a Prometheus duration', () => {
    const errors = brokenMonitor((monitor) => { monitor.spec.endpoints[0].interval = '15 seconds'; });
    expect(errors).toHaveLength(1);
    expect(errors[0].message).toMatch(/^\/spec\/endpoints\/0\/interval must match pattern/);
  });
});
