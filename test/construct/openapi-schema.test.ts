/**
 * Every object AsmWebService synthesizes validates against the Kubernetes OpenAPI schema of the API version it
 * claims (upstream's spec from the k8s.io/kubernetes Go module, see kubernetes-openapi.ts), for the defaults and
 * for every shape of the construct; and the check itself catches the mistakes it is there for.
 */
import { Chart, Testing } from 'cdk8s';
import { beforeAll, describe, expect, it } from 'vitest';
import { AsmWebService, type AsmWebServiceProps } from '../../lib/index.js';
import { KUBERNETES_SCHEMA_VERSION, KubernetesSchemaValidator, openApiSpecDir } from './kubernetes-openapi.js';

const IMAGE = `127.0.0.1:5000/asm-web-service@sha256:${'f'.repeat(64)}`;

let validator: KubernetesSchemaValidator;

beforeAll(() => {
  validator = new KubernetesSchemaValidator(openApiSpecDir());
});

function synth(props: Partial<AsmWebServiceProps> = {}, chartNamespace?: string) {
  const chart = new Chart(Testing.app(), 'test', { namespace: chartNamespace });
  new AsmWebService(chart, 'web', { image: IMAGE, ...props });
  return Testing.synth(chart);
}

describe(`objects validate against the Kubernetes ${KUBERNETES_SCHEMA_VERSION} OpenAPI schema`, () => {
  it.each<[string, Partial<AsmWebServiceProps>, string?]>([
    ['the defaults', {}],
    ['a chart namespace', {}, 'web'],
    ['one replica without a PodDisruptionBudget', { replicas: 1 }],
    ['a NodePort Service with a fixed port', { serviceType: 'NodePort', nodePort: 30080 }],
    ['a LoadBalancer Service', { serviceType: 'LoadBalancer', annotations: { 'example.com/lb': 'internal' } }],
    [
      'every prop customized',
      {
        name: 'edge-web', namespace: 'edge', replicas: 3, containerPort: 9090, servicePort: 8080, cpuRequestMillis: 50,
        cpuLimitMillis: 500, memoryRequestMiB: 16, memoryLimitMiB: 64, readinessPeriodSeconds: 5,
        readinessFailureThreshold: 2, livenessPeriodSeconds: 20, livenessFailureThreshold: 4, probeTimeoutSeconds: 2,
        drainSeconds: 10, terminationGracePeriodSeconds: 40, labels: { 'example.com/team': 'edge' },
        podAnnotations: { 'example.com/scrape': 'false' },
      },
    ],
  ])('%s', (_case, props, chartNamespace) => {
    const objects = synth(props, chartNamespace);
    expect(objects.length).toBeGreaterThanOrEqual(2);
    expect(validator.validate(objects)).toEqual([]);
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

  it('a kind the claimed API version does not serve', () => {
    expect(broken(([, , pdb]) => { pdb.apiVersion = 'policy/v1beta1'; }))
      .toEqual([{ object: 'policy/v1beta1 PodDisruptionBudget asm-web-service', message: 'no schema for apiVersion policy/v1beta1 kind PodDisruptionBudget' }]);
  });
});
