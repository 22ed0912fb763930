/**
 * imports/k8s.ts: the Kubernetes API objects an app adds beside AsmWebService (here the Namespace that enforces
 * Pod Security "restricted", which users otherwise write by hand) synthesize to objects the API server accepts.
 */
import { Chart, Testing } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { KubeNamespace } from '../../imports/k8s.js';
import { AsmWebService } from '../../lib/index.js';
import { KubernetesSchemaValidator, openApiSpecDir } from './kubernetes-openapi.js';

describe('imports/k8s', () => {
  it('gives an app the Namespace for the construct, and both validate against the schema', () => {
    // GIVEN a chart in a namespace that enforces Pod Security "restricted"
    const chart = new Chart(Testing.app(), 'app', { namespace: 'web' });
    new KubeNamespace(chart, 'namespace', {
      metadata: { name: 'web', labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } },
    });
    new AsmWebService(chart, 'server', { image: `127.0.0.1:5000/asm-web-service@sha256:${'a'.repeat(64)}` });

    // WHEN it is synthesized
    const manifests = Testing.synth(chart);

    // THEN the namespace carries the label, and every object is valid for its API version
    const namespace = manifests.find((object) => object.kind === 'Namespace');
    expect(namespace?.metadata.labels['pod-security.kubernetes.io/enforce']).toBe('restricted');
    expect(manifests.map((object) => object.kind).sort()).toEqual(['Deployment', 'Namespace', 'PodDisruptionBudget', 'Service']);
    expect(new KubernetesSchemaValidator(openApiSpecDir()).validate(manifests)).toEqual([]);
  });
});
